// Performance functions of the C ABI: a session's weight traffic and the
// machine measurements (bandwidth, GEMM peak, decode kernels) behind dsv4 bench's rooflines.
#include <cstring>

#include "cpu/kernels.h"
#include "cpu/measure.h"
#include "guard.h"
#include "handles.h"
#include "thread_limit.h"

using namespace dsv4;

namespace {

// The probes start n_threads threads (0: one per core): a negative count, or one that would
// start thousands, fails at once, naming the argument.
void require_threads(int n_threads, const char* function) {
    if (n_threads < 0 || n_threads > kMaxThreads)
        fail(DSV4_STATUS_INVALID_ARGUMENT, std::string(function) + ": n_threads must be in 0.." +
                                               std::to_string(kMaxThreads) + ", got " + std::to_string(n_threads));
}

}  // namespace

extern "C" {

DSV4_API dsv4_status dsv4_session_get_stats(const dsv4_session* session, dsv4_session_stats* stats) {
    return guarded([&] {
        require_arg(session, "dsv4_session_get_stats", "session");
        require_arg(stats, "dsv4_session_get_stats", "stats");
        const size_t caller_size = out_struct_size(stats, "dsv4_session_get_stats", "stats", "dsv4_session_stats");
        const WeightTraffic& t = session->session->traffic();
        dsv4_session_stats s;
        std::memset(&s, 0, sizeof s);
        s.struct_size = caller_size;
        s.tokens = t.tokens;
        s.weight_bytes = t.bytes;
        s.last_tokens = t.last_call_tokens;
        s.last_weight_bytes = t.last_call_bytes;
        static_assert(DSV4_WEIGHT_FORMAT_COUNT == 3 && int(LinearFormat::FP4) == DSV4_WEIGHT_FP4 &&
                          int(LinearFormat::FP8) == DSV4_WEIGHT_FP8 && int(LinearFormat::BF16) == DSV4_WEIGHT_BF16,
                      "dsv4_weight_format follows LinearFormat");
        for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f) {
            s.matmul_seconds[f] = t.format_seconds[f];
            s.matmul_bytes[f] = t.format_bytes[f];
        }
        std::memcpy(stats, &s, caller_size);
    });
}

DSV4_API dsv4_status dsv4_measure_read_bandwidth(int n_threads, uint64_t buffer_bytes, double* out_gb_s) {
    return guarded([&] {
        require_arg(out_gb_s, "dsv4_measure_read_bandwidth", "out_gb_s");
        require_threads(n_threads, "dsv4_measure_read_bandwidth");
        *out_gb_s = cpu::measure_read_bandwidth(n_threads, buffer_bytes);
    });
}

DSV4_API dsv4_status dsv4_measure_gemm_peak(int n_threads, int m, int n, int k, double* out_gflop_s) {
    return guarded([&] {
        require_arg(out_gflop_s, "dsv4_measure_gemm_peak", "out_gflop_s");
        require_threads(n_threads, "dsv4_measure_gemm_peak");
        if (m < 0 || n < 0 || k < 0)
            fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_measure_gemm_peak: the dims must be >= 0");
        *out_gflop_s = cpu::measure_gemm_peak(n_threads, m, n, k);
    });
}

DSV4_API dsv4_status dsv4_measure_decode_kernel(int n_threads, dsv4_weight_format format, double* out_gb_s) {
    return guarded([&] {
        require_arg(out_gb_s, "dsv4_measure_decode_kernel", "out_gb_s");
        require_threads(n_threads, "dsv4_measure_decode_kernel");
        const int f = enum_as_int(format);
        if (f < 0 || f >= DSV4_WEIGHT_FORMAT_COUNT)
            fail(DSV4_STATUS_INVALID_ARGUMENT,
                 "dsv4_measure_decode_kernel: format must be a dsv4_weight_format, got " + std::to_string(f));
        *out_gb_s = cpu::measure_decode_kernel(n_threads, static_cast<LinearFormat>(f));
    });
}

DSV4_API const char* dsv4_cpu_isa(void) {
    return cpu::isa_name(cpu::active_isa());
}

}  // extern "C"
