// A decode step keeps the MTP block's window ring with mtp_store_keys (the
// keys alone) instead of the whole block: the ring must come out the same,
// byte for byte, as the full mtp_forward leaves it, over chunks of several
// sizes, on every backend.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "forward/context.h"
#include "forward/mtp.h"
#include "model.h"
#include "session_state.h"
#include "test_support.h"

using namespace dsv4;

namespace {

bool same_row(const KvRows& a, const KvRows& b, int64_t i) {
    return std::memcmp(a.codes(i), b.codes(i), size_t(a.nope())) == 0 &&
           std::memcmp(a.scales(i), b.scales(i), size_t(a.blocks())) == 0 &&
           std::memcmp(a.rope(i), b.rope(i), sizeof(float) * size_t(a.rope_dims())) == 0;
}

}  // namespace

TEST_CASE("the MTP ring from its keys alone equals the full block's", "[session][mtp]") {
    const char* backend = GENERATE("reference", "cpu");
    LoadOptions opts;
    opts.backend = backend;
    opts.n_threads = 2;
    const auto model = Model::load(testing_support::conformance_dir() + "/golden/tiny-s4/model", opts);
    const ModelConfig& c = model->config();
    REQUIRE(c.n_mtp_layers > 0);
    const ForwardContext ctx(c, model->weights(), model->backend());
    const BlockWeights& w = model->weights().mtp[0];
    SessionState full(c, 512), keys(c, 512);
    const int64_t hw = int64_t(c.hc_mult) * c.hidden_size;
    std::mt19937 rng(7);
    std::normal_distribution<float> g(0.f, 1.f);
    std::uniform_int_distribution<int32_t> tok(0, c.vocab_size - 1);
    int64_t q0 = 0;
    // A prefill-sized chunk (the GEMM path), single decode steps, a small batch.
    for (int64_t n : {20, 1, 1, 3, 1}) {
        std::vector<float> h(size_t(n * hw)), out(size_t(n * hw));
        for (auto& v : h) v = g(rng);
        std::vector<int32_t> next(static_cast<size_t>(n));
        for (auto& t : next) t = tok(rng);
        mtp_forward(ctx, w, full.mtp, q0, n, h.data(), next.data(), out.data());
        mtp_store_keys(ctx, w, keys.mtp, q0, n, h.data(), next.data());
        q0 += n;
        INFO(backend << ", after position " << q0);
        for (int64_t p = 0; p < q0; ++p) {
            const int64_t slot = p % full.mtp.ring.capacity();
            CHECK(same_row(full.mtp.ring, keys.mtp.ring, slot));
        }
    }
}
