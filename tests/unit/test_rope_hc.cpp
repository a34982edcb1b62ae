// RoPE with and without YaRN, and the hyper-connection Sinkhorn split.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "forward/hyper_connections.h"
#include "forward/rope.h"

using namespace dsv4;

TEST_CASE("rope without YaRN rotates interleaved pairs by p * base^(-2i/r)", "[rope]") {
    RopeTable t(64, 10000.0, nullptr);
    REQUIRE(t.inv_freq().size() == 32);
    for (int i = 0; i < 32; ++i)
        CHECK(t.inv_freq()[size_t(i)] == Approx(std::pow(10000.0, -2.0 * i / 64)).epsilon(1e-6));
    std::vector<float> x(64, 0.0f);
    for (int i = 0; i < 32; ++i) x[size_t(2 * i)] = 1.0f;
    t.apply(x.data(), 7);
    for (int i = 0; i < 32; ++i) {
        const double a = 7.0 * std::pow(10000.0, -2.0 * i / 64);
        CHECK(x[size_t(2 * i)] == Approx(std::cos(a)).margin(1e-5));
        CHECK(x[size_t(2 * i + 1)] == Approx(std::sin(a)).margin(1e-5));
    }
    // The inverse rotation undoes it; position 0 is the identity.
    t.apply(x.data(), 7, true);
    for (int i = 0; i < 32; ++i) {
        CHECK(x[size_t(2 * i)] == Approx(1.0f).margin(1e-6));
        CHECK(x[size_t(2 * i + 1)] == Approx(0.0f).margin(1e-6));
    }
}

TEST_CASE("rope angles once, rotate per head: bit for bit what apply and the reference do", "[rope]") {
    RopeTable t(64, 10000.0, nullptr);
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    RopeTable::Angles a;
    for (int64_t pos : {int64_t(0), int64_t(5), int64_t(1000003)})
        for (bool inverse : {false, true}) {
            t.angles(pos, inverse, a);
            for (int head = 0; head < 3; ++head) {
                std::vector<float> x(64), y;
                for (auto& v : x) v = nd(rng);
                // The rotation in float of angles taken through double, as
                // the reference computes it.
                std::vector<float> want = x;
                for (int i = 0; i < 32; ++i) {
                    const float angle = float(pos) * t.inv_freq()[size_t(i)];
                    const float c = float(std::cos(double(angle)));
                    const float s = inverse ? -float(std::sin(double(angle))) : float(std::sin(double(angle)));
                    const float u = x[size_t(2 * i)], v = x[size_t(2 * i + 1)];
                    want[size_t(2 * i)] = u * c - v * s;
                    want[size_t(2 * i + 1)] = u * s + v * c;
                }
                y = x;
                t.apply(x.data(), pos, inverse);
                t.rotate(y.data(), a);
                REQUIRE(std::memcmp(x.data(), want.data(), x.size() * sizeof(float)) == 0);
                REQUIRE(std::memcmp(y.data(), want.data(), y.size() * sizeof(float)) == 0);
            }
        }
}

TEST_CASE("YaRN keeps fast dims, divides slow dims by the factor, ramps between", "[rope]") {
    YarnConfig y;
    y.enabled = true;
    y.factor = 16;
    y.original_max_position = 65536;
    y.beta_fast = 32;
    y.beta_slow = 1;
    const double base = 160000;
    RopeTable plain(64, base, nullptr), yarn(64, base, &y);
    auto corr = [&](double rot) { return 64 * std::log(65536 / (rot * 2 * M_PI)) / (2 * std::log(base)); };
    const int low = int(std::floor(corr(32))), high = int(std::ceil(corr(1)));
    REQUIRE(low >= 0);
    REQUIRE(high < 32);
    for (int i = 0; i < 32; ++i) {
        const float p = plain.inv_freq()[size_t(i)], q = yarn.inv_freq()[size_t(i)];
        if (i <= low)
            CHECK(q == p);
        else if (i >= high)
            CHECK(q == Approx(p / 16).epsilon(1e-6));
        else {
            const double ramp = double(i - low) / (high - low);
            CHECK(q == Approx(p / 16 * ramp + p * (1 - ramp)).epsilon(1e-5));
        }
    }
}

TEST_CASE("Sinkhorn split: pre/post ranges and a doubly stochastic combination", "[hc]") {
    const int hc = 4, n = (2 + hc) * hc;
    std::mt19937 rng(5);
    std::normal_distribution<float> g(0, 2);
    std::vector<float> mixes(n), base(n);
    for (auto& v : mixes) v = g(rng);
    for (auto& v : base) v = g(rng);
    const float scale[3] = {0.7f, 1.3f, 0.9f};
    float pre[hc], post[hc], comb[hc * hc];
    hc_split_sinkhorn(mixes.data(), scale, base.data(), hc, 20, 1e-6f, pre, post, comb);
    for (int i = 0; i < hc; ++i) {
        CHECK(pre[i] > 0.0f);
        CHECK(pre[i] <= 1.0f + 1e-6f);
        CHECK(pre[i] == Approx(1 / (1 + std::exp(-(mixes[size_t(i)] * 0.7f + base[size_t(i)]))) + 1e-6).epsilon(1e-6));
        CHECK(post[i] > 0.0f);
        CHECK(post[i] < 2.0f);
    }
    for (int i = 0; i < hc; ++i) {
        float row = 0, col = 0;
        for (int j = 0; j < hc; ++j) {
            CHECK(comb[i * hc + j] > 0.0f);
            row += comb[i * hc + j];
            col += comb[j * hc + i];
        }
        CHECK(row == Approx(1.0f).epsilon(1e-3));
        CHECK(col == Approx(1.0f).epsilon(1e-4));  // the last step normalizes columns
    }
    // One iteration is a row softmax (+eps) followed by a column normalization.
    hc_split_sinkhorn(mixes.data(), scale, base.data(), hc, 1, 1e-6f, pre, post, comb);
    for (int j = 0; j < hc; ++j) {
        float col = 0;
        for (int i = 0; i < hc; ++i) col += comb[i * hc + j];
        CHECK(col == Approx(1.0f).epsilon(1e-5));
    }
}
