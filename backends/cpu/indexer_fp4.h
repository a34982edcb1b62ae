// The indexer's scores in integers. Its keys are stored as FP4 (IndexKeys:
// e2m1 codes, one UE8M0 scale per 32 dims) and its queries are snapped onto
// the same grid (quant_sim), so every product q_j * k_j is a small integer
// times a power of two: twice an e2m1 value is an integer of at most 12, and
// a query block is integers of at most 127 times 2^e. Per 32-dim block the
// products then sum exactly in int32 (AVX512-VNNI `vpdpbusd`, 64 products an
// instruction against 8 for a double FMA), and the few block sums of a key
// join exactly in double as long as their exponents lie within
// kIndexerMaxSpread binades of each other. Under that bound the double sums
// of the reference (and of the cpu backend's double kernels) are exact as
// well: every partial sum is a multiple of the smallest block's unit below
// 2^53 of it. So the scores come out the same bit for bit.
#pragma once

#include <cstdint>
#include <vector>

namespace dsv4::cpu {

// A key's block sums join exactly when their exponents (the query's plus the
// key's, blocks with a zero side left out) span at most this many binades: a
// block's sum is below 32 x 127 x 12 < 2^16 units of its exponent and a key
// has at most 16 blocks, so every partial sum (of blocks, or of single
// products in any order) is below 2^20 units of the largest exponent and a
// multiple of the smallest one's unit: exact in double within 53 - 20 = 33.
constexpr int kIndexerMaxSpread = 32;
constexpr int kIndexerMaxDim = 512;

// A block's sum is at most 32 x 127 x 12 = 48768 units of its exponent.
constexpr int64_t kIndexerMaxBlockSum = 32 * 127 * 12;

// The most binades the blocks of a key and a head may span, key and query
// spans added, for their block sums to be shifted onto the smallest block's
// unit and added in one int32 without overflow: blocks x 48768 x 2^s < 2^31.
constexpr int indexer_merge_max_shift(int64_t blocks) {
    int s = 0;
    while (blocks * kIndexerMaxBlockSum * (int64_t(1) << (s + 1)) < (int64_t(1) << 31)) ++s;
    return s;
}

// One token's indexer queries, [heads][dim] (dim a multiple of 32, at most
// kIndexerMaxDim), as the kernels read them.
struct IndexerQueries {
    int heads = 0;
    int64_t dim = 0;
    const int8_t* values = nullptr;    // [heads][dim]: q / 2^exp of its block, integers in [-127, 127]
    const int32_t* offsets = nullptr;  // [heads][dim / 32]: 12 x the block's sum of values
    const double* exps = nullptr;      // [heads][dim / 32]: the block's exp - 128 (a key scale byte e adds e)
    int spread = 0;                    // most binades between two nonzero blocks of one head
    // For sums joined in int32: [heads][dim / 32] each nonzero block's exp
    // less its head's smallest (0 for zero blocks), and [heads] that smallest
    // exp - 128.
    const int32_t* shifts = nullptr;
    const double* min_exps = nullptr;
};

struct IndexerQueryBuffers {
    std::vector<int8_t> values;
    std::vector<int32_t> offsets, shifts;
    std::vector<double> exps, min_exps;
    IndexerQueries q;
};

// Fills b from q ([heads][dim] floats). False when some 32-dim block is not
// integers in [-127, 127] times one power of two (q off the FP4 grid, or not
// finite), when dim is not a multiple of 32 or exceeds kIndexerMaxDim, or
// when a head's blocks span more than kIndexerMaxSpread binades: the caller
// then takes the float path.
bool indexer_queries_prepare(const float* q, int heads, int64_t dim, IndexerQueryBuffers& b);

// 2 x the e2m1 value of a 4-bit code, plus 12 (what vpdpbusd multiplies as
// an unsigned byte; the 12 comes back out with the query's offsets).
constexpr uint8_t kIndexerKeyValues[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};

// Whether a key's dot products with q sum exactly in the integer kernels: its
// scale bytes are finite and nonzero (0 is a zero block, 255 not a number in
// quant_sim's scale_value) and its nonzero blocks span at most
// kIndexerMaxSpread - q.spread binades. packed: dim / 2 bytes, scales: dim / 32.
bool indexer_key_exact(const IndexerQueries& q, const uint8_t* packed, const uint8_t* scales);

}  // namespace dsv4::cpu
