// `dsv4 bench --help` lists its options; an unknown option fails with the list.
#include <catch2/catch.hpp>

#include <string>

#include "test_support.h"

TEST_CASE("dsv4 bench --help lists its options, an unknown one fails with them", "[cli][bench]") {
    for (const char* help : {"--help", "-h"}) {
        auto r = testing_support::run_cli(std::string("bench ") + help);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.rfind("usage: dsv4 bench", 0) == 0);
        for (const char* option : {"--model", "--threads", "--prompt", "--gen", "--json", "--backend", "--bw-mb",
                                   "--no-warm", "--no-spec", "--verify-reps", "--keep-page-cache"})
            CHECK(r.out.find(option) != std::string::npos);
    }
    auto r = testing_support::run_cli("bench --no-such-option");
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("unknown option --no-such-option") != std::string::npos);
    CHECK(r.err.find("usage: dsv4 bench") != std::string::npos);
}
