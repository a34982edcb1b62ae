// Weight-traffic statistics (dsv4_session_get_stats) against a count made
// here from the model's dims, and `dsv4 bench --json` (the thread pool:
// test_thread_pool.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dsv4/dsv4.h"
#include "handles.h"
#include "test_support.h"

namespace {

std::string tiny_model() {
    return testing_support::conformance_dir() + "/golden/tiny-s4/model";
}

uint64_t fp8_bytes(uint64_t out, uint64_t in) {
    return out * in + ((out + 127) / 128) * ((in + 127) / 128);
}
uint64_t fp4_bytes(uint64_t out, uint64_t in) {
    return out * in / 2 + out * in / 32;
}
uint64_t bf16_bytes(uint64_t out, uint64_t in) {
    return out * in * 2;
}

}  // namespace

TEST_CASE("bytes of weights per decode token equal the count from the dims (tiny-s4)", "[cpu][stats]") {
    dsv4_model* m = nullptr;
    REQUIRE(dsv4_model_open(tiny_model().c_str(), nullptr, &m) == DSV4_STATUS_OK);
    dsv4_model_info i;
    i.struct_size = sizeof i;
    REQUIRE(dsv4_model_get_info(m, &i) == DSV4_STATUS_OK);
    const uint64_t D = uint64_t(i.hidden_size), H = uint64_t(i.n_heads), d = uint64_t(i.head_dim),
                   Lq = uint64_t(i.q_lora_rank), G = uint64_t(i.o_groups), Lo = uint64_t(i.o_lora_rank),
                   Hi = uint64_t(i.index_n_heads), di = uint64_t(i.index_head_dim), E = uint64_t(i.n_routed_experts),
                   k = uint64_t(i.n_experts_per_tok), I = uint64_t(i.moe_intermediate_size), hc = uint64_t(i.hc_mult),
                   V = uint64_t(i.vocab_size);
    REQUIRE(i.experts_fp4);
    REQUIRE(i.n_shared_experts == 1);
    // One block's weights read for one token; the routed experts: k distinct.
    auto block = [&](int R) {
        uint64_t b = fp8_bytes(Lq, D) + fp8_bytes(H * d, Lq) + fp8_bytes(d, D);
        // wo_a is read group by group: G calls of Lo rows each.
        for (uint64_t g = 0; g < G; ++g)
            b += Lo * (H * d / G) + ((g * Lo + Lo - 1) / 128 - (g * Lo) / 128 + 1) * ((H * d / G + 127) / 128);
        b += fp8_bytes(D, G * Lo);
        if (R > 0) b += 2 * bf16_bytes((R == 4 ? 2 : 1) * d, D);
        if (R == 4) b += fp8_bytes(Hi * di, Lq) + bf16_bytes(Hi, D) + 2 * bf16_bytes(2 * di, D);
        b += bf16_bytes(E, D);
        b += k * (2 * fp4_bytes(I, D) + fp4_bytes(D, I));
        b += 2 * fp8_bytes(I, D) + fp8_bytes(D, I);  // shared expert
        b += 2 * (2 + hc) * hc * hc * D * 4;         // hc_attn / hc_ffn mixes (F32)
        return b;
    };
    uint64_t want = 0;
    for (int l = 0; l < i.n_layers; ++l) {
        int R = 0;
        REQUIRE(dsv4_model_layer_ratio(m, l, &R) == DSV4_STATUS_OK);
        want += block(R);
    }
    want += D * 2;                               // embedding row
    want += bf16_bytes(V, D) + hc * hc * D * 4;  // head and its hc mix
    // A decode step reads nothing of the MTP block: its window ring is caught
    // up when a draft needs it, for all positions since the last draft in
    // one pass (e_proj, h_proj, the attention's hc mix and wkv, and one
    // embedding row per position).
    REQUIRE(i.n_mtp_layers == 1);
    int mtp_ratio = -1;
    REQUIRE(dsv4_model_layer_ratio(m, i.n_layers, &mtp_ratio) == DSV4_STATUS_OK);
    CHECK(mtp_ratio == 0);
    auto mtp_keys = [&](uint64_t positions) {
        return 2 * fp8_bytes(D, D) + (2 + hc) * hc * hc * D * 4 + fp8_bytes(d, D) + positions * D * 2;
    };

    // Hash-layer tables can name an expert twice; pick tokens whose rows do not.
    const auto& tid2eid = m->model->weights().layers;
    auto distinct = [&](int32_t t) {
        for (const auto& b : tid2eid)
            if (b.ffn.tid2eid) {
                std::set<int64_t> s;
                // The mapped tensor need not be 8-byte aligned.
                const uint8_t* row = b.ffn.tid2eid->data + (uint64_t(t) * k) * sizeof(int64_t);
                for (uint64_t j = 0; j < k; ++j) {
                    int64_t e;
                    std::memcpy(&e, row + j * sizeof(int64_t), sizeof e);
                    s.insert(e);
                }
                if (s.size() != k) return false;
            }
        return true;
    };
    std::vector<int32_t> toks;
    for (int32_t t = 3; toks.size() < 6 && t < i.vocab_size; ++t)
        if (distinct(t)) toks.push_back(t);
    REQUIRE(toks.size() == 6);

    for (const char* backend : {"cpu", "reference"}) {
        INFO("backend " << backend);
        dsv4_model_params mp;
        dsv4_model_params_init(&mp);
        mp.backend = backend;
        dsv4_model* mb = nullptr;
        REQUIRE(dsv4_model_open(tiny_model().c_str(), &mp, &mb) == DSV4_STATUS_OK);
        dsv4_session* s = nullptr;
        REQUIRE(dsv4_session_create(mb, nullptr, &s) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_prefill(s, toks.data(), 4) == DSV4_STATUS_OK);
        dsv4_session_stats st;
        st.struct_size = sizeof st;
        REQUIRE(dsv4_session_get_stats(s, &st) == DSV4_STATUS_OK);
        CHECK(st.tokens == 4);
        CHECK(st.last_tokens == 4);
        const uint64_t after_prefill = st.weight_bytes;
        CHECK(after_prefill > 0);
        for (int j = 4; j < 6; ++j) {
            const dsv4_session_stats prev = st;
            REQUIRE(dsv4_decode_step(s, toks[size_t(j)]) == DSV4_STATUS_OK);
            REQUIRE(dsv4_session_get_stats(s, &st) == DSV4_STATUS_OK);
            CHECK(st.last_tokens == 1);
            CHECK(st.last_weight_bytes == want);
            // By format: the routed experts are the FP4 bytes; every format
            // read took time; the products are all of the bytes but the F32
            // hyper-connection mixes and the embedding rows.
            uint64_t fmt_sum = 0;
            for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f) {
                const uint64_t b = st.matmul_bytes[f] - prev.matmul_bytes[f];
                fmt_sum += b;
                INFO("format " << f);
                CHECK(b > 0);
                CHECK(st.matmul_seconds[f] > prev.matmul_seconds[f]);
            }
            // (the MTP block's experts are not read between drafts).
            const uint64_t blocks = uint64_t(i.n_layers);
            CHECK(st.matmul_bytes[DSV4_WEIGHT_FP4] - prev.matmul_bytes[DSV4_WEIGHT_FP4] ==
                  blocks * k * (2 * fp4_bytes(I, D) + fp4_bytes(D, I)));
            const uint64_t not_products = blocks * 2 * (2 + hc) * hc * hc * D * 4 + hc * hc * D * 4 + D * 2;
            CHECK(fmt_sum == want - not_products);
        }
        CHECK(st.tokens == 6);
        CHECK(st.weight_bytes == after_prefill + 2 * want);
        // The first draft at position 5 catches up the keys of positions 0-4
        // (the window holds them all); a second one finds nothing to do.
        REQUIRE(uint64_t(i.sliding_window) >= 5);
        std::vector<float> draft(static_cast<size_t>(V), 0.0f);
        const uint64_t before = st.weight_bytes;
        REQUIRE(dsv4_session_mtp_logits(s, toks[0], draft.data(), draft.size()) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_get_stats(s, &st) == DSV4_STATUS_OK);
        const uint64_t first = st.weight_bytes - before;
        REQUIRE(dsv4_session_mtp_logits(s, toks[0], draft.data(), draft.size()) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_get_stats(s, &st) == DSV4_STATUS_OK);
        const uint64_t second = st.weight_bytes - before - first;
        CHECK(second > 0);
        CHECK(first - second == mtp_keys(5));
        dsv4_session_destroy(s);
        dsv4_model_close(mb);
    }
    dsv4_model_close(m);
}

