// Session state is sized per layer by its compression ratio; the estimate
// needs no allocation, so a 1M-token Flash context can be priced on paper.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "forward/quant_sim.h"
#include "session_helpers.h"
#include "session_state.h"

using namespace session_testing;

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) {
    return (a + b - 1) / b;
}

// The per-ratio formula of ARCHITECTURE-V4.md section 4 in the compact
// layout, written out independently. A KV row (window row or compressed
// attention entry) is d - r FP8 codes + one scale byte per 64 + r floats; an
// indexer key di/2 bytes of FP4 codes + one scale byte per 32. Per block (MTP
// included) a window ring of W + 32 rows (32: the truncation slack); per
// compressed layer ceil(ctx/R) rows; per indexer ceil(ctx/4) keys; compressor
// rings of a and g rows (2R + 32 rows of 2c with overlap, R + 32 rows of c
// without); the last 33 tokens' streams, and W more with an MTP block (its
// ring is caught up from them when a draft needs it); 4 bytes of token
// history per token.
dsv4::SessionBytes expected(const std::vector<int>& ratios, bool mtp, uint64_t W, uint64_t d, uint64_t r, uint64_t di,
                            uint64_t hc, uint64_t D, uint64_t ctx) {
    dsv4::SessionBytes b;
    const uint64_t row = (d - r) + (d - r) / 64 + 4 * r, key = di / 2 + di / 32;
    const size_t blocks = ratios.size() + (mtp ? 1 : 0);
    b.kv_row = row;
    b.index_key = key;
    b.window = blocks * (W + 32) * row;
    for (int R : ratios) {
        if (R == 0) continue;
        b.compressed += ceil_div(ctx, uint64_t(R)) * row;
        b.carry += (R == 4 ? 2 * (8 + 32) * 2 * d : 2 * (uint64_t(R) + 32) * d) * 4;
        if (R == 4) {
            b.indexer += ceil_div(ctx, 4) * key;
            b.carry += 2 * (8 + 32) * 2 * di * 4;
        }
    }
    b.carry += (33 + (mtp ? W : 0)) * hc * D * 4;
    b.history = 4 * ctx;
    return b;
}

dsv4::ModelConfig flash_config() {
    dsv4::ModelConfig c;
    c.hidden_size = 4096;
    c.n_layers = 43;
    c.n_heads = 64;
    c.head_dim = 512;
    c.rope_head_dim = 64;
    c.q_lora_rank = 1024;
    c.o_groups = 8;
    c.o_lora_rank = 1024;
    c.sliding_window = 128;
    c.compress_ratios = {0, 0};
    for (int i = 0; i < 20; ++i) {
        c.compress_ratios.push_back(4);
        c.compress_ratios.push_back(128);
    }
    c.compress_ratios.push_back(4);
    c.compress_ratios.push_back(0);  // MTP
    c.index_n_heads = 64;
    c.index_head_dim = 128;
    c.index_topk = 512;
    c.n_routed_experts = 256;
    c.n_experts_per_tok = 6;
    c.moe_intermediate_size = 2048;
    c.hc_mult = 4;
    c.n_mtp_layers = 1;
    c.vocab_size = 129280;
    c.max_position_embeddings = 1 << 20;
    return c;
}

}  // namespace

TEST_CASE("session state bytes follow the per-ratio formula", "[session][memory]") {
    auto model = open_golden_model("tiny-s4");  // ratios 0,4,128,4 + MTP; W 16, d 128, di 128, hc 4, D 128
    for (uint64_t ctx : {uint64_t(1), uint64_t(5), uint64_t(1000), uint64_t(4096)}) {
        INFO("n_ctx " << ctx);
        auto s = make_session(model.get(), ctx);
        dsv4_session_info info;
        info.struct_size = sizeof info;
        REQUIRE(dsv4_session_get_info(s.get(), &info) == DSV4_STATUS_OK);
        const auto want = expected({0, 4, 128, 4}, true, 16, 128, 64, 128, 4, 128, ctx);
        CHECK(info.n_ctx == ctx);
        CHECK(info.window_bytes == want.window);
        CHECK(info.compressed_bytes == want.compressed);
        CHECK(info.indexer_bytes == want.indexer);
        CHECK(info.carry_bytes == want.carry);
        CHECK(info.history_bytes == want.history);
        CHECK(info.kv_row_bytes == 64 + 1 + 256);
        CHECK(info.index_key_bytes == 64 + 4);
        CHECK(info.state_bytes == want.total());
        dsv4_session_info est;
        est.struct_size = sizeof est;
        REQUIRE(dsv4_model_estimate_session_bytes(model.get(), ctx, &est) == DSV4_STATUS_OK);
        CHECK(est.state_bytes == info.state_bytes);
        CHECK(est.position == 0);
    }
}

