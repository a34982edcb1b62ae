// Decode's roofline in `dsv4 bench`: a token must read each weight format's bytes, and can read
// them no faster than the lower of the memory's read bandwidth and the speed of the format's
// kernel on weights already in the cache (dsv4_measure_decode_kernel). Where the kernels are
// slower than the memory (exact FP8 and FP4 sums on a few AVX2 cores: docs/PERFORMANCE.md), the
// cores, not the memory, bound decode, and this says by how much (public C API only).
#pragma once

#include <dsv4/dsv4.h>

namespace cli {

struct DecodeRoofline {
    bool ran = false;
    // Per dsv4_weight_format: the better of the run's probes of its kernel (0: not probed, the
    // model has none of it), and those probes.
    double kernel_gb_s[DSV4_WEIGHT_FORMAT_COUNT] = {0, 0, 0};
    double kernel_probes_gb_s[2][DSV4_WEIGHT_FORMAT_COUNT] = {{0, 0, 0}, {0, 0, 0}};
    double seconds_per_token = 0;  // the least a token can take
    double tok_s = 0;              // the most tokens a second
    double efficiency = 0;         // bytes_per_token x tok_s / bandwidth: the best decode efficiency possible
};

// Probe `round` (0 or 1) of each format with bytes in a token (format_bytes[f] > 0), n_threads
// threads; the first failed probe's status (dsv4_last_error() says why), else DSV4_STATUS_OK.
dsv4_status probe_decode_kernels(DecodeRoofline& r, int round, const double* format_bytes, int n_threads);

// The roofline from the probes: format_bytes[f] per token at min(bandwidth, kernel_gb_s[f]), and
// the rest of bytes_per_token (reads outside the matrix products) at the bandwidth.
void finish_decode_roofline(DecodeRoofline& r, const double* format_bytes, double bytes_per_token,
                            double bandwidth_gb_s);

}  // namespace cli
