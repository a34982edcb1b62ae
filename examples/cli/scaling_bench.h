// Decode scaling in `dsv4 bench`: the same checkpoint opened a second time with one thread, the
// prefilled session restored into it (a snapshot), and short decode stretches at one thread and
// at the run's threads taken in turn, each beside bandwidth probes at its own thread count. The
// ratio of the two speeds is then measured in the same minutes, not in two runs minutes apart:
// this VM's memory changes speed from one minute to the next, and that moved the ratio more than
// any change of the code did (docs/PERFORMANCE.md). Each thread count also gets its roofline
// (decode_roofline.h), so the ratio the machine itself allows is reported beside it (public C
// API only).
#pragma once

#include <string>

#include <dsv4/dsv4.h>

#include "decode_roofline.h"

namespace cli {

struct ScalingBench {
    bool ran = false;
    int threads = 0;         // the run's thread count, against 1
    int rounds = 0;          // stretches at each thread count
    long long steps = 0;     // decode steps a stretch
    double tok_s_1 = 0;      // decode at one thread, over all its stretches
    double tok_s_n = 0;      // and at `threads`
    double ratio = 0;        // tok_s_n / tok_s_1
    double bandwidth_1 = 0;  // mean of the probes beside the one-thread stretches
    double bandwidth_n = 0;  // and beside the others
    DecodeRoofline roofline_1, roofline_n;
    double roofline_ratio = 0;  // roofline_n.tok_s / roofline_1.tok_s
};

// `prefilled` holds the prompt (it is not changed); it is a session of model_n, opened from
// model_dir with `params` and n_threads > 1 threads. format_bytes / bytes_per_token: the
// decode's weight bytes per token (by format, in all). With probe_kernels (the cpu backend
// decodes), the decode kernels are probed at one thread for roofline_1. On failure returns the
// status and leaves `out.ran` false.
dsv4_status bench_scaling(const std::string& model_dir, const dsv4_model_params& params, dsv4_model* model_n,
                          dsv4_session* prefilled, int n_threads, int rounds, long long steps,
                          const double* format_bytes, double bytes_per_token, bool probe_kernels, uint64_t bw_bytes,
                          ScalingBench& out);

// roofline_n and roofline_ratio from the decode-kernel probes at n_threads (taken later in the
// run), with the bandwidth of the probes beside the n_threads stretches.
void finish_scaling_roofline(ScalingBench& s, const DecodeRoofline& kernels_n, const double* format_bytes,
                             double bytes_per_token);

}  // namespace cli
