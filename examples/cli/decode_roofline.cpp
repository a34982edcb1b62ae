#include "decode_roofline.h"

#include <algorithm>

namespace cli {

dsv4_status probe_decode_kernels(DecodeRoofline& r, int round, const double* format_bytes, int n_threads) {
    for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f) {
        if (!(format_bytes[f] > 0)) continue;
        double gb_s = 0;
        const dsv4_status st = dsv4_measure_decode_kernel(n_threads, static_cast<dsv4_weight_format>(f), &gb_s);
        if (st != DSV4_STATUS_OK) return st;
        r.kernel_probes_gb_s[round][f] = gb_s;
        r.kernel_gb_s[f] = std::max(r.kernel_gb_s[f], gb_s);
    }
    return DSV4_STATUS_OK;
}

void finish_decode_roofline(DecodeRoofline& r, const double* format_bytes, double bytes_per_token,
                            double bandwidth_gb_s) {
    const double bw = bandwidth_gb_s * 1e9;
    double s = 0, in_products = 0;
    for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f) {
        if (!(format_bytes[f] > 0)) continue;
        in_products += format_bytes[f];
        const double kernel = r.kernel_gb_s[f] > 0 ? r.kernel_gb_s[f] * 1e9 : bw;  // not probed: the memory's
        s += format_bytes[f] / std::min(bw, kernel);
    }
    s += std::max(0.0, bytes_per_token - in_products) / bw;
    r.ran = s > 0;
    r.seconds_per_token = s;
    r.tok_s = r.ran ? 1 / s : 0;
    r.efficiency = r.ran ? bytes_per_token * r.tok_s / bw : 0;
}

}  // namespace cli
