// The FP4 integer route (AVX512-VNNI's byte layout and AVX2's word layout,
// backends/cpu/fp4_fixed.h), on every table of this CPU that has it: the
// fixed-point digits of the activations, the kernel against the reference
// backend within the route's stated error bound, exact results where the
// activations lie on the grid, the rows it must hand to the double kernel
// (scale spans over 3 binades, NaN scales), and non-finite activations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cpu/cpu_backend.h"
#include "cpu/fp4_fixed.h"
#include "cpu/kernels.h"
#include "quant.h"
#include "reference/reference_backend.h"

using namespace dsv4;

namespace {

// Every table this CPU runs that has the integer route.
std::vector<const cpu::Kernels*> fixed_tables() {
    std::vector<const cpu::Kernels*> v;
    for (cpu::Isa i : {cpu::Isa::Avx2, cpu::Isa::Avx512Vnni, cpu::Isa::Avx512Fp16})
        if (cpu::isa_supported(i) && cpu::kernels_for(i).gemv_fp4_fixed) v.push_back(&cpu::kernels_for(i));
    return v;
}

// The plain C++ digits of K's layout.
cpu::Fp4FixedDigitsFn portable_digits(const cpu::Kernels& K) {
    return K.fp4_fixed_chunk_bytes == cpu::kFp4WordsChunkBytes ? cpu::fp4_fixed_words_portable
                                                               : cpu::fp4_fixed_digits_portable;
}

bool prepare(const cpu::Kernels& K, const float* x, int64_t n, int64_t in, cpu::Fp4FixedBuffers& b) {
    return cpu::fp4_fixed_prepare(x, in, n, in, b, K.fp4_fixed_digits, K.fp4_fixed_chunk_bytes);
}

struct IsaGuard {
    cpu::Isa saved = cpu::active_isa();
    ~IsaGuard() { cpu::set_active_isa(saved); }
};

// An FP4 Linear over owned bytes; row r's scales are base[r] + (0..spread[r]).
struct Fp4Linear {
    Tensor weight, scale;
    std::vector<uint8_t> w, s;
    Linear lin;
    Fp4Linear(int64_t out, int64_t in, const std::vector<int>& base, const std::vector<int>& spread,
              std::mt19937& rng) {
        w.resize(size_t(out * in / 2));
        s.resize(size_t(out * in / 32));
        for (auto& b : w) b = uint8_t(rng());
        for (int64_t r = 0; r < out; ++r) {
            std::uniform_int_distribution<int> d(0, spread[size_t(r)]);
            for (int64_t b = 0; b < in / 32; ++b) s[size_t(r * (in / 32) + b)] = uint8_t(base[size_t(r)] + d(rng));
            // Make the span exact: the row's first block takes the top.
            s[size_t(r * (in / 32))] = uint8_t(base[size_t(r)] + spread[size_t(r)]);
        }
        weight.name = "fixed.weight";
        weight.dtype = DType::I8;
        weight.data = w.data();
        weight.nbytes = w.size();
        scale.name = "fixed.scale";
        scale.dtype = DType::F8_E8M0;
        scale.data = s.data();
        scale.nbytes = s.size();
        lin.format = LinearFormat::FP4;
        lin.out = out;
        lin.in = in;
        lin.weight = &weight;
        lin.scale = &scale;
    }
    // sum_i |w_i| * scale_i of row r.
    double abs_sum(int64_t r) const {
        double a = 0;
        for (int64_t i = 0; i < lin.in; ++i) {
            const uint8_t byte = w[size_t(r * lin.in / 2 + i / 2)];
            const uint8_t nib = i % 2 ? byte >> 4 : byte & 0xF;
            a += std::fabs(double(fp4_e2m1_to_float(nib))) *
                 double(e8m0_to_float(s[size_t(r * (lin.in / 32) + i / 32)]));
        }
        return a;
    }
};

std::vector<float> normal_floats(size_t n, std::mt19937& rng, float sd = 1.0f) {
    std::normal_distribution<float> nd(0.0f, sd);
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
}

}  // namespace

