#include "forward/compressor.h"

#include <algorithm>
#include <limits>
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

    // The block's rows gathered from the carry ring: R x c, or with overlap
    // the 2R x c pooling window.
    const int rows = k.overlap ? 2 * R : R;
    std::vector<float> pa(size_t(rows) * size_t(c)), pg(size_t(rows) * size_t(c));
    std::vector<float> e(static_cast<size_t>(c));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t p = p0 + i;
        const int slot = int(p % R);
        float* ra = k.a_row(p);
        float* rg = k.g_row(p);
        for (int j = 0; j < cw; ++j) {
            ra[j] = a[size_t(i * cw + j)];
            rg[j] = g[size_t(i * cw + j)] + ape[slot * cw + j];
        }
        if (slot != R - 1) continue;

        const int64_t b = p / R, first = b * R;
        const int64_t capacity = kind == CompressorKind::Indexer ? k.index_keys->capacity() : k.entries->capacity();
        if (b >= capacity) fail(DSV4_STATUS_INTERNAL, "compressed entry " + std::to_string(b) + " beyond capacity");
        if (!k.overlap) {
            for (int t = 0; t < R; ++t) {
                std::copy_n(k.a_row(first + t), c, pa.data() + size_t(t) * c);
                std::copy_n(k.g_row(first + t), c, pg.data() + size_t(t) * c);
            }
        } else {
            // The previous block contributes its first c dims, the current
            // block its last c dims; softmax runs over all 2R rows. Block 0
            // has no previous block: those rows score -inf (no weight).
            for (int t = 0; t < R; ++t) {
                if (b > 0) {
                    std::copy_n(k.a_row(first - R + t), c, pa.data() + size_t(t) * c);
                    std::copy_n(k.g_row(first - R + t), c, pg.data() + size_t(t) * c);
                } else {
                    std::fill_n(pa.data() + size_t(t) * c, c, 0.0f);
                    std::fill_n(pg.data() + size_t(t) * c, c, -std::numeric_limits<float>::infinity());
                }
                std::copy_n(k.a_row(first + t) + c, c, pa.data() + size_t(R + t) * c);
                std::copy_n(k.g_row(first + t) + c, c, pg.data() + size_t(R + t) * c);
            }
        }
        ctx.be.compress_pool(pa.data(), pg.data(), rows, c, c, e.data());
        rms_norm(e.data(), c, w.norm, ctx.eps(), e.data());
        ctx.rope_compress.apply(e.data() + (c - r), b * R);
        if (kind == CompressorKind::Indexer) {
            hadamard_transform(e.data(), c);
            k.index_keys->quantize_store(b, e.data());  // FP4, blocks of 32
        } else {
            k.entries->quantize_store(b, e.data());  // FP8 on the first c - r dims, blocks of 64
        }
    }
}

}  // namespace dsv4
