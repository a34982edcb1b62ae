// dsv4 bench -m MODEL [--threads N] [--prompt 512] [--gen 64] [--json] [--backend NAME]
//            [--bw-mb MB] [--no-warm] [--no-spec] [--verify-reps 5] [--keep-page-cache]
//            [--no-scaling] [--scaling-rounds 3] [--scaling-steps 8]
// Prefill and decode speed against the machine's rooflines, measured in the
// same run with the same threads (public C API only). See docs/PERFORMANCE.md.
//
// Decode is memory bound: every token reads the weights it uses once, so
//   decode efficiency = bytes_per_token * decode_tok_s / read_bandwidth.
// Prefill is compute bound: prefill GFLOP/s (FLOPs from the model's dims,
// prefill_macs below) against the machine's GEMM peak, measured in the same
// run with the same threads: oneDNN's f32 matmul (the reference computes in
// f32; gemm_peak_gflop_s), its bf16 one, and the library's own f64 kernel,
// the arithmetic prefill runs in (docs/PERFORMANCE.md, "Precision").
// Decode's roofline proper (decode_roofline.h) takes each weight format at the
// lower of the read bandwidth and its kernel's speed on weights in cache: where
// exact sums make the cores slower than the memory, it says so, in the same run.
//
// The checkpoint is dropped from the page cache first (unless
// --keep-page-cache), as fio invalidates its files before a run: pages an
// earlier reader left there in 4 KiB pieces, scattered, read at a fraction of
// the speed of the 2 MiB pages the library's own mapping faults in, so a run
// on them would measure the page cache's history (page_cache.h). It is then
// read back in 2 MiB folios (timed as the page-in), so that no decode step
// waits for the disk, whichever experts the prompt happened to route to.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <dsv4/dsv4.h>
#include <nlohmann/json.hpp>

#include "command.h"
#include "decode_roofline.h"
#include "default_model.h"
#include "onednn_peak.h"
#include "page_cache.h"
#include "scaling_bench.h"
#include "spec_bench.h"

namespace {

const char* const kUsage =
    "usage: dsv4 bench [-m MODEL] [options]\n"
    "  -m, --model DIR        checkpoint directory (default: the embedded model)\n"
    "  -t, --threads N        threads (default: one per core)\n"
    "  --prompt N             prompt tokens for the prefill (default 512)\n"
    "  --gen N                tokens to decode (default 64)\n"
    "  --json                 also print one JSON object with every figure on the last line\n"
    "  --backend NAME         compute backend (cpu, reference)\n"
    "  --bw-mb MB             bandwidth probe buffer (default max(1 GiB, 4 x the last-level cache))\n"
    "  --no-warm              time the cold prefill only (no second, warm one)\n"
    "  --no-spec              skip the generations with and without speculative decoding\n"
    "  --verify-reps N        repetitions of the 1- and 2-token verification timing, 0 skips it (default 5)\n"
    "  --no-scaling           skip the decode at 1 thread beside the run's threads (default: on with > 1 thread)\n"
    "  --scaling-rounds N     stretches at each thread count, taken in turn (default 3)\n"
    "  --scaling-steps N      decode steps a stretch (default 8)\n"
    "  --keep-page-cache      leave the page cache as it is (default: drop the checkpoint from it,\n"
    "                         then read it back in 2 MiB pages before opening)\n";

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double rss_now_mb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0.0;
}

double peak_rss_mb() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_maxrss) / 1024.0;  // KiB on Linux
}

// Multiply-accumulates of one prefill of P tokens (FLOPs = 2 x this):
//  per token and main layer of ratio R:
//   attention linears  Lq*D + H*d*Lq + d*D + H*d*Lo + D*G*Lo
//   compressor (R > 0) 2 * c*d*D, c = 2 if R = 4 else 1
//   indexer (R = 4)    Hi*di*Lq + Hi*D + 2 * 2*di*D
//   MoE                E*D + (k + n_shared) * 3*I*D
//   hyper-connections  2 * (2+hc)*hc * hc*D
//   attention core     2*H*d*n_kv, n_kv = min(W, p+1) + compressed entries
//                      (min(Ki, (p+1)/4) for R = 4, (p+1)/R otherwise)
//   indexer scores     Hi*di*((p+1)/4) (R = 4)
//  the head once: V*D + hc*hc*D. (Nothing of the MTP block: a draft catches
//  its window ring up when it needs it.)
double prefill_macs(const dsv4_model_info& i, const std::vector<int>& ratio, int64_t P) {
    const double D = i.hidden_size, H = i.n_heads, d = i.head_dim, Lq = i.q_lora_rank, G = i.o_groups,
                 Lo = i.o_lora_rank, Hi = i.index_n_heads, di = i.index_head_dim, E = i.n_routed_experts,
                 k = i.n_experts_per_tok, S = i.n_shared_experts, I = i.moe_intermediate_size, hc = i.hc_mult,
                 V = i.vocab_size;
    auto linears = [&](int R) {
        double m = Lq * D + H * d * Lq + d * D + H * d * Lo + D * G * Lo;
        if (R > 0) m += 2 * (R == 4 ? 2 : 1) * d * D;
        if (R == 4) m += Hi * di * Lq + Hi * D + 2 * 2 * di * D;
        m += E * D + (k + S) * 3 * I * D;
        m += 2 * (2 + hc) * hc * hc * D;
        return m;
    };
    auto core = [&](int R, int64_t p) {
        double nkv = double(std::min<int64_t>(i.sliding_window, p + 1));
        if (R == 4)
            nkv += double(std::min<int64_t>(i.index_topk, (p + 1) / 4));
        else if (R > 0)
            nkv += double((p + 1) / R);
        double m = 2 * H * d * nkv;
        if (R == 4) m += Hi * di * double((p + 1) / 4);
        return m;
    };
    double macs = 0;
    for (int64_t p = 0; p < P; ++p) {
        for (int l = 0; l < i.n_layers; ++l) macs += linears(ratio[size_t(l)]) + core(ratio[size_t(l)], p);
    }
    return macs + V * D + hc * hc * D;
}