TEST_CASE("fp4 fixed digits: the vector versions give the portable bytes, and they rebuild x", "[cpu][kernels]") {
    const auto tables = fixed_tables();
    if (tables.empty()) WARN("this CPU has no table with the FP4 integer route: only the portable digits are checked");
    std::mt19937 rng(3);
    for (int64_t in : {32, 64, 96, 4096}) {
        for (int kind = 0; kind < 4; ++kind) {
            INFO("in " << in << " kind " << kind);
            std::vector<float> x = normal_floats(size_t(in), rng);
            if (kind == 1)
                for (auto& v : x) v = 0.0f;
            if (kind == 2)  // spans 60 binades: small ones fall below the grid
                for (size_t i = 0; i < x.size(); ++i) x[i] = std::ldexp(x[i], int(i % 60) - 30);
            if (kind == 3) x[size_t(in / 3)] = -std::numeric_limits<float>::max();
            float m = 0;
            for (float v : x) m = std::max(m, std::fabs(v));
            // Byte layout: five base-256 digits per input.
            const int64_t ld = (in + 63) / 64 * cpu::kFp4Limbs * 64;
            std::vector<int8_t> d1(size_t(ld), 7);
            int e1 = 0;
            int64_t s1[cpu::kFp4Limbs];
            REQUIRE(cpu::fp4_fixed_digits_portable(x.data(), in, d1.data(), &e1, s1));
            // Word layout: three base-2^15 digits per input.
            const int64_t ldw = (in + 63) / 64 * cpu::kFp4WordsChunkBytes;
            std::vector<int8_t> w1(size_t(ldw), 5);
            int ew = 0;
            int64_t sw[cpu::kFp4Limbs] = {};
            REQUIRE(cpu::fp4_fixed_words_portable(x.data(), in, w1.data(), &ew, sw));
            REQUIRE(ew == e1);
            int64_t word_sums[cpu::kFp4Words] = {};
            // Rebuild every input from its digits: within half a grid step,
            // and the same integer from both layouts.
            for (int64_t i = 0; i < in; ++i) {
                const int64_t c = i / 64, j = i % 64, pos = (j & 1) ? 32 + j / 2 : j / 2;
                int64_t X = 0;
                for (int k = cpu::kFp4Limbs - 1; k >= 0; --k)
                    X = X * 256 + d1[size_t(c * cpu::kFp4Limbs * 64 + k * 64 + pos)];
                REQUIRE(std::fabs(double(X)) <= std::ldexp(1.0, 38));
                REQUIRE(std::fabs(std::ldexp(double(X), e1) - double(x[size_t(i)])) <= std::ldexp(1.0, e1 - 1));
                const int64_t b = i / 32, h = (i % 32) / 16, q = i % 16;
                const int64_t wpos = 16 * h + ((q & 1) ? 8 + q / 2 : q / 2);
                int64_t Xw = 0;
                for (int k = cpu::kFp4Words - 1; k >= 0; --k) {
                    int16_t word;
                    std::memcpy(&word, w1.data() + 64 * (cpu::kFp4Words * b + k) + 2 * wpos, 2);
                    if (k + 1 < cpu::kFp4Words) REQUIRE((word >= -(1 << 14) && word < (1 << 14)));
                    word_sums[k] += word;
                    Xw = Xw * 32768 + word;
                }
                REQUIRE(Xw == X);
            }
            for (int k = 0; k < cpu::kFp4Words; ++k) CHECK(word_sums[k] == sw[k]);
            if (m > 0) REQUIRE(std::ldexp(1.0, e1) <= double(m) * std::ldexp(1.0, -37));
            for (const cpu::Kernels* K : tables) {
                INFO("isa " << cpu::isa_name(K->isa));
                const bool words = K->fp4_fixed_chunk_bytes == cpu::kFp4WordsChunkBytes;
                const std::vector<int8_t>& want = words ? w1 : d1;
                const int64_t* want_sums = words ? sw : s1;
                std::vector<int8_t> d2(want.size(), 9);
                int e2 = 0;
                int64_t s2[cpu::kFp4Limbs] = {};
                REQUIRE(K->fp4_fixed_digits(x.data(), in, d2.data(), &e2, s2));
                CHECK(e1 == e2);
                CHECK(std::memcmp(want_sums, s2, sizeof(int64_t) * (words ? cpu::kFp4Words : cpu::kFp4Limbs)) == 0);
                // (The word layout has no padding to fill: its blocks are whole.)
                const size_t used = words ? size_t(in / 32 * cpu::kFp4WordsChunkBytes / 2) : want.size();
                CHECK(std::memcmp(want.data(), d2.data(), used) == 0);
            }
        }
    }
    for (float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
        std::vector<float> x(96, 1.0f);
        x[50] = bad;
        std::vector<int8_t> d(size_t(2 * cpu::kFp4WordsChunkBytes));
        int e;
        int64_t s[cpu::kFp4Limbs];
        CHECK_FALSE(cpu::fp4_fixed_digits_portable(x.data(), 96, d.data(), &e, s));
        CHECK_FALSE(cpu::fp4_fixed_words_portable(x.data(), 96, d.data(), &e, s));
        for (const cpu::Kernels* K : tables) CHECK_FALSE(K->fp4_fixed_digits(x.data(), 96, d.data(), &e, s));
    }
}

