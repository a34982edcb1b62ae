// Every dsv4 command that takes -m falls back to the embedded default model.
#include <catch2/catch.hpp>

#include "test_support.h"

using namespace testing_support;

TEST_CASE("commands without -m use the embedded default model", "[cli][default_model]") {
    const std::string model = std::string(DSV4_SOURCE_DIR) + "/models/dsv4-tiny-code";
    TempDir tmp("default-model");
    const std::string sample = model + "/heldout_sample.txt";

    RunResult r = run_cli("inspect");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("dsv4-tiny-code") != std::string::npos);

    r = run_cli("run -p 'def f(x):' -n 8 --temp 0 --seed 1");
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("def f(x):", 0) == 0);

    r = run_cli("logits --tokens 5,6,7 --prefill 2 -o '" + (tmp / "l.npy") + "'");
    CHECK(r.exit_code == 0);

    r = run_cli("perplexity --file '" + sample + "' --max-tokens 40");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("perplexity: ") != std::string::npos);

    r = run_cli("bench --prompt 8 --gen 2 --bw-mb 64 --json");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("\"decode_tok_s\"") != std::string::npos);
}
