// measure_decode_kernel (measure.h): the compute side of decode's roofline.
//
// Decode reads every weight once per token, so its ceiling is the lower of
// two speeds per weight format: the memory's (measure_read_bandwidth) and the
// cores' (this). A weight of a few MiB stays in the last-level cache between
// calls, so the product's time here is the kernels' own: decoding the codes
// and summing exactly (docs/PERFORMANCE.md, "Precision").
#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include "cpu/cpu_backend.h"
#include "cpu/measure.h"
#include "error.h"
#include "safetensors.h"

namespace dsv4::cpu {

namespace {

constexpr int64_t kIn = 4096;                       // the width of most of a V4 token's weights
constexpr int64_t kWeightBytes = int64_t(4) << 20;  // well inside a last-level cache, over the L2s
constexpr double kMinRunSeconds = 0.02;             // per timed run: many calls, the pool's cost shared

// A weight of `format`, kIn inputs, about kWeightBytes, with the codes a
// checkpoint holds: FP8 normal codes (no NaN, no e = 0: a checkpoint has one in
// thousands), FP4 any code with block scales within three binades of each
// other (the integer route's rows), BF16 values near 1.
struct SyntheticWeight {
    Tensor weight, scale;
    std::vector<uint8_t> data, scales;
    Linear linear;

    explicit SyntheticWeight(LinearFormat format) {
        std::mt19937 rng(7);
        const int64_t row_bytes = format == LinearFormat::BF16 ? 2 * kIn : format == LinearFormat::FP8 ? kIn : kIn / 2;
        const int64_t rows = kWeightBytes / row_bytes;
        data.resize(size_t(rows * row_bytes));
        for (auto& b : data) b = uint8_t(rng());
        weight.name = "decode-kernel probe weight";
        weight.data = data.data();
        weight.nbytes = data.size();
        linear.format = format;
        linear.out = rows;
        linear.in = kIn;
        linear.weight = &weight;
        switch (format) {
            case LinearFormat::BF16:
                weight.dtype = DType::BF16;
                weight.shape = {rows, kIn};
                for (size_t i = 1; i < data.size(); i += 2) data[i] = uint8_t((data[i] & 0x80) | 0x3F);
                break;
            case LinearFormat::FP8:
                weight.dtype = DType::F8_E4M3;
                weight.shape = {rows, kIn};
                for (auto& b : data) {
                    if ((b & 0x78) == 0) b |= 0x08;
                    if ((b & 0x7F) == 0x7F) b ^= 1;
                }
                scales.assign(size_t((rows + 127) / 128 * (kIn / 128)), 120);
                scale.dtype = DType::F8_E8M0;
                scale.shape = {(rows + 127) / 128, kIn / 128};
                break;
            case LinearFormat::FP4:
                weight.dtype = DType::I8;
                weight.shape = {rows, kIn / 2};
                scales.resize(size_t(rows * (kIn / 32)));
                for (auto& s : scales) s = uint8_t(118 + rng() % 3);
                scale.dtype = DType::F8_E8M0;
                scale.shape = {rows, kIn / 32};
                break;
        }
        if (!scales.empty()) {
            scale.name = "decode-kernel probe scale";
            scale.data = scales.data();
            scale.nbytes = scales.size();
            linear.scale = &scale;
        }
    }

    double bytes() const { return double(data.size() + scales.size()); }
};

}  // namespace

double measure_decode_kernel(int n_threads, LinearFormat format, int runs) {
    const SyntheticWeight w(format);
    const CpuBackend backend(n_threads);
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(kIn)), y(static_cast<size_t>(w.linear.out));
    for (auto& v : x) v = normal(rng);
    auto product = [&] {
        if (format == LinearFormat::BF16)
            backend.logits_matmul(w.linear, x.data(), kIn, 1, y.data(), w.linear.out);
        else
            backend.matmul(w.linear, 0, w.linear.out, x.data(), kIn, 1, y.data(), w.linear.out);
    };
    // The first calls start the pool and bring the weight into the cache.
    using Clock = std::chrono::steady_clock;
    auto t0 = Clock::now();
    int calls = 0;
    do {
        product();
        ++calls;
    } while (calls < 3 || std::chrono::duration<double>(Clock::now() - t0).count() < 0.5 * kMinRunSeconds);
    const double per_call = std::chrono::duration<double>(Clock::now() - t0).count() / calls;
    const int reps = std::max(1, int(kMinRunSeconds / std::max(per_call, 1e-7)));
    double best = 0.0;
    for (int r = 0; r < std::max(1, runs); ++r) {
        t0 = Clock::now();
        for (int i = 0; i < reps; ++i) product();
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        best = std::max(best, w.bytes() * reps / s / 1e9);
    }
    if (!(best > 0.0)) fail(DSV4_STATUS_INTERNAL, "the decode-kernel probe timed no product");
    return best;
}

}  // namespace dsv4::cpu
