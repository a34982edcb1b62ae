// `dsv4 bench` times speculative decoding against plain decoding on a model with a trained MTP
// block and reports the acceptance and tokens per main-model pass.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "test_support.h"

TEST_CASE("dsv4 bench --json reports MTP acceptance, tokens per pass and the speculative speedup",
          "[cli][bench][speculative]") {
    const std::string model = "'" + std::string(DSV4_SOURCE_DIR) + "/models/dsv4-tiny-code'";
    auto r = testing_support::run_cli("bench -m " + model + " --prompt 20 --gen 40 --threads 2 --bw-mb 32 --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const size_t nl = r.out.find_last_of('\n', r.out.size() - 2);
    const auto j = nlohmann::json::parse(r.out.substr(nl == std::string::npos ? 0 : nl + 1));
    REQUIRE(j.contains("mtp_acceptance"));
    REQUIRE(j.contains("tokens_per_pass"));
    REQUIRE(j.contains("spec_speedup"));
    CHECK(j["mtp_acceptance"].get<double>() > 0.1);
    CHECK(j["mtp_acceptance"].get<double>() <= 1.0);
    CHECK(j["tokens_per_pass"].get<double>() > 1.1);
    CHECK(j["tokens_per_pass"].get<double>() <= 2.0);
    CHECK(j["spec_speedup"].get<double>() > 0);
    CHECK(r.out.find("speculate:") != std::string::npos);
}
