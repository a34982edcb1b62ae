// The QAT simulation: FP8 e4m3 / FP4 e2m1 rounding (nearest, ties to even),
// power-of-two block scales, and the Hadamard rotation.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "forward/quant_sim.h"
#include "quant.h"

using namespace dsv4;

namespace {

// Brute force: the nearest grid value; on a tie the one whose code has a
// zero mantissa LSB (even). grid[i] is the value of code i (non-negative codes).
float nearest_even(float v, const std::vector<float>& grid) {
    const float a = std::fabs(v);
    size_t best = 0;
    for (size_t i = 1; i < grid.size(); ++i) {
        const float d = std::fabs(grid[i] - a), db = std::fabs(grid[best] - a);
        if (d < db || (d == db && (i & 1) == 0 && (best & 1) == 1)) best = i;
    }
    return std::copysign(grid[best], v);
}

}  // namespace

TEST_CASE("e4m3 rounding is nearest-even onto the e4m3fn grid", "[quant_sim]") {
    std::vector<float> grid;
    for (int c = 0; c < 0x7F; ++c) grid.push_back(fp8_e4m3_to_float(uint8_t(c)));  // 0 .. 448
    for (float g : grid) CHECK(round_to_e4m3(g) == g);
    CHECK(round_to_e4m3(1.0625f) == 1.0f);    // tie between 1 (even) and 1.125
    CHECK(round_to_e4m3(1.1875f) == 1.25f);   // tie between 1.125 and 1.25 (even)
    CHECK(round_to_e4m3(-1.1875f) == -1.25f);
    CHECK(round_to_e4m3(std::ldexp(1.0f, -10)) == 0.0f);                         // half the smallest subnormal
    CHECK(round_to_e4m3(3 * std::ldexp(1.0f, -10)) == std::ldexp(1.0f, -8));     // 1.5 x 2^-9 -> 2 x 2^-9
    CHECK(round_to_e4m3(440.0f) == 448.0f);   // nearest
    CHECK(round_to_e4m3(432.0f) == 448.0f);   // tie between 416 (odd mantissa) and 448 (even)
    CHECK(round_to_e4m3(400.0f) == 384.0f);   // tie between 384 (even) and 416
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-448.0f, 448.0f);
    for (int i = 0; i < 20000; ++i) {
        float v = u(rng) * std::ldexp(1.0f, -int(rng() % 16));
        CHECK(round_to_e4m3(v) == nearest_even(v, grid));
    }
}

TEST_CASE("e2m1 rounding is nearest-even onto the FP4 grid", "[quant_sim]") {
    const std::vector<float> grid = {0, .5f, 1, 1.5f, 2, 3, 4, 6};
    const float ties[][2] = {{0.25f, 0}, {0.75f, 1}, {1.25f, 1}, {1.75f, 2}, {2.5f, 2}, {3.5f, 4}, {5.0f, 4}};
    for (auto& t : ties) {
        CHECK(round_to_e2m1(t[0]) == t[1]);
        CHECK(round_to_e2m1(-t[0]) == -t[1]);
    }
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> u(-6.0f, 6.0f);
    for (int i = 0; i < 20000; ++i) {
        const float v = u(rng);
        CHECK(round_to_e2m1(v) == nearest_even(v, grid));
    }
}

TEST_CASE("block scales are powers of two covering the block maximum", "[quant_sim]") {
    CHECK(block_scale_pow2(448.0f, 1e-4f, 448.0f) == 1.0f);
    CHECK(block_scale_pow2(449.0f, 1e-4f, 448.0f) == 2.0f);
    CHECK(block_scale_pow2(224.0f, 1e-4f, 448.0f) == 0.5f);
    CHECK(block_scale_pow2(0.0f, 1e-4f, 448.0f) == std::ldexp(1.0f, -22));  // 1e-4 / 448 = 2.2e-7 -> 2^-22
    CHECK(block_scale_pow2(6.0f, 6 * std::ldexp(1.0f, -126), 6.0f) == 1.0f);
    CHECK(block_scale_pow2(7.0f, 6 * std::ldexp(1.0f, -126), 6.0f) == 2.0f);
    CHECK(block_scale_pow2(0.0f, 6 * std::ldexp(1.0f, -126), 6.0f) == std::ldexp(1.0f, -126));

    // A block whose max is 6 * 2^3 = 48 uses scale 8: values snap to 8 x grid.
    std::vector<float> x = {48.0f, 1.0f, 2.0f, 3.9f, -13.0f, 20.0f, 0.0f, 44.0f};
    x.resize(32, 0.0f);
    fp4_simulate(x.data(), 32, 32);
    CHECK(x[0] == 48.0f);
    CHECK(x[1] == 0.0f);    // 1/8 = 0.125 -> 0
    CHECK(x[2] == 0.0f);    // 0.25 -> 0 (tie, even)
    CHECK(x[3] == 4.0f);    // 0.4875 -> 0.5
    CHECK(x[4] == -12.0f);  // -1.625 -> -1.5
    CHECK(x[5] == 16.0f);   // 2.5 -> 2 (tie, even)
    CHECK(x[7] == 48.0f);   // 5.5 -> 6

    // FP8 blocks of 64 are independent; representable values survive.
    std::vector<float> y(128);
    for (int i = 0; i < 64; ++i) y[size_t(i)] = fp8_e4m3_to_float(uint8_t(i + 0x30)) * 0.25f;
    for (int i = 64; i < 128; ++i) y[size_t(i)] = float(i) * 1000.0f;
    const std::vector<float> y0 = y;
    fp8_simulate(y.data(), 128, 64);
    for (int i = 0; i < 64; ++i) CHECK(y[size_t(i)] == y0[size_t(i)]);
    for (int i = 64; i < 128; ++i) CHECK(std::fabs(y[size_t(i)] - y0[size_t(i)]) <= y0[size_t(i)] / 16);
}

TEST_CASE("Hadamard rotation: Sylvester order, orthonormal, its own inverse", "[quant_sim]") {
    float x[4] = {1, 2, 3, 4};
    hadamard_transform(x, 4);
    // H4 rows: ++++, +-+-, ++--, +--+ ; scaled by 1/2.
    CHECK(x[0] == Approx(5.0f));
    CHECK(x[1] == Approx(-1.0f));
    CHECK(x[2] == Approx(-2.0f));
    CHECK(x[3] == Approx(0.0f).margin(1e-6));
    std::mt19937 rng(3);
    std::normal_distribution<float> n(0, 1);
    std::vector<float> v(128), w;
    for (float& f : v) f = n(rng);
    w = v;
    hadamard_transform(w.data(), 128);
    double nv = 0, nw = 0;
    for (size_t i = 0; i < 128; ++i) nv += v[i] * v[i], nw += w[i] * w[i];
    CHECK(nw == Approx(nv).epsilon(1e-5));
    hadamard_transform(w.data(), 128);
    for (size_t i = 0; i < 128; ++i) CHECK(w[i] == Approx(v[i]).margin(1e-5));
}
