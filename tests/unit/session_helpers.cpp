#include "session_helpers.h"

#include <catch2/catch.hpp>

#include "npz_reader.h"
#include "test_support.h"

namespace session_testing {

ModelPtr open_golden_model(const std::string& name, const char* backend) {
    dsv4_model_params p;
    dsv4_model_params_init(&p);
    p.backend = backend;
    dsv4_model* m = nullptr;
    const std::string dir = testing_support::conformance_dir() + "/golden/" + name + "/model";
    INFO(dsv4_last_error());
    REQUIRE(dsv4_model_open(dir.c_str(), &p, &m) == DSV4_STATUS_OK);
    return ModelPtr(m);
}

int vocab_size(dsv4_model* m) {
    dsv4_model_info info;
    info.struct_size = sizeof info;
    REQUIRE(dsv4_model_get_info(m, &info) == DSV4_STATUS_OK);
    return info.vocab_size;
}

std::vector<int32_t> golden_tokens(const std::string& name) {
    auto g = npz::load_npz(testing_support::conformance_dir() + "/golden/" + name + "/golden.npz");
    return g.at("tokens").as_int32();
}

SessionPtr make_session(dsv4_model* m, const dsv4_session_params& p) {
    dsv4_session* s = nullptr;
    INFO(dsv4_last_error());
    REQUIRE(dsv4_session_create(m, &p, &s) == DSV4_STATUS_OK);
    return SessionPtr(s);
}

SessionPtr make_session(dsv4_model* m, uint64_t n_ctx, uint32_t chunk) {
    dsv4_session_params p;
    dsv4_session_params_init(&p);
    if (n_ctx) p.n_ctx = n_ctx;
    if (chunk) p.prefill_chunk = chunk;
    return make_session(m, p);
}

std::vector<float> logits_of(dsv4_session* s, int vocab) {
    const float* l = dsv4_session_logits(s);
    REQUIRE(l != nullptr);
    return std::vector<float>(l, l + vocab);
}

}  // namespace session_testing
