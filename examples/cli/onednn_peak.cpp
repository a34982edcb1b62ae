// oneDNN's matmul peak for `dsv4 bench` (see onednn_peak.h).
#include "onednn_peak.h"

#if DSV4_HAVE_ONEDNN

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include <dnnl.hpp>

namespace cli {

double onednn_matmul_gflop_s(bool bf16, int n_threads, int m, int n, int k, int reps, std::string& error) {
    using dnnl::memory;
    try {
        // Debian's oneDNN runs on OpenMP: this sets its thread count for the
        // calls below (and for nothing else here: the library has its own pool).
        omp_set_num_threads(std::max(1, n_threads));
        dnnl::engine eng(dnnl::engine::kind::cpu, 0);
        dnnl::stream s(eng);
        const memory::data_type in_type = bf16 ? memory::data_type::bf16 : memory::data_type::f32;
        const memory::desc a_md({m, k}, in_type, memory::format_tag::ab);
        const memory::desc b_plain_md({k, n}, in_type, memory::format_tag::ab);
        const memory::desc b_any_md({k, n}, in_type, memory::format_tag::any);
        const memory::desc c_md({m, n}, memory::data_type::f32, memory::format_tag::ab);
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_any_md, c_md), eng);

        // Inputs of ordinary magnitude (0.5 and 0.25, exact in bf16): no
        // denormals, which some CPUs multiply far more slowly.
        memory a(a_md, eng), b_plain(b_plain_md, eng), b(pd.weights_desc(), eng), c(c_md, eng);
        auto fill = [&](memory& mem, size_t count, float v) {
            if (bf16) {
                uint32_t bits;
                std::memcpy(&bits, &v, 4);
                std::fill_n(static_cast<uint16_t*>(mem.get_data_handle()), count, uint16_t(bits >> 16));
            } else {
                std::fill_n(static_cast<float*>(mem.get_data_handle()), count, v);
            }
        };
        fill(a, size_t(m) * size_t(k), 0.5f);
        fill(b_plain, size_t(k) * size_t(n), 0.25f);
        dnnl::reorder(b_plain, b).execute(s, b_plain, b);
        s.wait();

        const dnnl::matmul mm(pd);
        double best = 0;
        for (int r = 0; r <= reps; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            mm.execute(s, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
            s.wait();
            const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (r > 0) best = std::max(best, 2.0 * double(m) * double(n) * double(k) / sec / 1e9);
        }
        return best;
    } catch (const dnnl::error& e) {
        error = std::string("oneDNN ") + (bf16 ? "bf16" : "f32") + " matmul: " + e.what();
        return -1;
    }
}

}  // namespace cli

#else

namespace cli {

double onednn_matmul_gflop_s(bool, int, int, int, int, int, std::string& error) {
    error = "built without oneDNN: no oneDNN GEMM peak (install libdnnl-dev and rebuild)";
    return -1;
}

}  // namespace cli

#endif
