#include "weight_traffic.h"

#include <chrono>

namespace dsv4 {

uint64_t linear_bytes(const Linear& w, int64_t row0, int64_t rows) {
    if (rows <= 0) return 0;
    const uint64_t r = uint64_t(rows), in = uint64_t(w.in);
    switch (w.format) {
        case LinearFormat::BF16:
            return r * in * 2;
        case LinearFormat::FP8: {
            const uint64_t blocks = uint64_t((row0 + rows - 1) / 128 - row0 / 128 + 1);
            return r * in + blocks * ((in + 127) / 128);
        }
        case LinearFormat::FP4:
            return r * (in / 2) + r * (in / 32);
    }
    return 0;
}

uint64_t expert_bytes(const ExpertWeights& e) {
    return linear_bytes(e.w1, 0, e.w1.out) + linear_bytes(e.w2, 0, e.w2.out) + linear_bytes(e.w3, 0, e.w3.out);
}

namespace {

// Adds the scope's wall-clock time and `bytes` to format f's figures.
class FormatTimer {
public:
    FormatTimer(WeightTraffic& t, LinearFormat f, uint64_t bytes) : t_(t), f_(int(f)), bytes_(bytes) {}
    ~FormatTimer() {
        t_.format_seconds[f_] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        t_.format_bytes[f_] += bytes_;
    }

private:
    WeightTraffic& t_;
    int f_;
    uint64_t bytes_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

void CountingBackend::matmul(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n,
                             float* y, int64_t ldy) const {
    const uint64_t b = linear_bytes(w, row0, rows);
    t_.bytes += b;
    FormatTimer timer(t_, w.format, b);
    inner_.matmul(w, row0, rows, x, ldx, n, y, ldy);
}

void CountingBackend::logits_matmul(const Linear& w, const float* x, int64_t ldx, int64_t n, float* y,
                                    int64_t ldy) const {
    const uint64_t b = linear_bytes(w, 0, w.out);
    t_.bytes += b;
    FormatTimer timer(t_, w.format, b);
    inner_.logits_matmul(w, x, ldx, n, y, ldy);
}

void CountingBackend::hc_mixes(const float* m, int n_out, int64_t width, const float* x, int64_t n, float eps,
                               float* y) const {
    t_.bytes += uint64_t(n_out) * uint64_t(width) * sizeof(float);
    inner_.hc_mixes(m, n_out, width, x, n, eps, y);
}

void CountingBackend::hc_reduce(const float* pre, const float* h, int hc, int64_t D, int64_t n, float* out) const {
    inner_.hc_reduce(pre, h, hc, D, n, out);
}

void CountingBackend::hc_expand(const float* post, const float* comb, const float* y, int hc, int64_t D, int64_t n,
                                float* h) const {
    inner_.hc_expand(post, comb, y, hc, D, n, h);
}

void CountingBackend::sparse_attention(const SparseAttentionArgs& a) const {
    inner_.sparse_attention(a);
}

void CountingBackend::compress_pool(const float* a, const float* g, int rows, int64_t ld, int64_t width,
                                    float* out) const {
    inner_.compress_pool(a, g, rows, ld, width, out);
}

void CountingBackend::indexer_scores(const float* q, const float* w, int heads, int64_t dim, const float* keys,
                                     int64_t count, float* scores) const {
    inner_.indexer_scores(q, w, heads, dim, keys, count, scores);
}

void CountingBackend::load_kv_rows(const KvRows& rows, const int64_t* index, int64_t count, float* out) const {
    inner_.load_kv_rows(rows, index, count, out);
}

void CountingBackend::indexer_scores_fp4(const float* q, const float* w, int heads, int64_t dim, const uint8_t* packed,
                                         const uint8_t* scales, int64_t count, float* scores) const {
    inner_.indexer_scores_fp4(q, w, heads, dim, packed, scales, count, scores);
}

void CountingBackend::expert_ffn(const ExpertWeights& e, float limit, const float* x, int64_t n, const float* route_w,
                                 float* y) const {
    const uint64_t b = expert_bytes(e);
    t_.bytes += b;
    FormatTimer timer(t_, e.w1.format, b);  // an expert's three linears share a format
    inner_.expert_ffn(e, limit, x, n, route_w, y);
}

void CountingBackend::experts_ffn(const ExpertWeights* const* experts, const float* route_w, int count, float limit,
                                  const float* x, int64_t n, float* y) const {
    uint64_t b = 0;
    for (int j = 0; j < count; ++j) {
        if (experts[j]->w1.format != experts[0]->w1.format) {
            Backend::experts_ffn(experts, route_w, count, limit, x, n, y);
            return;
        }
        b += expert_bytes(*experts[j]);
    }
    if (count <= 0) return;
    t_.bytes += b;
    FormatTimer timer(t_, experts[0]->w1.format, b);
    inner_.experts_ffn(experts, route_w, count, limit, x, n, y);
}

}  // namespace dsv4
