// `dsv4 bench` times speculative decoding against plain decoding on a model with a trained MTP
// block and reports the acceptance and tokens per main-model pass, and the cost of a 2-token
// verification pass against a 1-token decode step (sanity only: no timing thresholds).
#include <catch2/catch.hpp>

#include <cmath>
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
    // The adaptive default: timed, and it tried speculation at least once.
    CHECK(j["spec_auto_tok_s"].get<double>() > 0);
    CHECK(j["spec_auto_speedup"].get<double>() > 0);
    CHECK(j["spec_auto_spec_passes"].get<uint64_t>() >= 1);
    CHECK(j["spec_auto_spec_passes"].get<uint64_t>() <= j["spec_auto_main_passes"].get<uint64_t>());
    CHECK(r.out.find("adaptive (the default)") != std::string::npos);
    REQUIRE(j.contains("verify2_cost"));
    for (const char* key : {"verify2_cost", "verify2_cost_median", "decode1_s", "verify1_s", "verify2_s"}) {
        INFO(key);
        const double v = j[key].get<double>();
        CHECK(std::isfinite(v));
        CHECK(v > 0);
    }
    CHECK(j["verify_reps"].get<int>() == 5);
    CHECK(j["decode1_bytes"].get<double>() > 0);
    CHECK(j["verify2_bytes"].get<double>() >= j["decode1_bytes"].get<double>());
    CHECK(r.out.find("verify:") != std::string::npos);
}

TEST_CASE("dsv4 bench --no-spec skips the generations and --verify-reps sets or skips the verification timing",
          "[cli][bench][speculative]") {
    const std::string model = "'" + std::string(DSV4_SOURCE_DIR) + "/models/dsv4-tiny-code'";
    auto parse_last = [](const std::string& out) {
        const size_t nl = out.find_last_of('\n', out.size() - 2);
        return nlohmann::json::parse(out.substr(nl == std::string::npos ? 0 : nl + 1));
    };
    auto r = testing_support::run_cli("bench -m " + model + " --prompt 8 --gen 2 --threads 2 --bw-mb 32 --no-spec --verify-reps 2 --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = parse_last(r.out);
    CHECK_FALSE(j.contains("mtp_acceptance"));
    CHECK_FALSE(j.contains("spec_auto_tok_s"));
    REQUIRE(j.contains("verify2_cost"));
    CHECK(std::isfinite(j["verify2_cost"].get<double>()));
    CHECK(j["verify2_cost"].get<double>() > 0);
    CHECK(j["verify_reps"].get<int>() == 2);

    r = testing_support::run_cli("bench -m " + model + " --prompt 8 --gen 2 --threads 2 --bw-mb 32 --no-spec --verify-reps 0 --json");
    REQUIRE(r.exit_code == 0);
    j = parse_last(r.out);
    CHECK_FALSE(j.contains("verify2_cost"));
    CHECK(r.out.find("verify:") == std::string::npos);

    CHECK(testing_support::run_cli("bench -m " + model + " --verify-reps -1").exit_code != 0);
}
