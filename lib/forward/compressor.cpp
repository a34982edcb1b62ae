#include "forward/compressor.h"

#include <algorithm>
#include <vector>

#include "error.h"
#include "forward/norm.h"
#include "forward/quant_sim.h"

namespace dsv4 {

void compressor_forward(const ForwardContext& ctx, const CompressorWeights& w, CompressorKind kind,
                        CompressorCarry& k, int64_t p0, int64_t n, const float* x) {
    const int R = k.ratio, c = k.width, cw = k.cw, r = ctx.cfg.rope_head_dim;
    const int64_t D = ctx.cfg.hidden_size;
    std::vector<float> a(size_t(n * cw)), g(size_t(n * cw));
    ctx.be.matmul(w.wkv, 0, cw, x, D, n, a.data(), cw);
    ctx.be.matmul(w.wgate, 0, cw, x, D, n, g.data(), cw);
    const float* ape = w.ape->as<float>();

    std::vector<float> pa, pg;  // overlap: the 2R x c pooling window
    if (k.overlap) {
        pa.resize(size_t(2 * R * c));
        pg.resize(size_t(2 * R * c));
    }
    std::vector<float> e(static_cast<size_t>(c));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t p = p0 + i;
        const int slot = int(p % R);
        float* ra = k.a.data() + size_t(k.current_row0() + slot) * cw;
        float* rg = k.g.data() + size_t(k.current_row0() + slot) * cw;
        for (int j = 0; j < cw; ++j) {
            ra[j] = a[size_t(i * cw + j)];
            rg[j] = g[size_t(i * cw + j)] + ape[slot * cw + j];
        }
        if (slot != R - 1) continue;

        const int64_t b = p / R;
        if (b >= k.capacity) fail(DSV4_STATUS_INTERNAL, "compressed entry " + std::to_string(b) + " beyond capacity");
        if (!k.overlap) {
            ctx.be.compress_pool(k.a.data(), k.g.data(), R, cw, c, e.data());
        } else {
            // The previous block contributes its first c dims, the current
            // block its last c dims; softmax runs over all 2R rows.
            for (int t = 0; t < R; ++t) {
                std::copy_n(k.a.data() + size_t(t) * cw, c, pa.data() + size_t(t) * c);
                std::copy_n(k.g.data() + size_t(t) * cw, c, pg.data() + size_t(t) * c);
                std::copy_n(k.a.data() + size_t(R + t) * cw + c, c, pa.data() + size_t(R + t) * c);
                std::copy_n(k.g.data() + size_t(R + t) * cw + c, c, pg.data() + size_t(R + t) * c);
            }
            ctx.be.compress_pool(pa.data(), pg.data(), 2 * R, c, c, e.data());
            std::copy(k.a.begin() + size_t(R) * cw, k.a.end(), k.a.begin());
            std::copy(k.g.begin() + size_t(R) * cw, k.g.end(), k.g.begin());
        }
        rms_norm(e.data(), c, w.norm, ctx.eps(), e.data());
        ctx.rope_compress.apply(e.data() + (c - r), b * R);
        if (kind == CompressorKind::Indexer) {
            hadamard_transform(e.data(), c);
            fp4_simulate(e.data(), c, 32);
        } else {
            fp8_simulate(e.data(), c - r, 64);
        }
        std::copy(e.begin(), e.end(), k.entries + b * c);
    }
}

}  // namespace dsv4
