#include "cpu/indexer_fp4.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dsv4::cpu {

namespace {
constexpr int32_t kZeroBlock = std::numeric_limits<int32_t>::min();
}  // namespace

bool indexer_queries_prepare(const float* q, int heads, int64_t dim, IndexerQueryBuffers& b) {
    if (heads <= 0 || dim <= 0 || dim % 32 || dim > kIndexerMaxDim) return false;
    const int64_t blocks = dim / 32;
    b.values.resize(size_t(heads * dim));
    b.offsets.resize(size_t(heads * blocks));
    b.exps.resize(size_t(heads * blocks));
    b.shifts.resize(size_t(heads * blocks));
    b.min_exps.resize(size_t(heads));
    int spread = 0;
    for (int h = 0; h < heads; ++h) {
        int lo = 0, hi = 0;
        bool any = false;
        for (int64_t B = 0; B < blocks; ++B) {
            const float* x = q + h * dim + B * 32;
            int8_t* v = b.values.data() + h * dim + B * 32;
            float amax = 0.0f;
            for (int j = 0; j < 32; ++j) {
                if (!(std::fabs(x[j]) <= std::numeric_limits<float>::max())) return false;  // NaN, inf
                amax = std::max(amax, std::fabs(x[j]));
            }
            // The block as integers, its largest magnitude in [64, 128).
            const int e = amax > 0.0f ? std::ilogb(amax) - 6 : 0;
            const double unit = std::ldexp(1.0, -e);  // x * unit is exact: a power of two, in double's range
            int32_t sum = 0;
            for (int j = 0; j < 32; ++j) {
                const double n = double(x[j]) * unit;
                const int i = int(n);
                if (double(i) != n) return false;  // finer than 2^e: off the grid
                v[j] = int8_t(i);
                sum += i;
            }
            b.offsets[size_t(h * blocks + B)] = 12 * sum;
            b.exps[size_t(h * blocks + B)] = double(e - 128);
            // The block's exp for now (the head's smallest comes off below);
            // zero blocks marked, their shift is 0.
            b.shifts[size_t(h * blocks + B)] = amax > 0.0f ? e : kZeroBlock;
            if (amax > 0.0f) {
                lo = any ? std::min(lo, e) : e;
                hi = any ? std::max(hi, e) : e;
                any = true;
            }
        }
        spread = std::max(spread, hi - lo);
        b.min_exps[size_t(h)] = double(lo - 128);
        for (int64_t B = 0; B < blocks; ++B) {
            int32_t& shift = b.shifts[size_t(h * blocks + B)];
            shift = shift == kZeroBlock ? 0 : shift - lo;
        }
    }
    if (spread > kIndexerMaxSpread) return false;
    b.q = IndexerQueries{heads,         dim,    b.values.data(), b.offsets.data(),
                         b.exps.data(), spread, b.shifts.data(), b.min_exps.data()};
    return true;
}

bool indexer_key_exact(const IndexerQueries& q, const uint8_t* packed, const uint8_t* scales) {
    const int64_t blocks = q.dim / 32;
    int lo = 0, hi = 0;
    bool any = false;
    for (int64_t B = 0; B < blocks; ++B) {
        const int e = scales[B];
        if (e == 0 || e == 255) return false;
        bool nonzero = false;
        for (int j = 0; j < 16; ++j) nonzero |= (packed[B * 16 + j] & 0x77) != 0;
        if (!nonzero) continue;
        lo = any ? std::min(lo, e) : e;
        hi = any ? std::max(hi, e) : e;
        any = true;
    }
    return hi - lo + q.spread <= kIndexerMaxSpread;
}

}  // namespace dsv4::cpu
