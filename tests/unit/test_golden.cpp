// Conformance: every golden/NAME vector reproduced by every backend.
#include <catch2/catch.hpp>

#include <cstdio>

#include "golden_check.h"
#include "test_support.h"

namespace {

void run_all(const char* backend) {
    // golden_dirs() fails the test when the folder is missing or empty.
    for (const std::string& dir : testing_support::golden_dirs()) {
        GoldenResult r = check_golden(dir, backend);
        std::printf("golden %-40s %-10s rows %4d  max-abs prefill %.3g decode %.3g mtp %.3g\n", dir.c_str(), backend,
                    r.rows, r.max_prefill, r.max_decode, r.max_mtp);
    }
}

}  // namespace

TEST_CASE("golden logits: reference backend", "[golden]") { run_all("reference"); }

TEST_CASE("golden logits: cpu backend", "[golden]") { run_all("cpu"); }
