// FP8 / FP4 / BF16 decoding against hand-computed values.
#include <catch2/catch.hpp>

#include <cmath>

#include "quant.h"

using namespace dsv4;

TEST_CASE("fp8 e4m3 decodes normals, subnormals, zero and NaN", "[quant]") {
    CHECK(fp8_e4m3_to_float(0x00) == 0.0f);
    CHECK(std::signbit(fp8_e4m3_to_float(0x80)));
    CHECK(fp8_e4m3_to_float(0x38) == 1.0f);          // exp 7, man 0
    CHECK(fp8_e4m3_to_float(0x3C) == 1.5f);          // exp 7, man 4
    CHECK(fp8_e4m3_to_float(0xB8) == -1.0f);
    CHECK(fp8_e4m3_to_float(0x7E) == 448.0f);        // the largest finite value
    CHECK(fp8_e4m3_to_float(0xFE) == -448.0f);
    CHECK(fp8_e4m3_to_float(0x08) == 0.015625f);     // smallest normal 2^-6
    CHECK(fp8_e4m3_to_float(0x01) == 0.001953125f);  // smallest subnormal 2^-9
    CHECK(fp8_e4m3_to_float(0x07) == 7 * 0.001953125f);
    CHECK(std::isnan(fp8_e4m3_to_float(0x7F)));
    CHECK(std::isnan(fp8_e4m3_to_float(0xFF)));
    CHECK(fp8_e4m3_to_float(0x78) == 256.0f);  // exp 15, man 0: not infinity
    for (int i = 0; i < 256; ++i) {
        float a = kFp8E4m3Table[i], b = fp8_e4m3_to_float(uint8_t(i));
        CHECK((a == b || (std::isnan(a) && std::isnan(b))));
    }
}

TEST_CASE("e8m0 scales are powers of two", "[quant]") {
    CHECK(e8m0_to_float(127) == 1.0f);
    CHECK(e8m0_to_float(128) == 2.0f);
    CHECK(e8m0_to_float(120) == 1.0f / 128);
    CHECK(e8m0_to_float(0) == std::ldexp(1.0f, -127));
    CHECK(std::isnan(e8m0_to_float(255)));
}

TEST_CASE("fp4 e2m1 table", "[quant]") {
    const float want[16] = {0, .5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -.5f, -1, -1.5f, -2, -3, -4, -6};
    for (int i = 0; i < 16; ++i) CHECK(fp4_e2m1_to_float(uint8_t(i)) == want[i]);
    CHECK(std::signbit(fp4_e2m1_to_float(8)));
}

TEST_CASE("fp4 rows: low nibble first, one scale per 32 inputs", "[quant]") {
    // One row of 64 inputs: bytes 0x21 -> elements (1: 0.5, 2: 1.0); scales 2^1, 2^-1.
    uint8_t w[32];
    for (int i = 0; i < 32; ++i) w[i] = 0x21;
    w[31] = 0xF7;  // element 62 = code 7 (6.0), element 63 = code 15 (-6.0)
    uint8_t s[2] = {128, 126};
    float out[64];
    dequant_fp4_row(w, s, 64, 0, out);
    CHECK(out[0] == 1.0f);   // 0.5 * 2
    CHECK(out[1] == 2.0f);   // 1.0 * 2
    CHECK(out[31] == 2.0f);
    CHECK(out[32] == 0.25f);  // 0.5 * 0.5
    CHECK(out[62] == 3.0f);   // 6 * 0.5
    CHECK(out[63] == -3.0f);
}

TEST_CASE("fp8 rows use 128x128 block scales", "[quant]") {
    // 130 rows x 130 inputs: scale grid 2x2.
    std::vector<uint8_t> w(130 * 130, 0x38);  // all 1.0
    uint8_t s[4] = {127, 128, 129, 130};      // 1, 2, 4, 8
    float out[130];
    dequant_fp8_row(w.data(), s, 130, 0, out);
    CHECK(out[0] == 1.0f);
    CHECK(out[127] == 1.0f);
    CHECK(out[128] == 2.0f);
    dequant_fp8_row(w.data(), s, 130, 129, out);
    CHECK(out[0] == 4.0f);
    CHECK(out[129] == 8.0f);
}

TEST_CASE("bf16 and fp16", "[quant]") {
    CHECK(bf16_to_float(0x3F80) == 1.0f);
    CHECK(bf16_to_float(0xC040) == -3.0f);
    CHECK(fp16_to_float(0x3C00) == 1.0f);
    CHECK(fp16_to_float(0x0001) == std::ldexp(1.0f, -24));
    CHECK(std::isinf(fp16_to_float(0x7C00)));
}
