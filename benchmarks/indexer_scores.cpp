// The indexer's scores for one decode token at 2 threads: the integer route
// on the stored FP4 keys (CpuBackend::indexer_scores_fp4) against the double
// route it replaced (dequantizing the keys, then CpuBackend::indexer_scores),
// at flash-shape's indexer (64 heads of 128) for several context lengths
// (keys = context / 4). Also checks that both give the reference's bits.
// Not part of the build (no timing in tests); compile against a build tree:
//   g++ -O2 -std=c++17 -Ibackends -Ilib -Iinclude benchmarks/indexer_scores.cpp \
//       BUILD/libdsv4_internal.a -lfmt -lpcre2-8 -lpthread -o /tmp/indexer_scores
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/cpu_backend.h"
#include "forward/quant_sim.h"
#include "reference/reference_backend.h"
#include "session_state.h"

using namespace dsv4;

namespace {
double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int main() {
    const int heads = 64;
    const int64_t dim = 128;
    std::mt19937 rng(7);
    std::normal_distribution<float> nd;
    CpuBackend cpu(2);
    ReferenceBackend ref;
    for (int64_t count : {int64_t(128), int64_t(1024), int64_t(4096), int64_t(16384), int64_t(65536)}) {
        // Queries and keys on the FP4 grid, as the indexer makes them.
        std::vector<float> q(size_t(heads * dim)), w(static_cast<size_t>(heads)), x(static_cast<size_t>(dim));
        for (auto& v : q) v = nd(rng);
        fp4_simulate(q.data(), heads * dim, 32);
        for (auto& v : w) v = nd(rng);
        IndexKeys keys(int(dim), count);
        for (int64_t b = 0; b < count; ++b) {
            for (auto& v : x) v = nd(rng);
            keys.quantize_store(b, x.data());
        }
        std::vector<float> kf(size_t(count * dim)), want(static_cast<size_t>(count)),
            by_double(static_cast<size_t>(count)), by_integers(static_cast<size_t>(count));
        keys.load(0, count, kf.data());
        ref.indexer_scores(q.data(), w.data(), heads, dim, kf.data(), count, want.data());
        double t_double = 1e9, t_integers = 1e9;
        for (int rep = 0; rep < 7; ++rep) {
            double t = now();
            keys.load(0, count, kf.data());
            cpu.indexer_scores(q.data(), w.data(), heads, dim, kf.data(), count, by_double.data());
            t_double = std::min(t_double, now() - t);
            t = now();
            cpu.indexer_scores_fp4(q.data(), w.data(), heads, dim, keys.packed(0), keys.scales(0), count,
                                   by_integers.data());
            t_integers = std::min(t_integers, now() - t);
        }
        const bool same = std::memcmp(want.data(), by_double.data(), want.size() * 4) == 0 &&
                          std::memcmp(want.data(), by_integers.data(), want.size() * 4) == 0;
        std::printf("context %7lld (%6lld keys): dequantize + double %8.3f ms, integers %7.3f ms (%5.2fx)%s\n",
                    (long long)(count * 4), (long long)count, t_double * 1e3, t_integers * 1e3, t_double / t_integers,
                    same ? "" : "  DIFFERENT FROM THE REFERENCE");
    }
    return 0;
}
