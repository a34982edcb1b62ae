#include "scaling_bench.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

namespace cli {

namespace {

using ModelHandle = std::unique_ptr<dsv4_model, decltype(&dsv4_model_close)>;
using SessionHandle = std::unique_ptr<dsv4_session, decltype(&dsv4_session_destroy)>;

// A session of `model` holding `prefilled`'s state, with room for `extra` more tokens.
dsv4_status restored_session(dsv4_model* model, dsv4_session* prefilled, long long extra, SessionHandle& out) {
    size_t size = 0;
    dsv4_status st = dsv4_session_snapshot_size(prefilled, &size);
    if (st != DSV4_STATUS_OK) return st;
    std::vector<unsigned char> snap(size);
    if ((st = dsv4_session_snapshot(prefilled, snap.data(), snap.size(), nullptr)) != DSV4_STATUS_OK) return st;
    dsv4_session_params sp;
    dsv4_session_params_init(&sp);
    sp.n_ctx = dsv4_session_position(prefilled) + uint64_t(extra) + 1;
    dsv4_session* s = nullptr;
    if ((st = dsv4_session_create(model, &sp, &s)) != DSV4_STATUS_OK) return st;
    out.reset(s);
    return dsv4_session_restore(s, snap.data(), snap.size());
}

// `steps` greedy decode steps; adds their seconds.
dsv4_status decode_stretch(dsv4_session* s, long long steps, size_t vocab, double& seconds) {
    for (long long i = 0; i < steps; ++i) {
        const float* lg = dsv4_session_logits(s);
        const int32_t next = int32_t(std::max_element(lg, lg + vocab) - lg);
        const auto t0 = std::chrono::steady_clock::now();
        const dsv4_status st = dsv4_decode_step(s, next);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (st != DSV4_STATUS_OK) return st;
    }
    return DSV4_STATUS_OK;
}

}  // namespace

dsv4_status bench_scaling(const std::string& model_dir, const dsv4_model_params& params, dsv4_model* model_n,
                          dsv4_session* prefilled, int n_threads, int rounds, long long steps,
                          const double* format_bytes, double bytes_per_token, bool probe_kernels, uint64_t bw_bytes,
                          ScalingBench& out) {
    out = ScalingBench{};
    dsv4_model_params p1 = params;
    p1.n_threads = 1;
    p1.progress = nullptr;
    dsv4_model* raw = nullptr;
    dsv4_status st = dsv4_model_open(model_dir.c_str(), &p1, &raw);
    if (st != DSV4_STATUS_OK) return st;
    ModelHandle model1(raw, &dsv4_model_close);
    dsv4_model_info info;
    info.struct_size = sizeof info;
    if ((st = dsv4_model_get_info(model1.get(), &info)) != DSV4_STATUS_OK) return st;
    const size_t vocab = size_t(info.vocab_size);
    const long long extra = rounds * steps;
    SessionHandle s1(nullptr, &dsv4_session_destroy), sn(nullptr, &dsv4_session_destroy);
    if ((st = restored_session(model1.get(), prefilled, extra, s1)) != DSV4_STATUS_OK) return st;
    if ((st = restored_session(model_n, prefilled, extra, sn)) != DSV4_STATUS_OK) return st;

    double seconds_1 = 0, seconds_n = 0, bw_1 = 0, bw_n = 0;
    auto probe = [&](int threads, double& sum) {
        double gb_s = 0;
        const dsv4_status s = dsv4_measure_read_bandwidth(threads, bw_bytes, &gb_s);
        sum += gb_s;
        return s;
    };
    // A step of each first, untimed: the one-thread model's pool starts, and both sessions'
    // buffers are in place.
    double untimed = 0;
    if ((st = decode_stretch(s1.get(), 1, vocab, untimed)) != DSV4_STATUS_OK) return st;
    if ((st = decode_stretch(sn.get(), 1, vocab, untimed)) != DSV4_STATUS_OK) return st;
    for (int r = 0; r < rounds; ++r) {
        // Alternating which goes first, so a drift of the machine over the rounds falls on both.
        for (int k = 0; k < 2; ++k) {
            const bool one = (r + k) % 2 == 0;
            if ((st = decode_stretch(one ? s1.get() : sn.get(), steps, vocab, one ? seconds_1 : seconds_n)) !=
                DSV4_STATUS_OK)
                return st;
            if ((st = probe(one ? 1 : n_threads, one ? bw_1 : bw_n)) != DSV4_STATUS_OK) return st;
        }
    }
    out.threads = n_threads;
    out.rounds = rounds;
    out.steps = steps;
    out.tok_s_1 = double(rounds * steps) / seconds_1;
    out.tok_s_n = double(rounds * steps) / seconds_n;
    out.ratio = out.tok_s_n / out.tok_s_1;
    out.bandwidth_1 = bw_1 / rounds;
    out.bandwidth_n = bw_n / rounds;
    if (probe_kernels) {
        for (int i = 0; i < 2; ++i)
            if ((st = probe_decode_kernels(out.roofline_1, i, format_bytes, 1)) != DSV4_STATUS_OK) return st;
        finish_decode_roofline(out.roofline_1, format_bytes, bytes_per_token, out.bandwidth_1);
    }
    out.ran = true;
    return DSV4_STATUS_OK;
}

void finish_scaling_roofline(ScalingBench& s, const DecodeRoofline& kernels_n, const double* format_bytes,
                             double bytes_per_token) {
    if (!s.ran || !s.roofline_1.ran) return;
    s.roofline_n = kernels_n;
    finish_decode_roofline(s.roofline_n, format_bytes, bytes_per_token, s.bandwidth_n);
    s.roofline_ratio = s.roofline_n.tok_s / s.roofline_1.tok_s;
}

}  // namespace cli
