#include "forward/hyper_connections.h"

#include <algorithm>
#include <cmath>

namespace dsv4 {

namespace {
float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }
}  // namespace

void hc_split_sinkhorn(const float* m, const float* scale, const float* base, int hc, int iters, float eps,
                       float* pre, float* post, float* comb) {
    for (int i = 0; i < hc; ++i) {
        pre[i] = sigmoid(m[i] * scale[0] + base[i]) + eps;
        post[i] = 2.0f * sigmoid(m[hc + i] * scale[1] + base[hc + i]);
    }
    float* C = comb;
    for (int i = 0; i < hc; ++i) {
        float* row = C + i * hc;
        float mx = -INFINITY;
        for (int j = 0; j < hc; ++j) {
            row[j] = m[2 * hc + i * hc + j] * scale[2] + base[2 * hc + i * hc + j];
            mx = std::max(mx, row[j]);
        }
        float sum = 0.0f;
        for (int j = 0; j < hc; ++j) {
            row[j] = std::exp(row[j] - mx);
            sum += row[j];
        }
        for (int j = 0; j < hc; ++j) row[j] = row[j] / sum + eps;
    }
    auto normalize_columns = [&] {
        for (int j = 0; j < hc; ++j) {
            float sum = 0.0f;
            for (int i = 0; i < hc; ++i) sum += C[i * hc + j];
            for (int i = 0; i < hc; ++i) C[i * hc + j] /= sum + eps;
        }
    };
    auto normalize_rows = [&] {
        for (int i = 0; i < hc; ++i) {
            float sum = 0.0f;
            for (int j = 0; j < hc; ++j) sum += C[i * hc + j];
            for (int j = 0; j < hc; ++j) C[i * hc + j] /= sum + eps;
        }
    };
    normalize_columns();
    for (int it = 1; it < iters; ++it) {
        normalize_rows();
        normalize_columns();
    }
}

HcMix hc_pre(const ForwardContext& ctx, const HcWeights& w, const float* h, int64_t n, float* x) {
    const int hc = ctx.cfg.hc_mult, n_out = (2 + hc) * hc;
    const int64_t D = ctx.cfg.hidden_size;
    std::vector<float> mixes(size_t(n * n_out));
    ctx.be.hc_mixes(w.fn->as<float>(), n_out, hc * D, h, n, ctx.eps(), mixes.data());
    HcMix m;
    m.pre.resize(size_t(n * hc));
    m.post.resize(size_t(n * hc));
    m.comb.resize(size_t(n * hc * hc));
    for (int64_t i = 0; i < n; ++i)
        hc_split_sinkhorn(mixes.data() + i * n_out, w.scale->as<float>(), w.base->as<float>(), hc,
                          ctx.cfg.hc_sinkhorn_iters, float(ctx.cfg.hc_eps), m.pre.data() + i * hc,
                          m.post.data() + i * hc, m.comb.data() + i * hc * hc);
    ctx.be.hc_reduce(m.pre.data(), h, hc, D, n, x);
    return m;
}

void hc_post(const ForwardContext& ctx, const HcMix& m, const float* y, int64_t n, float* h) {
    ctx.be.hc_expand(m.post.data(), m.comb.data(), y, ctx.cfg.hc_mult, ctx.cfg.hidden_size, n, h);
}

void hc_head(const ForwardContext& ctx, const HcWeights& w, const float* h, int64_t n, float* x) {
    const int hc = ctx.cfg.hc_mult;
    const int64_t D = ctx.cfg.hidden_size;
    std::vector<float> mixes(size_t(n * hc)), pre(size_t(n * hc));
    ctx.be.hc_mixes(w.fn->as<float>(), hc, hc * D, h, n, ctx.eps(), mixes.data());
    const float scale = w.scale->as<float>()[0];
    const float* base = w.base->as<float>();
    for (int64_t i = 0; i < n; ++i)
        for (int s = 0; s < hc; ++s)
            pre[size_t(i * hc + s)] = sigmoid(mixes[size_t(i * hc + s)] * scale + base[s]) + float(ctx.cfg.hc_eps);
    ctx.be.hc_reduce(pre.data(), h, hc, D, n, x);
}

}  // namespace dsv4
