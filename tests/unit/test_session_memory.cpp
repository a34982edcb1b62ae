// Session state is sized per layer by its compression ratio; the estimate
// needs no allocation, so a 1M-token Flash context can be priced on paper.
#include <catch2/catch.hpp>

#include "session_helpers.h"
#include "session_state.h"

using namespace session_testing;

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// The per-ratio formula of ARCHITECTURE-V4.md section 4, written out
// independently: window W x d per block (MTP included), ceil(ctx/R) x d per
// compressed layer, ceil(ctx/4) x di per indexer, compressor carries (a and
// g rows: 2R x 2c with overlap, R x c without) and the last token's streams.
dsv4::SessionBytes expected(const std::vector<int>& ratios, bool mtp, uint64_t W, uint64_t d, uint64_t di,
                            uint64_t hc, uint64_t D, uint64_t ctx) {
    dsv4::SessionBytes b;
    const size_t blocks = ratios.size() + (mtp ? 1 : 0);
    b.window = blocks * W * d * 4;
    for (int R : ratios) {
        if (R == 0) continue;
        b.compressed += ceil_div(ctx, uint64_t(R)) * d * 4;
        b.carry += (R == 4 ? 2 * 8 * 2 * d : 2 * uint64_t(R) * d) * 4;
        if (R == 4) {
            b.indexer += ceil_div(ctx, 4) * di * 4;
            b.carry += 2 * 8 * 2 * di * 4;
        }
    }
    b.carry += hc * D * 4;
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
        const auto want = expected({0, 4, 128, 4}, true, 16, 128, 128, 4, 128, ctx);
        CHECK(info.n_ctx == ctx);
        CHECK(info.window_bytes == want.window);
        CHECK(info.compressed_bytes == want.compressed);
        CHECK(info.indexer_bytes == want.indexer);
        CHECK(info.carry_bytes == want.carry);
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
    const auto want = expected(main, true, 128, 512, 128, 4, 4096, ctx);
    CHECK(b.window == want.window);
    CHECK(b.compressed == want.compressed);
    CHECK(b.indexer == want.indexer);
    CHECK(b.carry == want.carry);
    // 21 CSA layers hold ctx/4 entries, 20 HCA layers ctx/128: 11.6 GB of
    // float32 entries plus 2.8 GB of indexer keys, against 92 GB for a full
    // ctx x d cache on all 43 layers.
    CHECK(b.compressed == (21 * (ctx / 4) + 20 * (ctx / 128)) * 512 * 4);
    CHECK(b.indexer == 21 * (ctx / 4) * 128 * 4);
    CHECK(b.total() < uint64_t(14) << 30);
    CHECK(b.total() * 6 < uint64_t(43) * ctx * 512 * 4);

    // The C API does the same for a loaded model at its full 2^20 context.
    auto model = open_golden_model("tiny-s4");
    dsv4_session_info info;
    info.struct_size = sizeof info;
    REQUIRE(dsv4_model_estimate_session_bytes(model.get(), ctx, &info) == DSV4_STATUS_OK);
    CHECK(info.n_ctx == ctx);
    CHECK(info.state_bytes == expected({0, 4, 128, 4}, true, 16, 128, 128, 4, 128, ctx).total());
    CHECK(dsv4_model_estimate_session_bytes(model.get(), ctx + 1, &info) == DSV4_STATUS_INVALID_ARGUMENT);
}