// Bytes of the MTP blocks, which prefill and plain decode never read (a
// draft catches the block's window ring up when it needs it): e_proj and
// h_proj, the attention, the FFN side and the F32 hyper-connection mixes.
// Vectors (norms, sinks, biases) left out.
double mtp_unread_bytes(const dsv4_model_info& i) {
    const double D = i.hidden_size, H = i.n_heads, d = i.head_dim, Lq = i.q_lora_rank, G = i.o_groups,
                 Lo = i.o_lora_rank, E = i.n_routed_experts, S = i.n_shared_experts, I = i.moe_intermediate_size,
                 hc = i.hc_mult;
    auto fp8 = [](double out, double in) { return out * in + std::ceil(out / 128) * std::ceil(in / 128); };
    auto fp4 = [](double out, double in) { return out * in / 2 + out * in / 32; };
    const double inputs = 2 * fp8(D, D);  // e_proj, h_proj
    const double attention = fp8(Lq, D) + fp8(H * d, Lq) + fp8(d, D) + fp8(G * Lo, H * d / G) + fp8(D, G * Lo);
    const double expert = i.experts_fp4 ? 2 * fp4(I, D) + fp4(D, I) : 2 * fp8(I, D) + fp8(D, I);
    const double ffn = E * D * 2 + E * expert + S * (2 * fp8(I, D) + fp8(D, I));
    const double mixes = 2 * (2 + hc) * hc * hc * D * 4 + hc * hc * D * 4;  // hc_attn, hc_ffn, hc_head (F32)
    return i.n_mtp_layers * (inputs + attention + ffn + mixes);
}

// Text for the tokenizer's throughput: words and punctuation, deterministic.
std::string sample_text(size_t bytes) {
    static const char* words[] = {"the",      "model", "reads",   "every", "weight", "once", "per",
                                  "token,",   "while", "prefill", "is",    "bound",  "by",   "FLOPs.",
                                  "Décodage", "42",    "x+=1;",   "(see",  "docs)",  "\n"};
    std::string s;
    uint32_t st = 12345;
    while (s.size() < bytes) {
        st = st * 1664525u + 1013904223u;
        s += words[(st >> 16) % (sizeof words / sizeof *words)];
        s += ' ';
    }
    return s;
}