TEST_CASE("fp4 integer route: within its error bound of the reference, mixed with fallback rows", "[cpu][kernels]") {
    const auto tables = fixed_tables();
    if (tables.empty()) {
        WARN("this CPU has no table with the FP4 integer route");
        return;
    }
    for (const cpu::Kernels* K : tables) {
        INFO("isa " << cpu::isa_name(K->isa));
        std::mt19937 rng(17);
        // 19232 inputs: 300 full chunks and a half, more than one segment of the
        // decode tile's table offsets (256 chunks). 300 rows: more than one
        // segment of rows whose smallest scales are read once for every pair of
        // tokens (kFp4RowSeg, 256), with rows for the double kernel in both.
        struct Shape {
            int64_t in, out;
        };
        for (Shape sh : {Shape{32, 41}, Shape{96, 41}, Shape{288, 41}, Shape{2048, 41}, Shape{19232, 41},
                         Shape{96, 300}, Shape{2048, 300}})
            for (int64_t n = 1; n <= 5; ++n) {
                const int64_t in = sh.in, out = sh.out;
                INFO("in " << in << " out " << out << " n " << n);
                std::vector<int> base(out), spread(out);
                for (int64_t r = 0; r < out; ++r) {
                    base[size_t(r)] = 110 + int(rng() % 30);
                    spread[size_t(r)] = int(rng() % 4);  // 0..3: the integer route
                }
                // Rows the route must hand to the double kernel: a span of 4, of 12, a NaN scale
                // (and, past the first 256 rows, a span of 5 and another NaN scale).
                spread[5] = 4;
                spread[6] = 12;
                if (out > 270) spread[263] = 5;
                Fp4Linear w(out, in, base, spread, rng);
                if (in >= 64) w.s[size_t(7 * (in / 32) + 1)] = 0xFF;
                if (in >= 64 && out > 270) w.s[size_t(270 * (in / 32))] = 0xFF;
                auto x = normal_floats(size_t(n * in), rng);
                x[size_t(in / 2)] = 40.0f;  // an outlier sets the grid
                std::vector<float> want(size_t(n * out)), got(size_t(n * out));
                ReferenceBackend ref;
                ref.matmul(w.lin, 0, out, x.data(), in, n, want.data(), out);
                cpu::Fp4FixedBuffers fb;
                REQUIRE(prepare(*K, x.data(), n, in, fb));
                std::vector<double> xd(size_t(n * in));
                for (int64_t t = 0; t < n; ++t) cpu::fp4_pair_x_f32(x.data() + t * in, in, in, xd.data() + t * in);
                K->gemv_fp4_fixed(w.w.data(), w.s.data(), in, out, fb.view(), xd.data(), in, n, got.data(), out);
                for (int64_t t = 0; t < n; ++t) {
                    float m = 0;
                    for (int64_t i = 0; i < in; ++i) m = std::max(m, std::fabs(x[size_t(t * in + i)]));
                    for (int64_t r = 0; r < out; ++r) {
                        const float g = got[size_t(t * out + r)], e = want[size_t(t * out + r)];
                        INFO("token " << t << " row " << r << ": " << g << " vs " << e);
                        if ((r == 7 || (r == 270 && out > 270)) && in >= 64) {
                            CHECK(std::isnan(g));
                            CHECK(std::isnan(e));
                            continue;
                        }
                        // Rounding x onto the grid 2^exp (<= 2^-38 max|x|), then one float rounding.
                        const double bound = std::ldexp(double(m), -38) * w.abs_sum(r) + 1.2e-7 * std::fabs(double(e));
                        REQUIRE(std::fabs(double(g) - double(e)) <= bound);
                        if (r == 5 || r == 6 || r == 263) REQUIRE(std::fabs(g - e) <= 2e-7f * std::fabs(e) + 1e-30f);
                    }
                }
            }
    }
}

TEST_CASE("fp4 integer route: exact when the activations lie on its grid", "[cpu][kernels]") {
    const auto tables = fixed_tables();
    if (tables.empty()) {
        WARN("this CPU has no table with the FP4 integer route");
        return;
    }
    IsaGuard guard;
    // One token takes the decode tile, two or more the batch tiles.
    const int64_t n = GENERATE(int64_t(1), int64_t(2), int64_t(5));
    for (const cpu::Kernels* K : tables) {
        cpu::set_active_isa(K->isa);
        INFO("isa " << cpu::isa_name(K->isa) << " tokens " << n);
        std::mt19937 rng(23);
        const int64_t out = 64, in = 4096;
        std::vector<int> base(out), spread(out);
        for (int64_t r = 0; r < out; ++r) {
            base[size_t(r)] = 120 + int(r % 9);
            spread[size_t(r)] = int(r % 4);
        }
        Fp4Linear w(out, in, base, spread, rng);
        // Integers below 2^20 times 2^-12: every sum is exact in double and on the grid.
        std::vector<float> x(size_t(n * in));
        for (auto& v : x) v = std::ldexp(float(int(rng() % (1u << 21)) - (1 << 20)), -12);
        std::vector<float> want(size_t(n * out)), got(size_t(n * out));
        ReferenceBackend ref;
        ref.matmul(w.lin, 0, out, x.data(), in, n, want.data(), out);
        CpuBackend cpu(2);
        cpu.matmul(w.lin, 0, out, x.data(), in, n, got.data(), out);
        for (size_t i = 0; i < got.size(); ++i) {
            INFO("element " << i);
            REQUIRE(got[i] == want[i]);
        }
        // A NaN activation takes the double route, which carries it like the reference.
        x[100] = std::numeric_limits<float>::quiet_NaN();
        ref.matmul(w.lin, 0, out, x.data(), in, n, want.data(), out);
        cpu.matmul(w.lin, 0, out, x.data(), in, n, got.data(), out);
        for (size_t i = 0; i < got.size(); ++i) {
            INFO("element " << i);
            REQUIRE(std::isnan(got[i]) == std::isnan(want[i]));
            if (!std::isnan(want[i])) REQUIRE(got[i] == want[i]);
        }
    }
}