TEST_CASE("a 1M-token Flash context is priced without allocating", "[session][memory]") {
    const dsv4::ModelConfig c = flash_config();
    const uint64_t ctx = uint64_t(1) << 20;
    const dsv4::SessionBytes b = dsv4::session_bytes(c, ctx);
    std::vector<int> main(c.compress_ratios.begin(), c.compress_ratios.end() - 1);
    const auto want = expected(main, true, 128, 512, 64, 128, 4, 4096, ctx);
    CHECK(b.window == want.window);
    CHECK(b.compressed == want.compressed);
    CHECK(b.indexer == want.indexer);
    CHECK(b.carry == want.carry);
    CHECK(b.history == want.history);
    // 21 CSA layers hold ctx/4 entries, 20 HCA layers ctx/128, 711 bytes each
    // (448 FP8 codes, 7 scales, 64 float rotary dims): 3.75 GiB, plus 0.35 GiB
    // of 68-byte FP4 indexer keys; 4.14 GiB in all, against 13.4 GiB for the
    // same entries in float32 and 92 GB for a full ctx x d cache on all 43
    // layers.
    CHECK(b.kv_row == 711);
    CHECK(b.index_key == 68);
    CHECK(b.compressed == (21 * (ctx / 4) + 20 * (ctx / 128)) * 711);
    CHECK(b.indexer == 21 * (ctx / 4) * 68);
    CHECK(b.total() == 4446363776ull);
    CHECK(b.total() * 3 < (21 * (ctx / 4) + 20 * (ctx / 128)) * 512 * 4 + 21 * (ctx / 4) * 128 * 4);

    // The C API does the same for a loaded model at its full 2^20 context.
    auto model = open_golden_model("tiny-s4");
    dsv4_session_info info;
    info.struct_size = sizeof info;
    REQUIRE(dsv4_model_estimate_session_bytes(model.get(), ctx, &info) == DSV4_STATUS_OK);
    CHECK(info.n_ctx == ctx);
    CHECK(info.state_bytes == expected({0, 4, 128, 4}, true, 16, 128, 64, 128, 4, 128, ctx).total());
    CHECK(dsv4_model_estimate_session_bytes(model.get(), ctx + 1, &info) == DSV4_STATUS_INVALID_ARGUMENT);
}

TEST_CASE("a 1M-token Pro context", "[session][memory]") {
    dsv4::ModelConfig c = flash_config();
    c.hidden_size = 7168;
    c.n_layers = 61;
    c.compress_ratios = {128, 128};
    for (int i = 0; i < 29; ++i) {
        c.compress_ratios.push_back(4);
        c.compress_ratios.push_back(128);
    }
    c.compress_ratios.push_back(4);
    c.compress_ratios.push_back(0);  // MTP
    const uint64_t ctx = uint64_t(1) << 20;
    const dsv4::SessionBytes b = dsv4::session_bytes(c, ctx);
    std::vector<int> main(c.compress_ratios.begin(), c.compress_ratios.end() - 1);
    const auto want = expected(main, true, 128, 512, 64, 128, 4, 7168, ctx);
    CHECK(b.total() == want.total());
    // 30 CSA + 31 HCA layers: 5.93 GiB in all.
    CHECK(b.compressed == (30 * (ctx / 4) + 31 * (ctx / 128)) * 711);
    CHECK(b.total() == 6369181504ull);
}

// The layout is exact: the values read back are those the model computed.
TEST_CASE("compact KV rows and indexer keys give back the simulated values bit for bit", "[session][memory]") {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float spread : {1e-7f, 1e-3f, 1.0f, 300.0f}) {
        INFO("spread " << spread);
        dsv4::KvRows rows(512, 64, 3);
        dsv4::IndexKeys keys(128, 2);
        for (int t = 0; t < 50; ++t) {
            std::vector<float> x(512), sim, back(512);
            for (size_t j = 0; j < x.size(); ++j) x[j] = normal(rng) * spread * (j % 7 == 0 ? 40.0f : 1.0f);
            if (t % 5 == 0) x[3] = -0.0f;
            sim = x;
            dsv4::fp8_simulate(sim.data(), 448, 64);
            rows.quantize_store(t % 3, x.data());
            CHECK(std::memcmp(x.data(), sim.data(), 512 * 4) == 0);  // rounded in place like fp8_simulate
            rows.load(t % 3, back.data());
            CHECK(std::memcmp(back.data(), sim.data(), 512 * 4) == 0);

            std::vector<float> y(x.begin(), x.begin() + 128), ysim = y, yback(128);
            dsv4::fp4_simulate(ysim.data(), 128, 32);
            keys.quantize_store(t % 2, y.data());
            CHECK(std::memcmp(y.data(), ysim.data(), 128 * 4) == 0);
            keys.load(t % 2, 1, yback.data());
            CHECK(std::memcmp(yback.data(), ysim.data(), 128 * 4) == 0);
        }
    }
    CHECK(dsv4::kv_row_bytes(512, 64) == 711);
    CHECK(dsv4::index_key_bytes(128) == 68);
}