int run(const cli::Args& args) {
    cli::Flags flags(args);
    std::string model_dir, backend;
    long long threads = 0, prompt = 512, gen = 64, bw_mb = 0, verify_reps = 5, scaling_rounds = 3, scaling_steps = 8;
    bool json = false, warm = true, spec_gen = true, keep_page_cache = false, scaling = true;
    try {
        model_dir = flags.get("--model", "", "-m");
        backend = flags.get("--backend", "");
        threads = flags.get_int("--threads", 0, "-t");
        prompt = flags.get_int("--prompt", 512);
        gen = flags.get_int("--gen", 64);
        bw_mb = flags.get_int("--bw-mb", 0);
        json = flags.has("--json");
        warm = !flags.has("--no-warm");
        spec_gen = !flags.has("--no-spec");               // skip the generations with and without speculation
        verify_reps = flags.get_int("--verify-reps", 5);  // 0 skips the verification-cost timing
        keep_page_cache = flags.has("--keep-page-cache");
        scaling = !flags.has("--no-scaling");
        scaling_rounds = flags.get_int("--scaling-rounds", 3);
        scaling_steps = flags.get_int("--scaling-steps", 8);
    } catch (const std::exception& e) {
        return cli::fail(std::string("bench: ") + e.what());
    }
    auto pos = flags.positional();
    if (model_dir.empty() && !pos.empty()) model_dir = pos[0];
    if (!flags.unknown().empty()) return cli::fail("bench: unknown option " + flags.unknown()[0] + "\n" + kUsage);
    model_dir = cli::model_dir_or_default(model_dir);  // the embedded model when -m is absent
    if (threads < 0 || prompt < 1 || gen < 1 || bw_mb < 0 || verify_reps < 0 || verify_reps > 1000 ||
        scaling_rounds < 1 || scaling_rounds > 100 || scaling_steps < 1 || scaling_steps > 10000)
        return cli::fail(
            "bench: --threads >= 0, --prompt and --gen >= 1, --verify-reps in [0, 1000], --scaling-rounds in [1, "
            "100], --scaling-steps in [1, 10000]");
    const int n_threads = threads > 0 ? int(threads) : int(std::max(1u, std::thread::hardware_concurrency()));

    dsv4_model_params mp;
    dsv4_model_params_init(&mp);
    mp.n_threads = n_threads;
    if (!backend.empty()) mp.backend = backend.c_str();
    int dropped_files = 0;
    double page_in_s = 0, page_in_bytes = 0;
    if (!keep_page_cache) {
        std::string why;
        dropped_files = cli::drop_from_page_cache(model_dir, &why);
        if (dropped_files < 0) return cli::fail("bench: cannot drop the checkpoint from the page cache: " + why);
        std::fprintf(stderr, "bench: reading the checkpoint back into the page cache in 2 MiB folios...\n");
        const auto t_in = Clock::now();
        page_in_bytes = cli::read_into_page_cache(model_dir, &why);
        if (page_in_bytes < 0) return cli::fail("bench: cannot read the checkpoint into the page cache: " + why);
        page_in_s = since(t_in);
    }
    dsv4_model* model = nullptr;
    auto t0 = Clock::now();
    dsv4_status st = dsv4_model_open(model_dir.c_str(), &mp, &model);
    const double open_s = since(t0);
    if (st != DSV4_STATUS_OK) return cli::fail_status("cannot open " + model_dir, st);
    const double rss_open_mb = rss_now_mb();

    dsv4_model_info info;
    info.struct_size = sizeof info;
    dsv4_model_get_info(model, &info);
    std::vector<int> ratio(size_t(info.n_layers + info.n_mtp_layers));
    for (size_t l = 0; l < ratio.size(); ++l) dsv4_model_layer_ratio(model, int(l), &ratio[l]);

    dsv4_session_params sp;
    dsv4_session_params_init(&sp);
    sp.n_ctx = uint64_t(prompt + gen + 1);
    dsv4_session* s = nullptr;
    if ((st = dsv4_session_create(model, &sp, &s)) != DSV4_STATUS_OK) {
        dsv4_model_close(model);
        return cli::fail_status("cannot create a session", st);
    }
    std::vector<int32_t> tokens(static_cast<size_t>(prompt));
    uint32_t lcg = 2024;
    for (auto& t : tokens) {
        lcg = lcg * 1664525u + 1013904223u;
        t = int32_t(2 + (lcg >> 8) % uint32_t(std::max(1, info.vocab_size - 2)));
    }
    auto fail_run = [&](const char* what, dsv4_status stt) {
        dsv4_session_destroy(s);
        dsv4_model_close(model);
        return cli::fail_status(what, stt);
    };

    std::fprintf(stderr, "bench: prefill of %lld tokens (cold: weights mapped as they are first used)...\n", prompt);
    t0 = Clock::now();
    if ((st = dsv4_session_prefill(s, tokens.data(), tokens.size())) != DSV4_STATUS_OK) return fail_run("prefill", st);
    const double prefill_cold_s = since(t0);
    double prefill_s = prefill_cold_s;
    if (warm) {
        std::fprintf(stderr, "bench: prefill again (warm)...\n");
        dsv4_session_reset(s);
        t0 = Clock::now();
        if ((st = dsv4_session_prefill(s, tokens.data(), tokens.size())) != DSV4_STATUS_OK)
            return fail_run("prefill", st);
        prefill_s = since(t0);
    }

    dsv4_session* after_prefill = nullptr;  // speculative decoding is timed from the same point
    if ((st = dsv4_session_fork(s, &after_prefill)) != DSV4_STATUS_OK) return fail_run("fork", st);
    std::fprintf(stderr, "bench: decode of %lld tokens...\n", gen);
    const size_t V = size_t(info.vocab_size);
    double decode_s = 0, bytes_sum = 0, rss_first_decode_mb = 0;
    cli::MappedWeights mapped;  // after the first decode
    // The matrix products by weight format over the decode: stats after minus before.
    dsv4_session_stats before, after;
    before.struct_size = after.struct_size = sizeof before;
    dsv4_session_get_stats(s, &before);
    // The read bandwidth is probed between stretches of the decode (after its
    // first step, every kDecodeProbeEvery steps, and after the last), and the
    // decode's roofline is the mean of those probes: this VM's memory runs at
    // very different speeds from one minute to the next (34 GB/s, then 57 on
    // Zen 4), so a probe taken before or after the decode can see another
    // machine than the decode did. The probes are not timed as decode.
    constexpr long long kDecodeProbeEvery = 16;
    std::vector<double> decode_bw_probes;
    double peak_rss = 0;
    auto probe_decode_bandwidth = [&]() {
        double gb_s = 0;
        st = dsv4_measure_read_bandwidth(n_threads, uint64_t(bw_mb) << 20, &gb_s);
        decode_bw_probes.push_back(gb_s);
        return st;
    };
    for (long long g = 0; g < gen; ++g) {
        const float* lg = dsv4_session_logits(s);
        const int32_t next = int32_t(std::max_element(lg, lg + V) - lg);  // greedy
        t0 = Clock::now();
        if ((st = dsv4_decode_step(s, next)) != DSV4_STATUS_OK) return fail_run("decode", st);
        decode_s += since(t0);
        dsv4_session_stats stats;
        stats.struct_size = sizeof stats;
        dsv4_session_get_stats(s, &stats);
        bytes_sum += double(stats.last_weight_bytes);
        if (g == 0) {
            rss_first_decode_mb = rss_now_mb();
            mapped = cli::mapped_weights();
            peak_rss = std::max(peak_rss_mb(), rss_first_decode_mb);  // before the probes' buffers
        }
        if ((g % kDecodeProbeEvery == 0 || g == gen - 1) && probe_decode_bandwidth() != DSV4_STATUS_OK)
            return fail_run("bandwidth probe", st);
    }
    dsv4_session_get_stats(s, &after);
    double fmt_s[DSV4_WEIGHT_FORMAT_COUNT], fmt_bytes[DSV4_WEIGHT_FORMAT_COUNT], matmul_s = 0;
    for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f) {
        fmt_s[f] = after.matmul_seconds[f] - before.matmul_seconds[f];
        fmt_bytes[f] = double(after.matmul_bytes[f] - before.matmul_bytes[f]);
        matmul_s += fmt_s[f];
    }
    auto fmt_gb_s = [&](int f) { return fmt_s[f] > 0 ? fmt_bytes[f] / fmt_s[f] / 1e9 : 0.0; };
    double fmt_bytes_per_token[DSV4_WEIGHT_FORMAT_COUNT];
    for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f) fmt_bytes_per_token[f] = fmt_bytes[f] / double(gen);
    const std::string backend_used = dsv4_model_backend(model);
    dsv4_session_destroy(s);
    cli::VerifyCost vcost;
    if (verify_reps > 0) {
        std::fprintf(stderr, "bench: timing 1-token decode and 1- and 2-token verification passes (%lld x)...\n",
                     verify_reps);
        vcost = cli::bench_verify_cost(after_prefill, V, int(verify_reps));
    }
    cli::SpecBench spec;
    if (spec_gen) {
        std::fprintf(stderr, "bench: greedy generation of %lld tokens without, with and with adaptive speculation...\n",
                     gen);
        spec = cli::bench_speculation(after_prefill, gen);
    }

    // Where the cpu backend ran the decode, its kernels' own speed (weights in cache) is probed:
    // the compute side of the decode's roofline (decode_roofline.h).
    const bool probe_kernels = backend_used == "cpu";
    auto close_all = [&] {
        dsv4_session_destroy(after_prefill);
        dsv4_model_close(model);
    };
    // Decode at one thread beside the run's threads, in turns (scaling_bench.h), right after the
    // decode above and before the machine probes below.
    cli::ScalingBench scale;
    if (scaling && n_threads > 1) {
        std::fprintf(stderr, "bench: decode at 1 and %d threads in turns (%lld x %lld steps each)...\n", n_threads,
                     scaling_rounds, scaling_steps);
        if ((st = cli::bench_scaling(model_dir, mp, model, after_prefill, n_threads, int(scaling_rounds), scaling_steps,
                                     fmt_bytes_per_token, bytes_sum / double(gen), probe_kernels, uint64_t(bw_mb) << 20,
                                     scale)) != DSV4_STATUS_OK) {
            close_all();
            return cli::fail_status("scaling", st);
        }
    }

    std::fprintf(stderr,
                 "bench: measuring read bandwidth, GEMM peaks (dsv4 f64, oneDNN f32 and bf16)%s with %d thread(s)...\n",
                 probe_kernels ? " and the decode kernels" : "", n_threads);
    cli::DecodeRoofline roofline;
    // Two more bandwidth probes and two GEMM probes, alternating, a few
    // seconds apart: on a shared host one can land in a burst of a
    // neighbour's work (a GEMM probe once read half the usual peak and put
    // prefill at 1.13 of it), and the ceilings are what the machine does, so
    // the best counts. The best bandwidth of all probes is reported beside the
    // decode's own.
    // The GEMM probes: the library's f64 kernel (dsv4_measure_gemm_peak,
    // 256 x 4096 x 4096) and oneDNN's f32 and bf16 matmul on the same shape.
    double bw_probe[2] = {0, 0}, gemm_probe[2] = {0, 0}, f32_probe[2] = {-1, -1}, bf16_probe[2] = {-1, -1};
    std::string onednn_error;
    for (int i = 0; i < 2; ++i) {
        if ((st = dsv4_measure_read_bandwidth(n_threads, uint64_t(bw_mb) << 20, &bw_probe[i])) != DSV4_STATUS_OK) {
            close_all();
            return cli::fail_status("bandwidth probe", st);
        }
        if ((st = dsv4_measure_gemm_peak(n_threads, 0, 0, 0, &gemm_probe[i])) != DSV4_STATUS_OK) {
            close_all();
            return cli::fail_status("GEMM probe", st);
        }
        f32_probe[i] = cli::onednn_matmul_gflop_s(false, n_threads, 256, 4096, 4096, 3, onednn_error);
        bf16_probe[i] = cli::onednn_matmul_gflop_s(true, n_threads, 256, 4096, 4096, 3, onednn_error);
        if (probe_kernels &&
            (st = cli::probe_decode_kernels(roofline, i, fmt_bytes_per_token, n_threads)) != DSV4_STATUS_OK) {
            close_all();
            return cli::fail_status("decode-kernel probe", st);
        }
    }
    dsv4_session_destroy(after_prefill);
    if (!onednn_error.empty()) std::fprintf(stderr, "bench: %s\n", onednn_error.c_str());
    double bw = 0, bw_best = std::max(bw_probe[0], bw_probe[1]);
    for (double b : decode_bw_probes) {
        bw += b / double(decode_bw_probes.size());
        bw_best = std::max(bw_best, b);
    }
    const double f64_peak = std::max(gemm_probe[0], gemm_probe[1]);
    const double f32_peak = std::max(f32_probe[0], f32_probe[1]);
    const double bf16_peak = std::max(bf16_probe[0], bf16_probe[1]);
    // The roofline is oneDNN's; f32 is the reference's arithmetic
    // (bf16 would not reproduce it). Without oneDNN f32, the f64 kernel's.
    const bool have_f32 = f32_peak > 0;
    const double peak = have_f32 ? f32_peak : f64_peak;

    double tok_mb_s = -1;
    dsv4_tokenizer* tok = nullptr;
    if (dsv4_tokenizer_open_dir(model_dir.c_str(), &tok) == DSV4_STATUS_OK) {
        const std::string text = sample_text(size_t(4) << 20);
        int32_t* ids = nullptr;
        size_t n_ids = 0;
        t0 = Clock::now();
        if (dsv4_tokenizer_encode(tok, text.data(), text.size(), 0, &ids, &n_ids) == DSV4_STATUS_OK)
            tok_mb_s = double(text.size()) / 1e6 / since(t0);
        dsv4_tokens_free(ids);
        dsv4_tokenizer_free(tok);
    }
    dsv4_model_close(model);

    const double decode_tok_s = double(gen) / decode_s;
    const double prefill_tok_s = double(prompt) / prefill_s;
    const double bytes_per_token = bytes_sum / double(gen);
    const double decode_eff = bytes_per_token * decode_tok_s / (bw * 1e9);
    if (probe_kernels) cli::finish_decode_roofline(roofline, fmt_bytes_per_token, bytes_per_token, bw);
    cli::finish_scaling_roofline(scale, roofline, fmt_bytes_per_token, bytes_per_token);
    std::string bw_list;
    for (double b : decode_bw_probes) {
        char one[32];
        std::snprintf(one, sizeof one, "%s%.2f", bw_list.empty() ? "" : ", ", b);
        bw_list += one;
    }
    const double prefill_gflop = 2 * prefill_macs(info, ratio, prompt) / 1e9;
    const double prefill_gflop_s = prefill_gflop / prefill_s;
    // The weights this run needs in memory by its first decode: everything
    // but the embedding rows and hash-routing rows of tokens never fed (every
    // routed expert is chosen at least once in a few hundred tokens; a
    // shorter run may need less) and the parts of the MTP blocks only drafts
    // read (the speculative runs come later).
    const double D = info.hidden_size, Vd = info.vocab_size, fed = double(prompt + gen);
    const double needed_mb =
        (double(info.total_bytes) - Vd * D * 2 + std::min(fed, Vd) * D * 2 -
         double(info.n_hash_layers) * Vd * info.n_experts_per_tok * 8 +
         std::min(fed, Vd) * info.n_hash_layers * info.n_experts_per_tok * 8 - mtp_unread_bytes(info)) /
        double(1 << 20);

    std::printf("model:      %s (%.2f GiB of weights), backend %s, isa %s, %d thread(s)\n", model_dir.c_str(),
                double(info.total_bytes) / double(1 << 30), backend_used.c_str(), dsv4_cpu_isa(), n_threads);
    char page_in[160];
    if (keep_page_cache)
        std::snprintf(page_in, sizeof page_in, "the page cache kept as it was");
    else
        std::snprintf(page_in, sizeof page_in,
                      "%d checkpoint file(s) dropped from the page cache, then %.2f GiB read back in %.2f s",
                      dropped_files, page_in_bytes / double(1 << 30), page_in_s);
    std::printf("open:       %.3f s (RSS %.0f MiB); cold prefill %.2f s (%s)\n", open_s, rss_open_mb, prefill_cold_s,
                page_in);
    std::printf("prefill:    %lld tokens in %.2f s = %.2f tok/s, %.1f GFLOP -> %.1f GFLOP/s\n", prompt, prefill_s,
                prefill_tok_s, prefill_gflop, prefill_gflop_s);
    if (have_f32)
        std::printf("            = %.2f of oneDNN's f32 GEMM peak %.1f GFLOP/s (probes %.1f, %.1f)\n",
                    prefill_gflop_s / f32_peak, f32_peak, f32_probe[0], f32_probe[1]);
    if (bf16_peak > 0)
        std::printf("            = %.2f of oneDNN's bf16 GEMM peak %.1f GFLOP/s (probes %.1f, %.1f)\n",
                    prefill_gflop_s / bf16_peak, bf16_peak, bf16_probe[0], bf16_probe[1]);
    std::printf(
        "            = %.2f of dsv4's f64 GEMM peak %.1f GFLOP/s (probes %.1f, %.1f), the arithmetic prefill runs "
        "in\n",
        prefill_gflop_s / f64_peak, f64_peak, gemm_probe[0], gemm_probe[1]);
    std::printf(
        "decode:     %lld tokens in %.2f s = %.3f tok/s, %.1f MB of weights/token -> %.2f GB/s = %.2f of the read "
        "bandwidth %.2f GB/s (the mean of probes between its stretches: %s; %.2f of the best probe of the run, "
        "%.2f GB/s)\n",
        gen, decode_s, decode_tok_s, bytes_per_token / 1e6, bytes_per_token * decode_tok_s / 1e9, decode_eff, bw,
        bw_list.c_str(), bytes_per_token * decode_tok_s / (bw_best * 1e9), bw_best);
    {
        static const char* kFormatNames[DSV4_WEIGHT_FORMAT_COUNT] = {"BF16", "FP8", "FP4"};
        std::printf("by format:  per decode token");
        for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f)
            if (fmt_bytes[f] > 0)
                std::printf(" %s %.1f MB in %.2f ms = %.2f GB/s;", kFormatNames[f], fmt_bytes[f] / 1e6 / double(gen),
                            1e3 * fmt_s[f] / double(gen), fmt_gb_s(f));
        std::printf(" the rest %.2f ms\n", 1e3 * (decode_s - matmul_s) / double(gen));
    }
    if (roofline.ran) {
        static const char* kFormatNames[DSV4_WEIGHT_FORMAT_COUNT] = {"BF16", "FP8", "FP4"};
        std::printf("roofline:   the decode kernels on weights in cache:");
        for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f)
            if (roofline.kernel_gb_s[f] > 0)
                std::printf(" %s %.2f GB/s (probes %.2f, %.2f);", kFormatNames[f], roofline.kernel_gb_s[f],
                            roofline.kernel_probes_gb_s[0][f], roofline.kernel_probes_gb_s[1][f]);
        std::printf(
            " each format read at the lower of that and the read bandwidth, a token takes at least %.2f ms = %.3f "
            "tok/s = %.2f of the read bandwidth; decode ran at %.2f of that\n",
            1e3 * roofline.seconds_per_token, roofline.tok_s, roofline.efficiency, decode_tok_s / roofline.tok_s);
    }
    std::printf(
        "memory:     RSS after the first decode %.0f MiB = %.2f x the %.0f MiB of weights the run needs; peak %.0f "
        "MiB\n",
        rss_first_decode_mb, rss_first_decode_mb / needed_mb, needed_mb, peak_rss);
    if (mapped.mappings > 0)
        std::printf(
            "pages:      %.0f MiB of the checkpoint mapped after the first decode, %.0f MiB of it (%.0f%%) in 2 MiB "
            "pages%s\n",
            mapped.resident_mb, mapped.huge_page_mb,
            mapped.resident_mb > 0 ? 100 * mapped.huge_page_mb / mapped.resident_mb : 0.0,
            keep_page_cache && mapped.huge_page_mb < 0.5 * mapped.resident_mb
                ? " (the page cache held the checkpoint in small pages: run without --keep-page-cache)"
                : "");
    if (scale.ran) {
        std::printf(
            "scaling:    decode at 1 -> %d threads %.3f -> %.3f tok/s = %.2fx (%d stretches of %lld steps each, in "
            "turns; read bandwidth %.2f -> %.2f GB/s = %.2fx)",
            scale.threads, scale.tok_s_1, scale.tok_s_n, scale.ratio, scale.rounds, scale.steps, scale.bandwidth_1,
            scale.bandwidth_n, scale.bandwidth_n / scale.bandwidth_1);
        if (scale.roofline_1.ran && scale.roofline_n.ran)
            std::printf("; the roofline allows %.3f -> %.3f tok/s = %.2fx", scale.roofline_1.tok_s,
                        scale.roofline_n.tok_s, scale.roofline_ratio);
        std::printf("\n");
    }
    if (tok_mb_s >= 0) std::printf("tokenizer:  encode %.2f MB/s\n", tok_mb_s);
    if (spec.ran)
        std::printf(
            "speculate:  MTP drafts accepted %.1f%%, %.2f tokens per pass: %.3f tok/s vs %.3f = %.2fx; adaptive "
            "(the default) %.3f tok/s = %.2fx, %llu of %llu passes speculative\n",
            100 * spec.mtp_acceptance, spec.tokens_per_pass, spec.spec_tok_s, spec.plain_tok_s, spec.spec_speedup,
            spec.auto_tok_s, spec.auto_speedup, spec.auto_spec_passes, spec.auto_main_passes);
    if (vcost.ran)
        std::printf(
            "verify:     2-token pass %.2f ms = %.2fx the 1-token decode step %.2f ms (1-token verify %.2f ms; "
            "best of %d; from the medians %.2fx); weight bytes %.1f MB = %.2fx %.1f MB\n",
            1e3 * vcost.verify2_s, vcost.verify2_cost, 1e3 * vcost.decode1_s, 1e3 * vcost.verify1_s, vcost.reps,
            vcost.verify2_cost_median, vcost.verify2_bytes / 1e6,
            vcost.decode1_bytes > 0 ? vcost.verify2_bytes / vcost.decode1_bytes : 0.0, vcost.decode1_bytes / 1e6);
    if (json) {
        nlohmann::json j = {{"model", model_dir},
                            {"backend", backend_used},
                            {"isa", dsv4_cpu_isa()},
                            {"threads", n_threads},
                            {"prompt", prompt},
                            {"gen", gen},
                            {"model_bytes", info.total_bytes},
                            {"open_s", open_s},
                            {"prefill_cold_s", prefill_cold_s},
                            {"prefill_s", prefill_s},
                            {"prefill_tok_s", prefill_tok_s},
                            {"prefill_gflop", prefill_gflop},
                            {"prefill_gflop_s", prefill_gflop_s},
                            {"gemm_peak_gflop_s", peak},
                            {"gemm_peak_source", have_f32 ? "oneDNN f32" : "dsv4 f64"},
                            {"prefill_efficiency", prefill_gflop_s / peak},
                            {"gemm_peak_f64_gflop_s", f64_peak},
                            {"gemm_peak_f64_probes_gflop_s", {gemm_probe[0], gemm_probe[1]}},
                            {"prefill_efficiency_f64", prefill_gflop_s / f64_peak},
                            {"decode_s", decode_s},
                            {"decode_tok_s", decode_tok_s},
                            {"bytes_per_token", bytes_per_token},
                            {"bandwidth_gb_s", bw},
                            {"bandwidth_probes_gb_s", decode_bw_probes},
                            {"bandwidth_best_gb_s", bw_best},
                            {"bandwidth_after_probes_gb_s", {bw_probe[0], bw_probe[1]}},
                            {"decode_efficiency_vs_best", bytes_per_token * decode_tok_s / (bw_best * 1e9)},
                            {"gemm_peak_probes_gflop_s", have_f32 ? std::vector<double>{f32_probe[0], f32_probe[1]}
                                                                  : std::vector<double>{gemm_probe[0], gemm_probe[1]}},
                            {"decode_efficiency", decode_eff},
                            {"decode_format_gb_s", {{"bf16", fmt_gb_s(0)}, {"fp8", fmt_gb_s(1)}, {"fp4", fmt_gb_s(2)}}},
                            {"decode_format_ms_per_token",
                             {{"bf16", 1e3 * fmt_s[0] / double(gen)},
                              {"fp8", 1e3 * fmt_s[1] / double(gen)},
                              {"fp4", 1e3 * fmt_s[2] / double(gen)},
                              {"rest", 1e3 * (decode_s - matmul_s) / double(gen)}}},
                            {"rss_open_mb", rss_open_mb},
                            {"rss_after_first_decode_mb", rss_first_decode_mb},
                            {"weights_needed_mb", needed_mb},
                            {"peak_rss_mb", peak_rss},
                            {"page_cache_dropped_files", dropped_files},
                            {"page_in_s", page_in_s},
                            {"page_in_bytes", page_in_bytes},
                            {"weights_mapped_mb", mapped.resident_mb},
                            {"weights_huge_page_mb", mapped.huge_page_mb}};
        if (bf16_peak > 0) {
            j["gemm_peak_bf16_gflop_s"] = bf16_peak;
            j["gemm_peak_bf16_probes_gflop_s"] = {bf16_probe[0], bf16_probe[1]};
            j["prefill_efficiency_bf16"] = prefill_gflop_s / bf16_peak;
        }
        j["decode_format_bytes_per_token"] = {
            {"bf16", fmt_bytes_per_token[0]}, {"fp8", fmt_bytes_per_token[1]}, {"fp4", fmt_bytes_per_token[2]}};
        if (roofline.ran) {
            nlohmann::json kernels = nlohmann::json::object(), probes = nlohmann::json::object();
            static const char* kKeys[DSV4_WEIGHT_FORMAT_COUNT] = {"bf16", "fp8", "fp4"};
            for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f)
                if (roofline.kernel_gb_s[f] > 0) {
                    kernels[kKeys[f]] = roofline.kernel_gb_s[f];
                    probes[kKeys[f]] = {roofline.kernel_probes_gb_s[0][f], roofline.kernel_probes_gb_s[1][f]};
                }
            j["decode_kernel_gb_s"] = kernels;
            j["decode_kernel_probes_gb_s"] = probes;
            j["decode_roofline_tok_s"] = roofline.tok_s;
            j["decode_roofline_efficiency"] = roofline.efficiency;
            j["decode_vs_roofline"] = decode_tok_s / roofline.tok_s;
        }
        if (scale.ran) {
            nlohmann::json sj = {{"threads", scale.threads},
                                 {"rounds", scale.rounds},
                                 {"steps", scale.steps},
                                 {"decode_tok_s_1", scale.tok_s_1},
                                 {"decode_tok_s_n", scale.tok_s_n},
                                 {"ratio", scale.ratio},
                                 {"bandwidth_1_gb_s", scale.bandwidth_1},
                                 {"bandwidth_n_gb_s", scale.bandwidth_n}};
            if (scale.roofline_1.ran && scale.roofline_n.ran) {
                sj["roofline_tok_s_1"] = scale.roofline_1.tok_s;
                sj["roofline_tok_s_n"] = scale.roofline_n.tok_s;
                sj["roofline_ratio"] = scale.roofline_ratio;
                sj["decode_kernel_gb_s_1"] = {{"bf16", scale.roofline_1.kernel_gb_s[0]},
                                              {"fp8", scale.roofline_1.kernel_gb_s[1]},
                                              {"fp4", scale.roofline_1.kernel_gb_s[2]}};
            }
            j["scaling"] = sj;
        }
        if (tok_mb_s >= 0) j["tokenizer_encode_mb_s"] = tok_mb_s;
        if (spec.ran) {
            j["mtp_acceptance"] = spec.mtp_acceptance;
            j["tokens_per_pass"] = spec.tokens_per_pass;
            j["spec_speedup"] = spec.spec_speedup;
            j["spec_tok_s"] = spec.spec_tok_s;
            j["plain_tok_s"] = spec.plain_tok_s;
            j["spec_auto_tok_s"] = spec.auto_tok_s;
            j["spec_auto_speedup"] = spec.auto_speedup;
            j["spec_auto_spec_passes"] = spec.auto_spec_passes;
            j["spec_auto_main_passes"] = spec.auto_main_passes;
        }
        if (vcost.ran) {
            j["verify2_cost"] = vcost.verify2_cost;
            j["verify2_cost_median"] = vcost.verify2_cost_median;
            j["decode1_s"] = vcost.decode1_s;
            j["verify1_s"] = vcost.verify1_s;
            j["verify2_s"] = vcost.verify2_s;
            j["verify_reps"] = vcost.reps;
            j["decode1_bytes"] = vcost.decode1_bytes;
            j["verify2_bytes"] = vcost.verify2_bytes;
        }
        std::printf("%s\n", j.dump().c_str());
    }
    return 0;
}

const bool registered =
    cli::register_command({"bench", "measure prefill / decode speed against the machine's rooflines", run, kUsage});

}  // namespace
