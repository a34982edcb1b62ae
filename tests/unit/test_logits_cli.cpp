// `dsv4 logits` end to end on tiny-s4: its .npy rows against the golden
// vector (prefill row, decode rows, MTP row).
#include <catch2/catch.hpp>

#include <fstream>

#include "golden_check.h"
#include "npz_reader.h"
#include "test_support.h"

using namespace testing_support;

namespace {

std::string join_ids(const std::vector<int32_t>& ids, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(ids[i]);
    return s;
}

}  // namespace

TEST_CASE("dsv4 logits reproduces the golden rows of tiny-s4", "[cli][golden]") {
    const std::string dir = conformance_dir() + "/golden/tiny-s4";
    auto g = npz::load_npz(dir + "/golden.npz");
    const auto tokens = g.at("tokens").as_int32();
    const auto lens = g.at("prefill_lens").as_int32();
    const auto prefill = g.at("prefill_logits").as_float();
    const auto decode = g.at("decode_logits").as_float();
    const auto mtp_want = g.at("mtp_logits").as_float();
    const int P = g.at("decode_start").as_int32().at(0);
    const size_t V = mtp_want.size();
    TempDir tmp("logits-cli");

    SECTION("comma-separated ids: prefill 130, then decode through the golden decode rows") {
        REQUIRE(lens.at(3) == 130);
        const size_t T = size_t(P) + 10;
        RunResult r = run_cli("logits -m '" + dir + "/model' --tokens " + join_ids(tokens, T) +
                              " --prefill 130 -o '" + (tmp / "out.npy") + "' --backend reference");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        npz::Array out = npz::load_npy(tmp / "out.npy");
        REQUIRE(out.shape == std::vector<int64_t>{int64_t(1 + T - 130), int64_t(V)});
        const auto rows = out.as_float();
        RowDiff d = compare_rows(rows.data(), prefill.data() + 3 * V, V);
        CHECK(d.max_abs <= 1e-3);
        CHECK(d.same_argmax);
        // Row j holds the logits after ids[129 + j]; golden decode row i
        // those after ids[P + i].
        for (size_t i = 0; i < 10; ++i) {
            INFO("decode row " << i);
            d = compare_rows(rows.data() + (size_t(P) - 129 + i) * V, decode.data() + i * V, V);
            CHECK(d.max_abs <= 1e-3);
            CHECK(d.same_argmax);
        }
    }
    SECTION("ids from a text file, MTP logits") {
        {
            std::ofstream f(tmp / "ids.txt");
            for (int i = 0; i <= P; ++i) f << tokens[size_t(i)] << "\n";
        }
        RunResult r = run_cli("logits -m '" + dir + "/model' --tokens @'" + (tmp / "ids.txt") + "' --prefill " +
                              std::to_string(P) + " -o '" + (tmp / "out.npy") + "' --mtp-out '" + (tmp / "mtp.npy") + "'");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        npz::Array out = npz::load_npy(tmp / "out.npy");
        CHECK(out.shape == std::vector<int64_t>{2, int64_t(V)});
        const auto rows = out.as_float();
        RowDiff d = compare_rows(rows.data() + V, decode.data(), V);  // after ids[P]
        CHECK(d.max_abs <= 1e-3);
        npz::Array mtp = npz::load_npy(tmp / "mtp.npy");
        CHECK(mtp.shape == std::vector<int64_t>{int64_t(V)});
        d = compare_rows(mtp.as_float().data(), mtp_want.data(), V);
        CHECK(d.max_abs <= 1e-3);
        CHECK(d.same_argmax);
    }
    SECTION("bad arguments fail with a message") {
        RunResult r = run_cli("logits -m '" + dir + "/model' --tokens 1,2,3 --prefill 4 -o '" + (tmp / "x.npy") + "'");
        CHECK(r.exit_code != 0);
        CHECK(r.err.find("--prefill") != std::string::npos);
        r = run_cli("logits -m '" + dir + "/model' --tokens 1,x,3 --prefill 1 -o '" + (tmp / "x.npy") + "'");
        CHECK(r.exit_code != 0);
        r = run_cli("logits -m '" + dir + "/model' --tokens 1,2,99999 --prefill 3 -o '" + (tmp / "x.npy") + "'");
        CHECK(r.exit_code != 0);
        CHECK(r.err.find("out of range") != std::string::npos);
        r = run_cli("logits -m '" + dir + "/model' --tokens 1,2 --prefill 1 -o '" + (tmp / "x.npy") + "' --backend nope");
        CHECK(r.exit_code != 0);
        CHECK(r.err.find("reference") != std::string::npos);
    }
}
