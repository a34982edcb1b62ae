// Closing a model while its sessions are open must not free what they use.
#include <catch2/catch.hpp>

#include <vector>

#include "dsv4/dsv4.h"
#include "test_support.h"

using namespace testing_support;

TEST_CASE("a session outlives dsv4_model_close of its model", "[session][abi]") {
    const std::string dir = conformance_dir() + "/golden/tiny-s4/model";
    dsv4_model* model = nullptr;
    REQUIRE(dsv4_model_open(dir.c_str(), nullptr, &model) == DSV4_STATUS_OK);
    dsv4_session* a = nullptr;
    dsv4_session* b = nullptr;
    REQUIRE(dsv4_session_create(model, nullptr, &a) == DSV4_STATUS_OK);
    REQUIRE(dsv4_session_create(model, nullptr, &b) == DSV4_STATUS_OK);
    const int32_t prompt[] = {5, 6, 7, 8, 9};
    REQUIRE(dsv4_session_prefill(a, prompt, 5) == DSV4_STATUS_OK);
    std::vector<float> before(dsv4_session_logits(a), dsv4_session_logits(a) + 1024);

    dsv4_model_close(model);  // sessions still open: the weights must stay mapped

    REQUIRE(dsv4_session_prefill(b, prompt, 5) == DSV4_STATUS_OK);
    std::vector<float> after(dsv4_session_logits(b), dsv4_session_logits(b) + 1024);
    CHECK(after == before);
    REQUIRE(dsv4_decode_step(a, 11) == DSV4_STATUS_OK);
    dsv4_session_destroy(a);
    dsv4_session_destroy(b);  // the last one frees the model
}