TEST_CASE("fp4 integer route: a row's float is the same whichever tile computes it", "[cpu][kernels]") {
    const auto tables = fixed_tables();
    if (tables.empty()) {
        WARN("this CPU has no table with the FP4 integer route");
        return;
    }
    // One token: the decode tiles (AVX-512: four rows, finished four at a
    // time up to 65536 inputs and one at a time beyond; AVX2: two rows, the
    // lanes summed in 64 bits every 4096 inputs); more: the batch tiles. Each
    // rounds the exact total once to double and once to float, so the first
    // token's floats must agree bit for bit, alone, in a pair, in a batch of
    // five, and on every table (the same integer from either layout).
    std::mt19937 rng(29);
    for (int64_t in : {64, 2048, 7168, 65536, 65600}) {
        INFO("in " << in);
        const int64_t out = 24;
        std::vector<int> base(out), spread(out);
        for (int64_t r = 0; r < out; ++r) {
            base[size_t(r)] = 100 + int(rng() % 50);
            spread[size_t(r)] = int(rng() % 4);
        }
        Fp4Linear w(out, in, base, spread, rng);
        // Wide-ranging activations: large totals, whose rounding to double matters.
        auto x = normal_floats(size_t(5 * in), rng, 1e3f);
        for (int64_t i = 0; i < 5 * in; i += 7) x[size_t(i)] *= 1e-4f;
        std::vector<double> xd(size_t(5 * in));
        for (int64_t t = 0; t < 5; ++t) cpu::fp4_pair_x_f32(x.data() + t * in, in, in, xd.data() + t * in);
        std::vector<float> first;  // the first table's token 0
        for (const cpu::Kernels* K : tables) {
            INFO("isa " << cpu::isa_name(K->isa));
            std::vector<float> y[3];
            const int64_t ns[3] = {1, 2, 5};
            for (int j = 0; j < 3; ++j) {
                cpu::Fp4FixedBuffers fb;
                REQUIRE(prepare(*K, x.data(), ns[j], in, fb));
                y[j].resize(size_t(ns[j] * out));
                K->gemv_fp4_fixed(w.w.data(), w.s.data(), in, out, fb.view(), xd.data(), in, ns[j], y[j].data(), out);
            }
            if (first.empty()) first.assign(y[0].begin(), y[0].end());
            for (int64_t r = 0; r < out; ++r) {
                INFO("row " << r << ": " << y[0][size_t(r)] << " vs " << y[1][size_t(r)] << ", " << y[2][size_t(r)]
                            << ", first table " << first[size_t(r)]);
                REQUIRE(std::memcmp(&y[0][size_t(r)], &y[1][size_t(r)], sizeof(float)) == 0);
                REQUIRE(std::memcmp(&y[0][size_t(r)], &y[2][size_t(r)], sizeof(float)) == 0);
                REQUIRE(std::memcmp(&y[0][size_t(r)], &first[size_t(r)], sizeof(float)) == 0);
            }
            // Token 4 of the batch of five (after a group of four) against the pair's token 1 is
            // another token: check it within the route's bound instead, with token 0.
            for (int64_t t : {int64_t(0), int64_t(4)}) {
                std::vector<float> want(static_cast<size_t>(out));
                ReferenceBackend().matmul(w.lin, 0, out, x.data() + t * in, in, 1, want.data(), out);
                float m = 0;
                for (int64_t i = 0; i < in; ++i) m = std::max(m, std::fabs(x[size_t(t * in + i)]));
                for (int64_t r = 0; r < out; ++r) {
                    const double bound =
                        std::ldexp(double(m), -38) * w.abs_sum(r) + 1.2e-7 * std::fabs(double(want[size_t(r)]));
                    REQUIRE(std::fabs(double(y[2][size_t(t * out + r)]) - double(want[size_t(r)])) <= bound);
                }
            }
        }
    }
}
