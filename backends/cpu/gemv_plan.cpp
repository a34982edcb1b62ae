#include "cpu/gemv_plan.h"

#include <algorithm>
#include <atomic>

#include "cpu/scratch.h"
#include "error.h"
#include "quant.h"

namespace dsv4::cpu {

namespace {
// Numbers every FP8 prepare(), so a thread's cached copy of x (run_task)
// never outlives the call it was made for.
std::atomic<uint64_t> g_plan_generation{0};
}  // namespace

void GemvPlan::prepare(const Kernels& k, const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx,
                       int64_t n, float* y, int64_t ldy, int threads) {
    k_ = &k;
    w_ = &w;
    row0_ = row0;
    rows_ = rows;
    n_ = n;
    y_ = y;
    ldy_ = ldy;
    const int64_t in = w.in;
    if (w.format == LinearFormat::FP4 && in % 32)
        fail(DSV4_STATUS_INTERNAL, "FP4 weight '" + w.weight->name + "' has in % 32 != 0");
    // Activations in double, xld_ apart; FP4 (and BF16 where the table says
    // bf16_paired_x) in the paired layout, FP8 in
    // the order its kernel reads (zero padded to whole 64-input chunks where
    // that is not plain; the reordering stays within 64 inputs, so each
    // 128-input scale block keeps its own inputs and run_task only multiplies).
    const bool fp4 = w.format == LinearFormat::FP4;
    const bool fp8_reordered = w.format == LinearFormat::FP8 && k.fp8_x_order != Fp8XOrder::Plain;
    const bool bf16_paired = w.format == LinearFormat::BF16 && k.bf16_paired_x;
    xld_ = fp8_reordered ? ceil_div(in, 64) * 64 : bf16_paired ? ceil_div(in, 16) * 16 : in;
    x_ = x;
    ldx_ = ldx;
    fp8_fused_ = fp8_reordered && k.fp8_order_scale_x;
    double* xd = scratch(xd_, size_t(fp8_fused_ ? 0 : n * xld_));
    const auto pair = k.pair_x ? k.pair_x : fp4_pair_x_f32;
    const auto reorder = k.fp8_order_x                               ? k.fp8_order_x
                         : k.fp8_x_order == Fp8XOrder::Transposed8x8 ? fp8_transpose_x_f32
                         : k.fp8_x_order == Fp8XOrder::Words4        ? fp8_words4_x_f32
                                                                     : fp8_unpacked_x_f32;
    // (With fp8_fused_ the tasks order x themselves.)
    for (int64_t i = 0; i < n && !fp8_fused_; ++i) {
        if (fp4 || bf16_paired)
            pair(x + i * ldx, in, xld_, xd + i * xld_);
        else if (fp8_reordered)
            reorder(x + i * ldx, in, xld_, xd + i * xld_);
        else
            for (int64_t j = 0; j < in; ++j) xd[i * xld_ + j] = x[i * ldx + j];
    }
    use_fixed_ = fp4 && k.gemv_fp4_fixed && in <= kFp4FixedMaxIn &&
                 fp4_fixed_prepare(x, ldx, n, in, fixed_, k.fp4_fixed_digits, k.fp4_fixed_chunk_bytes);
    switch (w.format) {
        case LinearFormat::BF16:
            chunk_ = row_chunk(rows, threads, 16, 32);
            tasks_ = ceil_div(rows, chunk_);
            break;
        case LinearFormat::FP8:
            // Tasks are kFp8TaskRows-row parts of the 128-row scale blocks
            // (some empty where the range starts or ends inside a block). A
            // thread folds a block's scales (and the decode factor) into its
            // copy of x once for the block's parts it runs in a row.
            tasks_ = ((row0 + rows - 1) / 128 - row0 / 128 + 1) * kFp8TaskParts;
            generation_ = ++g_plan_generation;
            break;
        case LinearFormat::FP4:
            chunk_ = row_chunk(rows, threads, 8, 16);
            tasks_ = ceil_div(rows, chunk_);
            break;
    }
}

void GemvPlan::run_task(int64_t t, const Linear& w, float* y) const {
    const Kernels& K = *k_;
    const int64_t in = w.in;
    const double* xd = xd_.data();
    switch (w.format) {
        case LinearFormat::BF16: {
            const int64_t a = t * chunk_, b = std::min(rows_, a + chunk_);
            K.gemv_bf16(w.weight->as<uint16_t>() + (row0_ + a) * in, in, b - a, xd, xld_, n_, y + a, ldy_);
            return;
        }
        case LinearFormat::FP8: {
            const int64_t blk = row0_ / 128 + t / kFp8TaskParts, part = t % kFp8TaskParts;
            const int64_t a = std::max(row0_, blk * 128 + part * kFp8TaskRows);
            const int64_t b = std::min(row0_ + rows_, blk * 128 + (part + 1) * kFp8TaskRows);
            if (a >= b) return;
            const int64_t scols = ceil_div(in, 128);
            // x (already reordered and padded if the kernel asks) times the
            // block's scales and the decode factor, per token: made once per
            // block by each thread that runs parts of it (this call, this
            // weight, this block).
            thread_local std::vector<double> xsbuf, fbuf;
            thread_local uint64_t xs_generation = 0;
            thread_local const Linear* xs_weight = nullptr;
            thread_local int64_t xs_block = -1;
            double* xs = scratch(xsbuf, size_t(n_ * xld_));
            if (xs_generation != generation_ || xs_weight != &w || xs_block != blk) {
                double* f = scratch(fbuf, size_t(scols));
                const uint8_t* s = w.scale->data + blk * scols;
                for (int64_t c = 0; c < scols; ++c) f[c] = double(e8m0_to_float(s[c])) * K.fp8_x_factor;
                for (int64_t i = 0; i < n_; ++i)
                    if (fp8_fused_)
                        K.fp8_order_scale_x(x_ + i * ldx_, in, xld_, f, xs + i * xld_);
                    else
                        K.scale_blocks(xd + i * xld_, f, xld_, xs + i * xld_);
                xs_generation = generation_;
                xs_weight = &w;
                xs_block = blk;
            }
            K.gemv_fp8(w.weight->data + a * in, in, b - a, xs, xld_, n_, y + (a - row0_), ldy_);
            return;
        }
        case LinearFormat::FP4: {
            const int64_t a = t * chunk_, b = std::min(rows_, a + chunk_);
            const uint8_t* wa = w.weight->data + (row0_ + a) * (in / 2);
            const uint8_t* sa = w.scale->data + (row0_ + a) * (in / 32);
            if (use_fixed_)
                K.gemv_fp4_fixed(wa, sa, in, b - a, fixed_.view(), xd, in, n_, y + a, ldy_);
            else
                K.gemv_fp4(wa, sa, in, b - a, xd, in, n_, y + a, ldy_);
            return;
        }
    }
}

}  // namespace dsv4::cpu