TEST_CASE("dsv4_session_get_stats validates its arguments", "[cpu][stats]") {
    dsv4_session_stats st;
    st.struct_size = sizeof st;
    CHECK(dsv4_session_get_stats(nullptr, &st) == DSV4_STATUS_INVALID_ARGUMENT);
    {
        // A caller built against the first release passes the smaller struct:
        // filled up to its size, nothing written past it.
        dsv4_model* m = nullptr;
        REQUIRE(dsv4_model_open(tiny_model().c_str(), nullptr, &m) == DSV4_STATUS_OK);
        dsv4_session* s = nullptr;
        REQUIRE(dsv4_session_create(m, nullptr, &s) == DSV4_STATUS_OK);
        const int32_t t[2] = {5, 6};
        REQUIRE(dsv4_session_prefill(s, t, 2) == DSV4_STATUS_OK);
        unsigned char buf[sizeof(dsv4_session_stats)];
        std::memset(buf, 0xAB, sizeof buf);
        dsv4_session_stats old_caller;
        const size_t old_size = offsetof(dsv4_session_stats, matmul_seconds);
        old_caller.struct_size = old_size;
        std::memcpy(buf, &old_caller, sizeof old_caller.struct_size);
        CHECK(dsv4_session_get_stats(s, reinterpret_cast<dsv4_session_stats*>(buf)) == DSV4_STATUS_OK);
        std::memcpy(&old_caller, buf, old_size);
        CHECK(old_caller.tokens == 2);
        for (size_t j = old_size; j < sizeof buf; ++j) CHECK(buf[j] == 0xAB);
        st.struct_size = sizeof st + 8;
        CHECK(dsv4_session_get_stats(s, &st) == DSV4_STATUS_INVALID_ARGUMENT);
        st.struct_size = sizeof st;
        dsv4_session_destroy(s);
        dsv4_model_close(m);
    }
    double v = 0;
    CHECK(dsv4_measure_read_bandwidth(-1, 0, &v) == DSV4_STATUS_INVALID_ARGUMENT);
    // Arguments that would start 100000 threads, or fill the memory (the probes write their
    // buffers in full, so the kernel would kill the process), fail at once, naming the argument.
    CHECK(dsv4_measure_read_bandwidth(100000, 32 << 20, &v) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("n_threads") != std::string::npos);
    CHECK(dsv4_measure_gemm_peak(100000, 8, 64, 64, &v) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("n_threads") != std::string::npos);
    CHECK(dsv4_measure_read_bandwidth(1, uint64_t(1) << 60, &v) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("buffer_bytes") != std::string::npos);
    CHECK(dsv4_measure_gemm_peak(1, 1 << 30, 1 << 30, 1 << 30, &v) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("GEMM probe (m 1073741824") != std::string::npos);
    CHECK(dsv4_measure_gemm_peak(1, 8, 64, 64, nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_measure_read_bandwidth(2, 32 << 20, &v) == DSV4_STATUS_OK);
    CHECK(v > 0);
    CHECK(dsv4_measure_gemm_peak(2, 24, 128, 256, &v) == DSV4_STATUS_OK);
    CHECK(v > 0);
    const std::string isa = dsv4_cpu_isa();
    CHECK((isa == "avx512fp16" || isa == "avx512vnni" || isa == "avx512" || isa == "avx2" || isa == "scalar"));
}

TEST_CASE("dsv4_measure_decode_kernel: every format's kernel on weights in cache, bad arguments named",
          "[cpu][bench]") {
    double v = -1;
    CHECK(dsv4_measure_decode_kernel(1, DSV4_WEIGHT_FP8, nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("out_gb_s") != std::string::npos);
    CHECK(dsv4_measure_decode_kernel(100000, DSV4_WEIGHT_FP8, &v) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("n_threads") != std::string::npos);
    CHECK(dsv4_measure_decode_kernel(-1, DSV4_WEIGHT_FP8, &v) == DSV4_STATUS_INVALID_ARGUMENT);
    // A C caller may pass any int for the enum.
    for (int bad : {-1, int(DSV4_WEIGHT_FORMAT_COUNT), 1000}) {
        INFO("format " << bad);
        dsv4_weight_format f;
        std::memcpy(&f, &bad, sizeof f);
        CHECK(dsv4_measure_decode_kernel(1, f, &v) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(dsv4_last_error()).find("format") != std::string::npos);
    }
    CHECK(v == -1);  // failures leave the output alone
    for (int threads : {1, 2})
        for (dsv4_weight_format f : {DSV4_WEIGHT_BF16, DSV4_WEIGHT_FP8, DSV4_WEIGHT_FP4}) {
            INFO("threads " << threads << " format " << int(f));
            v = -1;
            REQUIRE(dsv4_measure_decode_kernel(threads, f, &v) == DSV4_STATUS_OK);
            CHECK(std::isfinite(v));
            CHECK(v > 0);
        }
}

TEST_CASE("dsv4 bench: no decode-kernel roofline where the cpu backend does not decode", "[bench]") {
    auto r = testing_support::run_cli("bench -m " + tiny_model() +
                                      " --backend reference --prompt 4 --gen 2 --threads 2 --bw-mb 32 --no-spec "
                                      "--verify-reps 0 --json");
    INFO(r.err);
    REQUIRE(r.exited);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("roofline:") == std::string::npos);
    const size_t nl = r.out.find_last_of('\n', r.out.size() - 2);
    const auto j = nlohmann::json::parse(r.out.substr(nl == std::string::npos ? 0 : nl + 1));
    CHECK(j["backend"].get<std::string>() == "reference");
    CHECK(j["decode_efficiency"].get<double>() > 0);
    for (const char* key :
         {"decode_kernel_gb_s", "decode_roofline_tok_s", "decode_roofline_efficiency", "decode_vs_roofline"})
        CHECK_FALSE(j.contains(key));
}

TEST_CASE("dsv4 bench --json reports every figure, all positive", "[cpu][bench]") {
    auto r =
        testing_support::run_cli("bench -m " + tiny_model() + " --prompt 20 --gen 3 --threads 2 --bw-mb 32 --json");
    INFO(r.err);
    REQUIRE(r.exited);
    REQUIRE(r.exit_code == 0);
    const std::string out = r.out;
    const size_t nl = out.find_last_of('\n', out.size() - 2);
    const std::string last = out.substr(nl == std::string::npos ? 0 : nl + 1);
    const auto j = nlohmann::json::parse(last);
    for (const char* key :
         {"decode_tok_s", "prefill_tok_s", "bytes_per_token", "bandwidth_gb_s", "decode_efficiency", "prefill_gflop_s",
          "gemm_peak_gflop_s", "peak_rss_mb", "open_s", "rss_after_first_decode_mb"}) {
        INFO("key " << key);
        REQUIRE(j.contains(key));
        CHECK(j[key].get<double>() > 0);
    }
    CHECK(j["threads"].get<int>() == 2);
    // The decode's roofline is the mean of the bandwidth probes taken between
    // its stretches (after step 1, every 16 steps, after the last: 2 for 3
    // steps); the best of every probe is reported too. The GEMM peak is the
    // better of two GEMM probes.
    REQUIRE(j.contains("bandwidth_probes_gb_s"));
    const auto decode_probes = j["bandwidth_probes_gb_s"].get<std::vector<double>>();
    REQUIRE(decode_probes.size() == 2);
    CHECK(decode_probes[0] > 0);
    CHECK(decode_probes[1] > 0);
    CHECK(j["bandwidth_gb_s"].get<double>() == Approx((decode_probes[0] + decode_probes[1]) / 2));
    const auto after = j["bandwidth_after_probes_gb_s"].get<std::vector<double>>();
    REQUIRE(after.size() == 2);
    CHECK(j["bandwidth_best_gb_s"].get<double>() == std::max({decode_probes[0], decode_probes[1], after[0], after[1]}));
    CHECK(j["decode_efficiency_vs_best"].get<double>() ==
          Approx(j["bytes_per_token"].get<double>() * j["decode_tok_s"].get<double>() /
                 (j["bandwidth_best_gb_s"].get<double>() * 1e9)));
    // The GEMM peak is oneDNN's f32 matmul (the roofline; the
    // reference computes in f32), the better of two probes; the library's own
    // f64 kernel, which prefill runs, and oneDNN's bf16 are reported beside it.
    CHECK(j["gemm_peak_source"].get<std::string>() == "oneDNN f32");
    // A peak: the better of its two positive probes, and prefill's ratio to it.
    auto check_peak = [&](const char* peak, const char* probes, const char* efficiency) {
        INFO("peak " << peak);
        const auto p = j[probes].get<std::vector<double>>();
        REQUIRE(p.size() == 2);
        CHECK(p[0] > 0);
        CHECK(p[1] > 0);
        CHECK(j[peak].get<double>() == std::max(p[0], p[1]));
        CHECK(j[efficiency].get<double>() == Approx(j["prefill_gflop_s"].get<double>() / j[peak].get<double>()));
    };
    check_peak("gemm_peak_gflop_s", "gemm_peak_probes_gflop_s", "prefill_efficiency");
    check_peak("gemm_peak_f64_gflop_s", "gemm_peak_f64_probes_gflop_s", "prefill_efficiency_f64");
    if (j.contains("gemm_peak_bf16_gflop_s"))
        check_peak("gemm_peak_bf16_gflop_s", "gemm_peak_bf16_probes_gflop_s", "prefill_efficiency_bf16");
    // Decode time by weight format: every format the model has, a positive rate.
    for (const char* f : {"bf16", "fp8", "fp4"}) {
        INFO("format " << f);
        CHECK(j["decode_format_gb_s"][f].get<double>() > 0);
        CHECK(j["decode_format_ms_per_token"][f].get<double>() > 0);
    }
    CHECK(j["decode_format_ms_per_token"].contains("rest"));
    CHECK(j["decode_efficiency"].get<double>() ==
          Approx(j["bytes_per_token"].get<double>() * j["decode_tok_s"].get<double>() /
                 (j["bandwidth_gb_s"].get<double>() * 1e9)));
    // Decode's roofline: each format's bytes per token at the lower of the read bandwidth and
    // its kernel's speed on weights in cache (the better of two probes), the bytes read outside
    // the matrix products at the bandwidth.
    const double bw = j["bandwidth_gb_s"].get<double>() * 1e9, bytes = j["bytes_per_token"].get<double>();
    double least_s = 0, in_products = 0;
    for (const char* f : {"bf16", "fp8", "fp4"}) {
        INFO("format " << f);
        const double b = j["decode_format_bytes_per_token"][f].get<double>();
        CHECK(b > 0);
        CHECK(j["decode_format_gb_s"][f].get<double>() ==
              Approx(b / (j["decode_format_ms_per_token"][f].get<double>() / 1e3) / 1e9));
        const auto probes = j["decode_kernel_probes_gb_s"][f].get<std::vector<double>>();
        REQUIRE(probes.size() == 2);
        CHECK(probes[0] > 0);
        CHECK(probes[1] > 0);
        const double kernel = j["decode_kernel_gb_s"][f].get<double>();
        CHECK(kernel == std::max(probes[0], probes[1]));
        least_s += b / std::min(bw, kernel * 1e9);
        in_products += b;
    }
    CHECK(in_products <= bytes * (1 + 1e-12));
    least_s += (bytes - in_products) / bw;
    CHECK(j["decode_roofline_tok_s"].get<double>() == Approx(1 / least_s));
    CHECK(j["decode_roofline_efficiency"].get<double>() == Approx(bytes / least_s / bw));
    CHECK(j["decode_roofline_efficiency"].get<double>() <= 1 + 1e-9);  // no format beats the memory
    CHECK(j["decode_vs_roofline"].get<double>() == Approx(j["decode_tok_s"].get<double>() * least_s));

    // Scaling: decode at 1 and 2 threads in turns (3 stretches of 8 steps by default), each with
    // its own bandwidth probes and roofline (the kernels probed at 1 thread too).
    REQUIRE(j.contains("scaling"));
    const auto& sc = j["scaling"];
    CHECK(sc["threads"].get<int>() == 2);
    CHECK(sc["rounds"].get<int>() == 3);
    CHECK(sc["steps"].get<int>() == 8);
    const double t1 = sc["decode_tok_s_1"].get<double>(), tn = sc["decode_tok_s_n"].get<double>();
    CHECK(t1 > 0);
    CHECK(tn > 0);
    CHECK(sc["ratio"].get<double>() == Approx(tn / t1));
    auto roofline_tok_s = [&](const nlohmann::json& kernels, double bw_gb_s) {
        double s = 0, products = 0;
        for (const char* f : {"bf16", "fp8", "fp4"}) {
            const double b = j["decode_format_bytes_per_token"][f].get<double>();
            s += b / std::min(bw_gb_s * 1e9, kernels[f].get<double>() * 1e9);
            products += b;
        }
        return 1 / (s + (bytes - products) / (bw_gb_s * 1e9));
    };
    for (const char* f : {"bf16", "fp8", "fp4"}) CHECK(sc["decode_kernel_gb_s_1"][f].get<double>() > 0);
    CHECK(sc["roofline_tok_s_1"].get<double>() ==
          Approx(roofline_tok_s(sc["decode_kernel_gb_s_1"], sc["bandwidth_1_gb_s"].get<double>())));
    CHECK(sc["roofline_tok_s_n"].get<double>() ==
          Approx(roofline_tok_s(j["decode_kernel_gb_s"], sc["bandwidth_n_gb_s"].get<double>())));
    CHECK(sc["roofline_ratio"].get<double>() ==
          Approx(sc["roofline_tok_s_n"].get<double>() / sc["roofline_tok_s_1"].get<double>()));
}

TEST_CASE("dsv4 bench: the scaling stretches follow their flags, and only with more than one thread", "[bench]") {
    auto json_of = [](const std::string& flags) {
        auto r = testing_support::run_cli("bench -m " + tiny_model() +
                                          " --prompt 4 --gen 2 --bw-mb 32 --no-spec --verify-reps 0 --json " + flags);
        INFO(r.err);
        REQUIRE(r.exited);
        REQUIRE(r.exit_code == 0);
        const size_t nl = r.out.find_last_of('\n', r.out.size() - 2);
        return nlohmann::json::parse(r.out.substr(nl == std::string::npos ? 0 : nl + 1));
    };
    auto j = json_of("--threads 2 --scaling-rounds 2 --scaling-steps 5");
    REQUIRE(j.contains("scaling"));
    CHECK(j["scaling"]["rounds"].get<int>() == 2);
    CHECK(j["scaling"]["steps"].get<int>() == 5);
    CHECK_FALSE(json_of("--threads 2 --no-scaling").contains("scaling"));
    CHECK_FALSE(json_of("--threads 1").contains("scaling"));
    auto bad = testing_support::run_cli("bench -m " + tiny_model() + " --scaling-rounds 0");
    CHECK(bad.exit_code != 0);
    CHECK(bad.err.find("--scaling-rounds") != std::string::npos);
}
