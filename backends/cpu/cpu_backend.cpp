#include "cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/gemv_plan.h"
#include "cpu/indexer_fp4.h"
#include "cpu/kernels.h"
#include "cpu/scratch.h"
#include "cpu/thread_pool.h"
#include "error.h"
#include "forward/quant_sim.h"
#include "quant.h"
#include "session_state.h"

namespace dsv4 {

namespace {

using cpu::ceil_div;
using cpu::Kernels;
using cpu::scratch;
using cpu::scratch_aligned;

double e8m0_d(uint8_t e) {
    return double(e8m0_to_float(e));
}

}  // namespace

CpuBackend::CpuBackend(int n_threads) : n_threads_(n_threads > 0 ? n_threads : cpu::ThreadPool::hardware_threads()) {}
CpuBackend::~CpuBackend() = default;

BackendCaps CpuBackend::caps() const {
    BackendCaps c;
    c.simd = cpu::active_isa() != cpu::Isa::Scalar;
    c.multithreaded = n_threads_ > 1;
    return c;
}

std::shared_ptr<const Backend> CpuBackend::instantiate(int n_threads) const {
    return std::make_shared<CpuBackend>(n_threads);
}

int CpuBackend::threads() const {
    return n_threads_;
}

cpu::ThreadPool& CpuBackend::pool() const {
    std::call_once(pool_once_, [this] { pool_ = std::make_unique<cpu::ThreadPool>(n_threads_); });
    return *pool_;
}

void CpuBackend::matmul(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n, float* y,
                        int64_t ldy) const {
    if (rows <= 0 || n <= 0) return;
    if (row0 < 0 || row0 + rows > w.out)
        fail(DSV4_STATUS_INTERNAL, "rows [" + std::to_string(row0) + ", " + std::to_string(row0 + rows) +
                                       ") out of range for '" + w.weight->name + "'");
    // FP4 weights take the integer route (Kernels::gemv_fp4_fixed) at every
    // batch size where the ISA has it: its exact sums beat the f64 GEMM in
    // prefill too (experts of 2048 x 4096, 2 threads, in one process,
    // thirteenth session: 16 tokens 66.4 against 106.9 GFLOP/s, 96 tokens
    // 99.1 against 108.8, 256 tokens 104.3 against 111.7), and a prefill
    // then multiplies the experts as decode does, bit for bit. (Not on AVX2,
    // whose route is slower than the GEMM there: Kernels::fp4_fixed_batches.)
    const Kernels& K = cpu::kernels();
    const bool fp4_fixed = w.format == LinearFormat::FP4 && K.gemv_fp4_fixed && K.fp4_fixed_batches;
    if (n >= kGemmMinTokens && !fp4_fixed)
        matmul_gemm(w, row0, rows, x, ldx, n, y, ldy);
    else
        matmul_gemv(w, row0, rows, x, ldx, n, y, ldy);
}

void CpuBackend::logits_matmul(const Linear& w, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) const {
    const Kernels& K = cpu::kernels();
    if (w.format != LinearFormat::BF16 || !K.gemv_bf16_f32 || n >= kGemmMinTokens || n <= 0) {
        matmul(w, 0, w.out, x, ldx, n, y, ldy);
        return;
    }
    const int64_t in = w.in, ldxs = ceil_div(in, 32) * 32, rows = w.out;
    thread_local std::vector<float> xs_tl;
    float* xs = scratch(xs_tl, size_t(n * ldxs));
    for (int64_t i = 0; i < n; ++i) cpu::bf16_split_x(x + i * ldx, in, xs + i * ldxs);
    const int64_t chunk = cpu::row_chunk(rows, threads(), 8, 8);  // whole 4- and 8-row tiles
    const uint16_t* wd = w.weight->as<uint16_t>();
    pool().for_each(ceil_div(rows, chunk), [&](int64_t t, int) {
        const int64_t a = t * chunk, b = std::min(rows, a + chunk);
        K.gemv_bf16_f32(wd + a * in, in, b - a, xs, ldxs, n, y + a, ldy);
    });
}

void CpuBackend::expert_gate_up(const ExpertWeights& e, const float* x, int64_t n, float* gate, float* up) const {
    const int64_t I = e.w1.out, D = e.w1.in;
    const bool same_shape = e.w3.format == e.w1.format && e.w3.out == I && e.w3.in == D;
    if (n >= kGemmMinTokens || n <= 0 || !same_shape) {
        ReferenceBackend::expert_gate_up(e, x, n, gate, up);
        return;
    }
    thread_local cpu::GemvPlan plan_tl;
    cpu::GemvPlan& plan = plan_tl;  // the caller's, in every thread
    plan.prepare(cpu::kernels(), e.w1, 0, I, x, D, n, gate, I, threads());
    const int64_t t1 = plan.tasks();
    pool().for_each(2 * t1, [&](int64_t t, int) {
        if (t < t1)
            plan.run_task(t);
        else
            plan.run_task(t - t1, e.w3, up);
    });
}

namespace {

bool same_shape(const Linear& a, const Linear& b) {
    return a.format == b.format && a.out == b.out && a.in == b.in;
}

}  // namespace

void CpuBackend::experts_ffn(const ExpertWeights* const* experts, const float* route_w, int count, float limit,
                             const float* x, int64_t n, float* y) const {
    if (count <= 0 || n <= 0) return;
    const ExpertWeights& e0 = *experts[0];
    bool uniform = n < kGemmMinTokens && same_shape(e0.w1, e0.w3) && e0.w2.in == e0.w1.out && e0.w2.out == e0.w1.in;
    for (int j = 1; j < count && uniform; ++j)
        uniform =
            same_shape(experts[j]->w1, e0.w1) && same_shape(experts[j]->w3, e0.w1) && same_shape(experts[j]->w2, e0.w2);
    if (!uniform || count == 1) {
        Backend::experts_ffn(experts, route_w, count, limit, x, n, y);
        return;
    }
    const int64_t I = e0.w1.out, D = e0.w1.in, per = n * (2 * I + D);
    thread_local std::vector<float> buf_tl;
    float* buf = scratch(buf_tl, size_t(count * per));
    // Expert j's gate, up (then its activation, in place of gate) and output.
    auto gate = [&](int j) { return buf + j * per; };
    auto up = [&](int j) { return buf + j * per + n * I; };
    auto out = [&](int j) { return buf + j * per + 2 * n * I; };

    // Every w1 and w3 in one job, x prepared once.
    thread_local cpu::GemvPlan up_plan_tl;
    cpu::GemvPlan& up_plan = up_plan_tl;
    up_plan.prepare(cpu::kernels(), e0.w1, 0, I, x, D, n, gate(0), I, threads());
    const int64_t t1 = up_plan.tasks();
    pool().for_each(count * 2 * t1, [&](int64_t t, int) {
        const int j = int(t / (2 * t1));
        const int64_t r = t % (2 * t1);
        if (r < t1)
            up_plan.run_task(r, experts[j]->w1, gate(j));
        else
            up_plan.run_task(r - t1, experts[j]->w3, up(j));
    });

    // Each expert's activation and the preparation of its w2 product, one
    // expert a task.
    thread_local std::vector<cpu::GemvPlan> down_tl;
    std::vector<cpu::GemvPlan>& down = down_tl;
    if (down.size() < size_t(count)) down.resize(size_t(count));
    pool().for_each(count, [&](int64_t j, int) {
        const float w = route_w ? route_w[j] : 1.0f;
        for (int64_t i = 0; i < n; ++i)
            expert_activation(gate(int(j)) + i * I, up(int(j)) + i * I, I, limit, w, gate(int(j)) + i * I);
        down[size_t(j)].prepare(cpu::kernels(), experts[j]->w2, 0, D, gate(int(j)), I, n, out(int(j)), D, threads());
    });

    // Every w2 in one job.
    thread_local std::vector<int64_t> first_tl;
    std::vector<int64_t>& first = first_tl;  // first[j]: expert j's first task
    first.assign(size_t(count) + 1, 0);
    for (int j = 0; j < count; ++j) first[size_t(j) + 1] = first[size_t(j)] + down[size_t(j)].tasks();
    pool().for_each(first[size_t(count)], [&](int64_t t, int) {
        int j = 0;
        while (t >= first[size_t(j) + 1]) ++j;
        down[size_t(j)].run_task(t - first[size_t(j)]);
    });

    // In expert order, as count expert_ffn calls add them.
    for (int j = 0; j < count; ++j) {
        const float* o = out(j);
        for (int64_t k = 0; k < n * D; ++k) y[k] += o[k];
    }
}

void CpuBackend::matmul_gemv(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n,
                             float* y, int64_t ldy) const {
    thread_local cpu::GemvPlan plan_tl;
    cpu::GemvPlan& plan = plan_tl;  // the caller's, in every thread
    plan.prepare(cpu::kernels(), w, row0, rows, x, ldx, n, y, ldy, threads());
    pool().for_each(plan.tasks(), [&](int64_t t, int) { plan.run_task(t); });
}

namespace {

// The bytes of weight row `row` from input k on (k even for FP4), and the
// bytes n inputs of a row take.
const uint8_t* weight_at(const Linear& w, int64_t row, int64_t k) {
    switch (w.format) {
        case LinearFormat::BF16:
            return w.weight->data + (row * w.in + k) * 2;
        case LinearFormat::FP8:
            return w.weight->data + row * w.in + k;
        case LinearFormat::FP4:
            break;
    }
    return w.weight->data + (row * w.in + k) / 2;
}

int64_t weight_bytes(LinearFormat f, int64_t n) {
    return f == LinearFormat::BF16 ? 2 * n : f == LinearFormat::FP8 ? n : n / 2;
}

}  // namespace

void CpuBackend::matmul_gemm(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n,
                             float* y, int64_t ldy) const {
    // C^T[rows, n] = W . X^T in tasks of kTaskRows rows: each decodes its
    // rows kKc inputs at a time into a small per-thread scratch of doubles
    // (never the whole weight) and runs the micro-kernel over every token.
    constexpr int64_t kTaskRows = cpu::kGemmTaskRows, kKc = cpu::kGemmKc;
    // More than kTokenBlock tokens go kTokenBlock at a time, each block a
    // whole product of its own (its weights decoded again): every task reads
    // all of x^T, which at 256 tokens and 4096 inputs (8 MiB) stays in L3 and
    // at 512 (16 MiB) does not. FP8 at 512 tokens, 2 threads, in one process
    // (thirteenth session): 4096 x 4096 92.7 -> 101.9 GFLOP/s, 4096 x 8192
    // 81.4 -> 95.3, 8192 x 1024 94.3 -> 101.3 (blocks of 128: 97.2, 96.7,
    // 98.2). Each token's sums are the same either way.
    constexpr int64_t kTokenBlock = 256;
    if (n > kTokenBlock) {
        for (int64_t b0 = 0; b0 < n; b0 += kTokenBlock)
            matmul_gemm(w, row0, rows, x + b0 * ldx, ldx, std::min(kTokenBlock, n - b0), y + b0 * ldy, ldy);
        return;
    }
    const Kernels& K = cpu::kernels();
    const int64_t in = w.in, ntok = ceil_div(n, 16) * 16;
    const bool fp4 = w.format == LinearFormat::FP4;
    if (fp4 && in % 32) fail(DSV4_STATUS_INTERNAL, "FP4 weight '" + w.weight->name + "' has in % 32 != 0");
    // x transposed and packed in strips of 16 tokens, [ntok / 16][in][16]
    // (FP4: inputs in the paired order), padded with zero tokens: the
    // micro-kernel reads a strip's 128 inputs of a kKc block as 16 KiB in a
    // row. (In one [in][ntok] array, until the thirteenth session, those
    // were 128-byte pieces ntok x 8 bytes apart, a 4 KiB page each at 512
    // tokens: an FP8 4096 x 4096 product of 512 tokens ran at 69 GFLOP/s on
    // 2 threads, 96-99 packed.) A strip a task, across the threads.
    thread_local std::vector<double> xtbuf;
    double* xt = scratch(xtbuf, size_t(in * ntok));
    pool().for_each(ntok / 16, [&](int64_t strip, int) {
        const int64_t i0 = strip * 16, nt = std::min<int64_t>(16, n - i0);
        double* d = xt + strip * (in * 16);
        for (int64_t k = 0; k < in; ++k, d += 16) {
            int64_t src = k;
            if (fp4) {
                const int64_t g = k & ~int64_t(15), j = k & 15;
                src = j < 8 ? g + 2 * j : g + 2 * (j - 8) + 1;
            }
            for (int64_t i = 0; i < nt; ++i) d[i] = double(x[(i0 + i) * ldx + src]);
            for (int64_t i = nt; i < 16; ++i) d[i] = 0.0;
        }
    });
    const int64_t scols = ceil_div(in, 128);
    pool().for_each(ceil_div(rows, kTaskRows), [&](int64_t t, int) {
        const int64_t a = t * kTaskRows, nr = std::min(rows - a, kTaskRows);
        thread_local std::vector<double> wbuf_v, c_v;
        double* wbuf = scratch(wbuf_v, size_t(kTaskRows * kKc));
        double* C = scratch(c_v, size_t(kTaskRows * ntok));
        std::fill(C, C + nr * ntok, 0.0);
        auto decode_block = [&](int64_t k0, double* block) {
            const int64_t kb = std::min(kKc, in - k0);
            for (int64_t r = 0; r < nr; ++r) {
                const int64_t row = row0 + a + r;
                double* dst = block + r * kKc;
                const uint8_t* p = weight_at(w, row, k0);
                switch (w.format) {
                    case LinearFormat::BF16:
                        K.decode_bf16(reinterpret_cast<const uint16_t*>(p), kb, dst);
                        break;
                    case LinearFormat::FP8:
                        K.decode_fp8(p, kb, e8m0_d(w.scale->data[(row / 128) * scols + k0 / 128]) * K.fp8_x_factor,
                                     dst);
                        break;
                    case LinearFormat::FP4:
                        K.decode_fp4(p, w.scale->data + row * (in / 32) + k0 / 32, kb, dst);
                        break;
                }
            }
        };
        // The rows' next block of weights, into L1 while the micro-kernel
        // runs on this one: 48 pieces of 64-128 bytes, each in its own row,
        // which the hardware prefetcher does not follow. FP4 experts of
        // 80-111 tokens and FP8 products of 512, from memory, 2 threads,
        // alternating in one process (thirteenth session): 86.7-93.7 ->
        // 89.6-98.0 GFLOP/s and 85.3-96.6 -> 93.1-98.0. (Into L2 instead:
        // no better than none.)
        auto prefetch_block = [&](int64_t k1) {
            if (k1 >= in) return;
            const int64_t bytes = weight_bytes(w.format, std::min(kKc, in - k1));
            for (int64_t r = 0; r < nr; ++r) {
                const uint8_t* p = weight_at(w, row0 + a + r, k1);
                for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
            }
        };
        // Every strip; a last one of 8 tokens or fewer computes 8 columns, not 16.
        auto multiply_block = [&](const double* block, int64_t k0) {
            const int64_t kb = std::min(kKc, in - k0);
            for (int64_t i0 = 0; i0 < ntok; i0 += 16)
                K.gemm_rows(block, kKc, nr, xt + (i0 / 16) * (in * 16) + k0 * 16, 16, n - i0 <= 8 ? 8 : 16, kb, C + i0,
                            ntok);
        };
        for (int64_t k0 = 0; k0 < in; k0 += kKc) {
            decode_block(k0, wbuf);
            prefetch_block(k0 + kKc);
            multiply_block(wbuf, k0);
        }
        for (int64_t i = 0; i < n; ++i)
            for (int64_t r = 0; r < nr; ++r) y[i * ldy + a + r] = float(C[r * ntok + i]);
    });
}

void CpuBackend::hc_mixes(const float* m, int n_out, int64_t width, const float* x, int64_t n, float eps,
                          float* y) const {
    const Kernels& K = cpu::kernels();
    std::vector<float> rs(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const float* xi = x + i * width;
        rs[size_t(i)] = 1.0f / std::sqrt(float(K.dot_f32(xi, xi, width)) / float(width) + eps);
    }
    // Decode (one token): x in double once for all n_out rows (dot_f64_f32
    // gives dot_f32's sums), 4 rows a task where the ISA reads x once for
    // them (dot_rows_f64_f32); a batch converts per dot instead of holding
    // n x width doubles.
    thread_local std::vector<double> xbuf;  // the caller's; workers read it during this call
    double* xd = n == 1 ? scratch(xbuf, size_t(width)) : nullptr;
    if (xd)
        for (int64_t k = 0; k < width; ++k) xd[k] = x[k];
    const int rows_per_task = xd && K.dot_rows_f64_f32 ? 4 : 1;
    const int64_t per_token = (n_out + rows_per_task - 1) / rows_per_task, tasks = n * per_token;
    auto body = [&](int64_t t, int) {
        const int64_t i = t / per_token, o0 = t % per_token * rows_per_task;
        const int nr = int(std::min<int64_t>(rows_per_task, n_out - o0));
        double d[4];
        if (rows_per_task > 1)
            K.dot_rows_f64_f32(xd, m + o0 * width, width, nr, width, d);
        else
            d[0] = xd ? K.dot_f64_f32(xd, m + o0 * width, width) : K.dot_f32(m + o0 * width, x + i * width, width);
        for (int r = 0; r < nr; ++r) y[i * n_out + o0 + r] = float(d[r]) * rs[size_t(i)];
    };
    if (n * n_out * width < (1 << 18)) {
        for (int64_t t = 0; t < tasks; ++t) body(t, 0);
        return;
    }
    pool().for_each(tasks, body);
}

// Rows of a sparse attention call that the grouped kernels take at a time:
// 128 rows of 512 floats (256 KiB) stay in L2 while every head group of the
// task reads them.
constexpr int64_t kAttnRowBlock = 128;

void CpuBackend::sparse_attention(const SparseAttentionArgs& a) const {
    const Kernels& K = cpu::kernels();
    // Where the ISA has the grouped kernels, each key and value row is read
    // once per group of 4 heads, not once per head; and a task takes several
    // groups and walks the rows in blocks of kAttnRowBlock, each block for
    // every group of the task, so the rows come from memory or L3 once per
    // task and pass (scores, weighted sums), not once per group. Each
    // (head, row) score and each head's sum over the rows in order are the
    // same operations either way. With one task per group the rows of a
    // layer were read 32 times a token (64 heads); at 8320 rows (the 1M-token
    // context of a ratio-128 layer) a layer took 20.8 ms at 2 threads
    // (docs/PERFORMANCE.md, "Tenth session").
    const int group = K.attn_scores && K.attn_weighted ? 4 : 1;
    const int64_t n_kv = a.n_kv, dim = a.dim;
    const int64_t n_groups = (a.n_heads + group - 1) / group;
    // At least two tasks a thread, for the pool's balancing.
    const int64_t per_task = group > 1 ? std::max<int64_t>(1, n_groups / (2 * int64_t(pool().size()))) : 1;
    const int span = int(per_task) * group;
    auto heads = [&](int64_t t, int) {
        const int h0 = int(t) * span, nq = std::min(span, a.n_heads - h0);
        thread_local std::vector<float> pbuf;
        thread_local std::vector<double> qbuf, sbuf;
        float* p = scratch(pbuf, size_t(nq * n_kv));
        // The queries in double once, not once per key (same sums as dot_f32).
        double* q = scratch_aligned(qbuf, size_t(nq * dim));
        for (int64_t i = 0; i < nq * dim; ++i) q[i] = a.q[h0 * dim + i];
        if (group > 1) {
            double* sc = scratch(sbuf, size_t(nq * n_kv));
            for (int64_t j0 = 0; j0 < n_kv; j0 += kAttnRowBlock)
                K.attn_scores(q, dim, nq, a.kv + j0, std::min(kAttnRowBlock, n_kv - j0), dim, sc + j0, n_kv);
            for (int64_t i = 0; i < nq * n_kv; ++i) p[i] = float(sc[i]) * a.scale;
        } else {
            for (int64_t j = 0; j < n_kv; ++j) p[j] = float(K.dot_f64_f32(q, a.kv[j], dim)) * a.scale;
        }
        for (int h = 0; h < nq; ++h) {
            float* ph = p + h * n_kv;
            float mx = -std::numeric_limits<float>::infinity();
            for (int64_t j = 0; j < n_kv; ++j) mx = std::max(mx, ph[j]);
            float denom = 0.0f;
            for (int64_t j = 0; j < n_kv; ++j) {
                ph[j] = std::exp(ph[j] - mx);
                denom += ph[j];
            }
            denom += std::exp(a.sink[h0 + h] - mx);
            for (int64_t j = 0; j < n_kv; ++j) ph[j] = ph[j] / denom;
        }
        float* o = a.out + h0 * dim;
        std::fill(o, o + nq * dim, 0.0f);
        if (group > 1) {
            for (int64_t j0 = 0; j0 < n_kv; j0 += kAttnRowBlock)
                K.attn_weighted(p + j0, n_kv, nq, a.kv + j0, std::min(kAttnRowBlock, n_kv - j0), dim, o, dim);
            return;
        }
        for (int64_t j = 0; j < n_kv; ++j) K.axpy_f32(p[j], a.kv[j], o, dim);
    };
    const int64_t tasks = (a.n_heads + span - 1) / span;
    if (int64_t(a.n_heads) * n_kv * dim < (1 << 16)) {
        for (int64_t t = 0; t < tasks; ++t) heads(t, 0);
        return;
    }
    pool().for_each(tasks, heads);
}

namespace {
// An indexer key's score from its dot products in double (dot_f64_f32, or
// the same sums from attn_scores): relu, head weight, and the sum over heads
// in float, in head order, as the reference adds them.
float indexer_key_score(const double* dots, int64_t ld, const float* w, int heads) {
    float s = 0.0f;
    for (int h = 0; h < heads; ++h) s += std::max(float(dots[h * ld]), 0.0f) * w[h];
    return s;
}
}  // namespace

void CpuBackend::indexer_scores(const float* q, const float* w, int heads, int64_t dim, const float* keys,
                                int64_t count, float* scores) const {
    const Kernels& K = cpu::kernels();
    constexpr int64_t kChunk = 64;
    // The queries in double once (same sums as dot_f32).
    thread_local std::vector<double> qbuf;  // the caller's; workers read it during this call
    double* qd = scratch_aligned(qbuf, size_t(heads * dim));
    for (int64_t i = 0; i < heads * dim; ++i) qd[i] = q[i];
    auto body = [&](int64_t t, int) {
        const int64_t b0 = t * kChunk, b1 = std::min(count, b0 + kChunk), nb = b1 - b0;
        thread_local std::vector<double> dbuf;
        double* dots = scratch(dbuf, size_t(heads * kChunk));
        if (K.attn_scores) {
            // All heads' dot products for the chunk's keys, 4 heads per pass
            // over them (the same sums as dot_f64_f32).
            const float* rows[kChunk];
            for (int64_t j = 0; j < nb; ++j) rows[j] = keys + (b0 + j) * dim;
            K.attn_scores(qd, dim, heads, rows, nb, dim, dots, kChunk);
        } else {
            for (int64_t j = 0; j < nb; ++j)
                for (int h = 0; h < heads; ++h)
                    dots[h * kChunk + j] = K.dot_f64_f32(qd + h * dim, keys + (b0 + j) * dim, dim);
        }
        for (int64_t j = 0; j < nb; ++j) scores[b0 + j] = indexer_key_score(dots + j, kChunk, w, heads);
    };
    const int64_t tasks = ceil_div(count, kChunk);
    if (count * heads * dim < (1 << 16)) {
        for (int64_t t = 0; t < tasks; ++t) body(t, 0);
        return;
    }
    pool().for_each(tasks, body);
}

void CpuBackend::load_kv_rows(const KvRows& rows, const int64_t* index, int64_t count, float* out) const {
    const Kernels& K = cpu::kernels();
    const int64_t dim = rows.dim(), nope = rows.nope();
    if (!K.fp8_blocks_to_float || nope != int64_t(rows.blocks()) * 64) {
        Backend::load_kv_rows(rows, index, count, out);
        return;
    }
    constexpr int64_t kRows = 64;
    auto body = [&](int64_t t, int) {
        for (int64_t k = t * kRows; k < std::min(count, (t + 1) * kRows); ++k) {
            const int64_t i = index[k];
            K.fp8_blocks_to_float(rows.codes(i), rows.scales(i), nope, out + k * dim);
            std::memcpy(out + k * dim + nope, rows.rope(i), size_t(rows.rope_dims()) * sizeof(float));
        }
    };
    const int64_t tasks = ceil_div(count, kRows);
    if (tasks < 2) {
        for (int64_t t = 0; t < tasks; ++t) body(t, 0);
        return;
    }
    pool().for_each(tasks, body);
}

void CpuBackend::indexer_scores_fp4(const float* q, const float* w, int heads, int64_t dim, const uint8_t* packed,
                                    const uint8_t* scales, int64_t count, float* scores) const {
    const Kernels& K = cpu::kernels();
    thread_local cpu::IndexerQueryBuffers qb;  // the caller's; workers read it during this call
    if (count <= 0) return;
    if (!K.indexer_scores_fp4 || !cpu::indexer_queries_prepare(q, heads, dim, qb)) {
        Backend::indexer_scores_fp4(q, w, heads, dim, packed, scales, count, scores);
        return;
    }
    // (A lambda naming a thread_local reads the running thread's copy: the
    // workers get the caller's through this local.)
    const cpu::IndexerQueries iq = qb.q;
    constexpr int64_t kChunk = 64;
    auto body = [&](int64_t t, int) {
        const int64_t b0 = t * kChunk, nb = std::min(count, b0 + kChunk) - b0;
        uint8_t exact[kChunk];
        K.indexer_scores_fp4(iq, w, packed + b0 * (dim / 2), scales + b0 * (dim / 32), nb, scores + b0, exact);
        // Keys whose block sums could round in double: the double kernels
        // (dot_f32 adds as dot_f64_f32 does, so q needs no copy in double
        // for these rare keys).
        float key[cpu::kIndexerMaxDim];
        thread_local std::vector<double> dbuf;
        double* dots = nullptr;
        for (int64_t j = 0; j < nb; ++j) {
            if (exact[j]) continue;
            if (!dots) dots = scratch(dbuf, size_t(heads));
            fp4_dequantize(packed + (b0 + j) * (dim / 2), scales + (b0 + j) * (dim / 32), dim, 32, key);
            for (int h = 0; h < heads; ++h) dots[h] = K.dot_f32(q + h * dim, key, dim);
            scores[b0 + j] = indexer_key_score(dots, 1, w, heads);
        }
    };
    const int64_t tasks = ceil_div(count, kChunk);
    if (count * heads * dim < (1 << 16)) {
        for (int64_t t = 0; t < tasks; ++t) body(t, 0);
        return;
    }
    pool().for_each(tasks, body);
}

}  // namespace dsv4
