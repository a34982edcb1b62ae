#include "reference/reference_backend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "linear.h"

namespace dsv4 {

namespace {

// Accumulated in double and rounded once: the reference stays as close to
// the exact float32-input result as possible.
float dot(const float* a, const float* b, int64_t n) {
    double s = 0.0;
    for (int64_t j = 0; j < n; ++j) s += double(a[j]) * double(b[j]);
    return float(s);
}

}  // namespace

void ReferenceBackend::matmul(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n,
                              float* y, int64_t ldy) const {
    // One dequantized row at a time: the weight is never expanded as a whole.
    std::vector<float> row(size_t(w.in));
    for (int64_t r = 0; r < rows; ++r) {
        dequant_linear_row(w, row0 + r, row.data());
        for (int64_t i = 0; i < n; ++i) y[i * ldy + r] = dot(row.data(), x + i * ldx, w.in);
    }
}

void ReferenceBackend::hc_mixes(const float* m, int n_out, int64_t width, const float* x, int64_t n, float eps,
                                float* y) const {
    for (int64_t i = 0; i < n; ++i) {
        const float* xi = x + i * width;
        const float rs = 1.0f / std::sqrt(dot(xi, xi, width) / float(width) + eps);
        for (int o = 0; o < n_out; ++o) y[i * n_out + o] = dot(m + o * width, xi, width) * rs;
    }
}

void ReferenceBackend::hc_reduce(const float* pre, const float* h, int hc, int64_t D, int64_t n, float* out) const {
    for (int64_t i = 0; i < n; ++i) {
        float* o = out + i * D;
        std::fill(o, o + D, 0.0f);
        for (int s = 0; s < hc; ++s) {
            const float p = pre[i * hc + s];
            const float* hs = h + (i * hc + s) * D;
            for (int64_t j = 0; j < D; ++j) o[j] += p * hs[j];
        }
    }
}

void ReferenceBackend::hc_expand(const float* post, const float* comb, const float* y, int hc, int64_t D, int64_t n,
                                 float* h) const {
    std::vector<float> res(size_t(hc * D));
    for (int64_t i = 0; i < n; ++i) {
        float* hi = h + i * hc * D;
        std::copy(hi, hi + hc * D, res.begin());
        const float* c = comb + i * hc * hc;
        const float* yi = y + i * D;
        for (int j = 0; j < hc; ++j) {
            float* out = hi + j * D;
            const float pj = post[i * hc + j];
            for (int64_t k = 0; k < D; ++k) out[k] = pj * yi[k];
            for (int s = 0; s < hc; ++s) {
                const float csj = c[s * hc + j];
                const float* rs = res.data() + s * D;
                for (int64_t k = 0; k < D; ++k) out[k] += csj * rs[k];
            }
        }
    }
}

void ReferenceBackend::sparse_attention(const SparseAttentionArgs& a) const {
    std::vector<float> p(size_t(a.n_kv));
    for (int h = 0; h < a.n_heads; ++h) {
        const float* q = a.q + int64_t(h) * a.dim;
        float* o = a.out + int64_t(h) * a.dim;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < a.n_kv; ++j) {
            p[size_t(j)] = dot(q, a.kv[j], a.dim) * a.scale;
            mx = std::max(mx, p[size_t(j)]);
        }
        // The sink is one more logit in the denominator with a zero value.
        float denom = 0.0f;
        for (int64_t j = 0; j < a.n_kv; ++j) {
            p[size_t(j)] = std::exp(p[size_t(j)] - mx);
            denom += p[size_t(j)];
        }
        denom += std::exp(a.sink[h] - mx);
        std::fill(o, o + a.dim, 0.0f);
        for (int64_t j = 0; j < a.n_kv; ++j) {
            const float wj = p[size_t(j)] / denom;
            const float* k = a.kv[j];
            for (int d = 0; d < a.dim; ++d) o[d] += wj * k[d];
        }
    }
}

void ReferenceBackend::compress_pool(const float* a, const float* g, int rows, int64_t ld, int64_t width,
                                     float* out) const {
    for (int64_t j = 0; j < width; ++j) {
        float mx = -std::numeric_limits<float>::infinity();
        for (int r = 0; r < rows; ++r) mx = std::max(mx, g[r * ld + j]);
        float sum = 0.0f, acc = 0.0f;
        for (int r = 0; r < rows; ++r) {
            const float e = std::exp(g[r * ld + j] - mx);
            sum += e;
            acc += e * a[r * ld + j];
        }
        out[j] = acc / sum;
    }
}

void ReferenceBackend::indexer_scores(const float* q, const float* w, int heads, int64_t dim, const float* keys,
                                      int64_t count, float* scores) const {
    for (int64_t b = 0; b < count; ++b) {
        float s = 0.0f;
        for (int h = 0; h < heads; ++h) s += std::max(dot(q + h * dim, keys + b * dim, dim), 0.0f) * w[h];
        scores[b] = s;
    }
}

void ReferenceBackend::expert_gate_up(const ExpertWeights& e, const float* x, int64_t n, float* gate, float* up) const {
    const int64_t I = e.w1.out, D = e.w1.in;
    matmul(e.w1, 0, I, x, D, n, gate, I);
    matmul(e.w3, 0, I, x, D, n, up, I);
}

void ReferenceBackend::expert_ffn(const ExpertWeights& e, float limit, const float* x, int64_t n, const float* route_w,
                                  float* y) const {
    // matmul is virtual: a backend derived from this one (cpu) runs the three
    // products with its own kernels and shares the rest.
    const int64_t I = e.w1.out, D = e.w1.in;
    thread_local std::vector<float> buf;
    if (buf.size() < size_t(n * (2 * I + D))) buf.resize(size_t(n * (2 * I + D)));
    float* gate = buf.data();
    float* up = gate + n * I;
    float* out = up + n * I;
    expert_gate_up(e, x, n, gate, up);
    for (int64_t i = 0; i < n; ++i)
        expert_activation(gate + i * I, up + i * I, I, limit, route_w ? route_w[i] : 1.0f, gate + i * I);
    matmul(e.w2, 0, D, gate, I, n, out, D);
    for (int64_t k = 0; k < n * D; ++k) y[k] += out[k];
}

}  // namespace dsv4
