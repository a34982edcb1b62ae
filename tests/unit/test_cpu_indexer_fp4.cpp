// The indexer's scores in integers (backends/cpu/indexer_fp4.h,
// kernels_avx512_indexer.inc): the queries' integer form, the kernel against
// the reference backend bit for bit on every table that has it, the keys it
// must hand back (scales spanning too many binades, zero and NaN scale
// bytes), and the cpu backend's routing around it.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cpu/cpu_backend.h"
#include "cpu/indexer_fp4.h"
#include "cpu/kernels.h"
#include "forward/quant_sim.h"
#include "reference/reference_backend.h"

using namespace dsv4;

namespace {

std::vector<const cpu::Kernels*> tables_with_kernel() {
    std::vector<const cpu::Kernels*> out;
    for (cpu::Isa isa :
         {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512, cpu::Isa::Avx512Vnni, cpu::Isa::Avx512Fp16})
        if (cpu::isa_supported(isa) && cpu::kernels_for(isa).indexer_scores_fp4) out.push_back(&cpu::kernels_for(isa));
    return out;
}

// Queries on the FP4 grid (as the indexer makes them), each 32-dim block
// scaled by 2^(0..span) first.
std::vector<float> grid_queries(int heads, int64_t dim, int span, std::mt19937& rng) {
    std::normal_distribution<float> nd;
    std::vector<float> q(size_t(heads * dim));
    for (int64_t b = 0; b < heads * dim; b += 32) {
        const float f = std::ldexp(1.0f, int(rng() % unsigned(span + 1)));
        for (int j = 0; j < 32; ++j) q[size_t(b + j)] = nd(rng) * f;
    }
    fp4_simulate(q.data(), heads * dim, 32);
    return q;
}

// count keys stored as IndexKeys stores them, each block scaled by
// 2^(0..span) before quantization.
struct Keys {
    int64_t dim, count;
    std::vector<uint8_t> packed, scales;
    Keys(int64_t dim, int64_t count, int span, std::mt19937& rng)
        : dim(dim), count(count), packed(size_t(count * dim / 2)), scales(size_t(count * dim / 32)) {
        std::normal_distribution<float> nd;
        std::vector<float> x(static_cast<size_t>(dim));
        for (int64_t k = 0; k < count; ++k) {
            for (int64_t j = 0; j < dim; ++j)
                x[size_t(j)] = nd(rng) * std::ldexp(1.0f, (j / 32 * 7 + int(k)) % (span + 1));
            fp4_quantize(x.data(), dim, 32, row(k), scale(k));
        }
    }
    uint8_t* row(int64_t k) { return packed.data() + k * dim / 2; }
    uint8_t* scale(int64_t k) { return scales.data() + k * dim / 32; }
    std::vector<float> dequantized() const {
        std::vector<float> out(size_t(count * dim));
        for (int64_t k = 0; k < count; ++k)
            fp4_dequantize(packed.data() + k * dim / 2, scales.data() + k * dim / 32, dim, 32, out.data() + k * dim);
        return out;
    }
};

std::vector<float> weights(int heads, std::mt19937& rng) {
    std::normal_distribution<float> nd;
    std::vector<float> w(static_cast<size_t>(heads));
    for (auto& v : w) v = nd(rng);
    return w;
}

bool same_bits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

// Where no table of this CPU has the integer kernel, the cpu backend scores
// FP4 keys through its double kernels: the same keys must still get the
// reference's bits (NaN where the reference has NaN) on that route.
void check_backend_route(const std::vector<float>& q, const std::vector<float>& w, int heads, int64_t dim,
                         const uint8_t* packed, const uint8_t* scales, int64_t count) {
    std::vector<float> kf(size_t(count * dim)), want(static_cast<size_t>(count)), got(static_cast<size_t>(count));
    for (int64_t k = 0; k < count; ++k)
        fp4_dequantize(packed + k * dim / 2, scales + k * dim / 32, dim, 32, kf.data() + k * dim);
    ReferenceBackend().indexer_scores(q.data(), w.data(), heads, dim, kf.data(), count, want.data());
    CpuBackend(2).indexer_scores_fp4(q.data(), w.data(), heads, dim, packed, scales, count, got.data());
    for (int64_t k = 0; k < count; ++k) {
        CAPTURE(k, got[size_t(k)], want[size_t(k)]);
        if (std::isnan(want[size_t(k)]))
            REQUIRE(std::isnan(got[size_t(k)]));
        else
            REQUIRE(same_bits(got[size_t(k)], want[size_t(k)]));
    }
}

}  // namespace

TEST_CASE("indexer queries: the integer form rebuilds q, and off-grid queries are refused", "[cpu][kernels]") {
    std::mt19937 rng(11);
    const int heads = 3;
    const int64_t dim = 128;
    auto q = grid_queries(heads, dim, 6, rng);
    q[5] = 0.0f;
    std::fill(q.begin() + 32, q.begin() + 64, 0.0f);  // a zero block
    cpu::IndexerQueryBuffers b;
    REQUIRE(cpu::indexer_queries_prepare(q.data(), heads, dim, b));
    for (int h = 0; h < heads; ++h)
        for (int64_t j = 0; j < dim; ++j) {
            const int64_t hb = h * (dim / 32) + j / 32;
            const double rebuilt = std::ldexp(double(b.q.values[h * dim + j]), int(b.q.exps[hb]) + 128);
            REQUIRE(rebuilt == double(q[size_t(h * dim + j)]));
        }
    for (int h = 0; h < heads; ++h)
        for (int64_t B = 0; B < dim / 32; ++B) {
            int32_t sum = 0;
            for (int j = 0; j < 32; ++j) sum += b.q.values[h * dim + B * 32 + j];
            REQUIRE(b.q.offsets[h * (dim / 32) + B] == 12 * sum);
        }

    // The int32 joins' shifts: each nonzero block's exp above its head's
    // smallest; 0 for the zero block.
    for (int h = 0; h < heads; ++h) {
        int lo = 1 << 20;
        for (int64_t B = 0; B < dim / 32; ++B)
            if (h != 0 || B != 1) lo = std::min(lo, int(b.q.exps[h * (dim / 32) + B]) + 128);
        REQUIRE(b.q.min_exps[h] == double(lo - 128));
        for (int64_t B = 0; B < dim / 32; ++B) {
            const int64_t hb = h * (dim / 32) + B;
            REQUIRE(b.q.shifts[hb] == ((h == 0 && B == 1) ? 0 : int(b.q.exps[hb]) + 128 - lo));
        }
    }

    auto off = q;
    off[7] = std::nextafter(off[7], 1e9f);  // 24 significant bits: not a grid value
    CHECK_FALSE(cpu::indexer_queries_prepare(off.data(), heads, dim, b));
    off = q;
    off[9] = std::numeric_limits<float>::quiet_NaN();
    CHECK_FALSE(cpu::indexer_queries_prepare(off.data(), heads, dim, b));
    off = q;
    for (int j = 64; j < 96; ++j) off[size_t(j)] = std::ldexp(off[size_t(j)], 40);  // blocks 40 binades apart
    CHECK_FALSE(cpu::indexer_queries_prepare(off.data(), heads, dim, b));
    CHECK_FALSE(cpu::indexer_queries_prepare(q.data(), heads, 48, b));  // not whole blocks
}

TEST_CASE("indexer integer kernel: the reference's scores bit for bit", "[cpu][kernels]") {
    const auto tables = tables_with_kernel();
    ReferenceBackend ref;
    std::mt19937 rng(5);
    if (tables.empty()) {
        WARN("this CPU has no AVX512-VNNI + VBMI table: the integer indexer kernel is not built for it; "
             "checking the cpu backend's route on the same kinds of keys");
        for (int key_span : {6, 20})
            for (int64_t dim : {int64_t(32), int64_t(128), int64_t(512)})
                for (int heads : {1, 5, 64}) {
                    CAPTURE(key_span, dim, heads);
                    const auto q = grid_queries(heads, dim, 5, rng);
                    const auto w = weights(heads, rng);
                    Keys keys(dim, 100, key_span, rng);
                    check_backend_route(q, w, heads, dim, keys.packed.data(), keys.scales.data(), 100);
                }
        return;
    }
    // Keys spanning 6 binades join their blocks in int32 (exact 2), 20 in
    // double (exact 1): both routes are held to the reference's bits.
    for (int key_span : {6, 20}) {
        int64_t joins[3] = {0, 0, 0};
        for (const cpu::Kernels* K : tables)
            for (int64_t dim : {int64_t(32), int64_t(128), int64_t(512)})
                for (int heads : {1, 5, 64})
                    for (int64_t count : {int64_t(1), int64_t(15), int64_t(16), int64_t(17), int64_t(100)}) {
                        CAPTURE(cpu::isa_name(K->isa), key_span, dim, heads, count);
                        const auto q = grid_queries(heads, dim, 5, rng);
                        const auto w = weights(heads, rng);
                        Keys keys(dim, count, key_span, rng);
                        cpu::IndexerQueryBuffers b;
                        REQUIRE(cpu::indexer_queries_prepare(q.data(), heads, dim, b));
                        std::vector<float> got(static_cast<size_t>(count), -1.0f), want(static_cast<size_t>(count));
                        std::vector<uint8_t> exact(static_cast<size_t>(count), 7);
                        K->indexer_scores_fp4(b.q, w.data(), keys.packed.data(), keys.scales.data(), count, got.data(),
                                              exact.data());
                        const auto kf = keys.dequantized();
                        ref.indexer_scores(q.data(), w.data(), heads, dim, kf.data(), count, want.data());
                        for (int64_t k = 0; k < count; ++k) {
                            CAPTURE(k, int(exact[size_t(k)]));
                            // Spans of at most 20 + 5 binades: every key sums exactly.
                            REQUIRE((exact[size_t(k)] == 1 || exact[size_t(k)] == 2));
                            ++joins[exact[size_t(k)]];
                            REQUIRE(same_bits(got[size_t(k)], want[size_t(k)]));
                        }
                    }
        CAPTURE(key_span, joins[1], joins[2]);
        // (dim 32 keys have one block: they always merge.)
        if (key_span == 6) CHECK(joins[1] == 0);
        if (key_span == 20) CHECK(joins[1] > joins[2]);
        CHECK(joins[2] > 0);
    }
}

TEST_CASE("indexer integer kernel: int32 joins up to the overflow bound", "[cpu][kernels]") {
    const auto tables = tables_with_kernel();
    if (tables.empty())
        WARN("this CPU has no AVX512-VNNI + VBMI table: the integer indexer kernel is not built for it; "
             "checking the cpu backend's route on the same keys");
    // The largest block sums there are (every query value 127 or -127, every
    // key value 6): 4 blocks, the last three `span` binades above the first.
    // At the bound the total is 48768 x (1 + 3 x 2^13) < 2^31 and the tile
    // merges; one binade more would overflow int32, so it must not.
    const int64_t dim = 128, blocks = dim / 32, count = 16;
    const int limit = cpu::indexer_merge_max_shift(blocks);
    REQUIRE(limit == 13);
    ReferenceBackend ref;
    for (float sign : {1.0f, -1.0f})
        for (int span : {limit, limit + 1}) {
            CAPTURE(sign, span);
            std::vector<float> q(static_cast<size_t>(dim), sign * 127.0f * std::ldexp(1.0f, -20));
            const std::vector<float> w = {0.75f};
            std::vector<uint8_t> packed(size_t(count * dim / 2), 0x77), scales(size_t(count * blocks));
            for (int64_t k = 0; k < count; ++k)
                for (int64_t B = 0; B < blocks; ++B)
                    scales[size_t(k * blocks + B)] = uint8_t(B == 0 ? 100 : 100 + span);
            std::vector<float> kf(static_cast<size_t>(count * dim)), want(static_cast<size_t>(count));
            for (int64_t k = 0; k < count; ++k)
                fp4_dequantize(packed.data() + k * dim / 2, scales.data() + k * blocks, dim, 32, kf.data() + k * dim);
            ref.indexer_scores(q.data(), w.data(), 1, dim, kf.data(), count, want.data());
            cpu::IndexerQueryBuffers b;
            REQUIRE(cpu::indexer_queries_prepare(q.data(), 1, dim, b));
            REQUIRE(b.q.spread == 0);
            if (tables.empty()) check_backend_route(q, w, 1, dim, packed.data(), scales.data(), count);
            for (const cpu::Kernels* K : tables) {
                CAPTURE(cpu::isa_name(K->isa));
                std::vector<float> got(static_cast<size_t>(count), -1.0f);
                std::vector<uint8_t> exact(static_cast<size_t>(count), 7);
                K->indexer_scores_fp4(b.q, w.data(), packed.data(), scales.data(), count, got.data(), exact.data());
                for (int64_t k = 0; k < count; ++k) {
                    CAPTURE(k);
                    CHECK(int(exact[size_t(k)]) == (span <= limit ? 2 : 1));
                    CHECK(same_bits(got[size_t(k)], want[size_t(k)]));
                }
            }
        }
}

TEST_CASE("indexer integer kernel: keys whose sums could round are handed back", "[cpu][kernels]") {
    const auto tables = tables_with_kernel();
    if (tables.empty())
        WARN("this CPU has no AVX512-VNNI + VBMI table: the integer indexer kernel is not built for it; "
             "checking the cpu backend's route on the same keys");
    std::mt19937 rng(9);
    const int heads = 8;
    const int64_t dim = 128, count = 40;
    const auto q = grid_queries(heads, dim, 3, rng);
    const auto w = weights(heads, rng);
    Keys keys(dim, count, 2, rng);
    // Key 3: its first block 40 binades above the rest. Key 4: the same,
    // but that block's codes are all zero (+0 and -0), so it adds nothing
    // and does not count. Key 5: a zero scale byte; key 6: 255 (NaN).
    // Key 7: blocks spanning kIndexerMaxSpread - q.spread binades exactly.
    cpu::IndexerQueryBuffers b;
    REQUIRE(cpu::indexer_queries_prepare(q.data(), heads, dim, b));
    keys.scale(3)[0] = uint8_t(keys.scale(3)[1] + 40);
    keys.scale(4)[0] = uint8_t(keys.scale(4)[1] + 40);
    for (int j = 0; j < 16; ++j) keys.row(4)[j] = (j % 2) ? 0x88 : 0x00;
    keys.scale(5)[2] = 0;
    keys.scale(6)[1] = 255;
    for (int B = 0; B < 4; ++B) keys.scale(7)[B] = 100;
    keys.scale(7)[3] = uint8_t(100 + cpu::kIndexerMaxSpread - b.q.spread);
    keys.row(7)[0] = 0x11;
    keys.row(7)[48] = 0x22;  // nonzero codes in blocks 0 and 3
    if (tables.empty()) check_backend_route(q, w, heads, dim, keys.packed.data(), keys.scales.data(), count);
    for (const cpu::Kernels* K : tables) {
        CAPTURE(cpu::isa_name(K->isa));
        std::vector<float> got(static_cast<size_t>(count), -1.0f);
        std::vector<uint8_t> exact(static_cast<size_t>(count), 7);
        K->indexer_scores_fp4(b.q, w.data(), keys.packed.data(), keys.scales.data(), count, got.data(), exact.data());
        for (int64_t k = 0; k < count; ++k) {
            CAPTURE(k);
            const bool expect = cpu::indexer_key_exact(b.q, keys.row(k), keys.scale(k));
            REQUIRE(bool(exact[size_t(k)]) == expect);
            if (!expect) REQUIRE(got[size_t(k)] == -1.0f);  // left as it was
        }
        CHECK(exact[3] == 0);
        CHECK(exact[4] == 1);
        CHECK(exact[5] == 0);
        CHECK(exact[6] == 0);
        CHECK(exact[7] == 1);
        keys.scale(7)[3] += 1;  // one binade more
        K->indexer_scores_fp4(b.q, w.data(), keys.packed.data(), keys.scales.data(), count, got.data(), exact.data());
        CHECK(exact[7] == 0);
        keys.scale(7)[3] -= 1;
    }
}

TEST_CASE("cpu backend: FP4 indexer keys score as their dequantized values do", "[cpu][kernels]") {
    struct IsaGuard {
        cpu::Isa saved = cpu::active_isa();
        ~IsaGuard() { cpu::set_active_isa(saved); }
    } guard;
    ReferenceBackend ref;
    std::mt19937 rng(21);
    const int heads = 64;
    const int64_t dim = 128, count = 300;
    Keys keys(dim, count, 3, rng);
    // Rounding keys among them (the double kernels' share) and an all-zero key.
    for (int64_t k = 10; k < count; k += 37) keys.scale(k)[2] = uint8_t(keys.scale(k)[0] + 45);
    std::fill(keys.row(20), keys.row(20) + dim / 2, uint8_t(0));
    const auto kf = keys.dequantized();
    const auto w = weights(heads, rng);
    for (int threads : {1, 2})
        for (int grid = 0; grid < 2; ++grid)
            for (cpu::Isa isa :
                 {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512, cpu::Isa::Avx512Vnni, cpu::Isa::Avx512Fp16}) {
                if (!cpu::isa_supported(isa)) continue;
                cpu::set_active_isa(isa);
                CAPTURE(cpu::isa_name(isa), threads, grid);
                auto q = grid_queries(heads, dim, 4, rng);
                if (!grid) q[3] = std::nextafter(q[3], 1e9f);  // off the grid: the double kernels for all
                CpuBackend cpu(threads);
                std::vector<float> got(static_cast<size_t>(count)), want(static_cast<size_t>(count)),
                    ref_scores(static_cast<size_t>(count));
                cpu.indexer_scores_fp4(q.data(), w.data(), heads, dim, keys.packed.data(), keys.scales.data(), count,
                                       got.data());
                cpu.indexer_scores(q.data(), w.data(), heads, dim, kf.data(), count, want.data());
                ref.indexer_scores(q.data(), w.data(), heads, dim, kf.data(), count, ref_scores.data());
                for (int64_t k = 0; k < count; ++k) {
                    CAPTURE(k);
                    REQUIRE(same_bits(got[size_t(k)], want[size_t(k)]));
                    // Exact sums: the reference's bits too, except where they round.
                    if ((k - 10) % 37 != 0) REQUIRE(same_bits(got[size_t(k)], ref_scores[size_t(k)]));
                }
            }
}

TEST_CASE("backend default: FP4 indexer keys dequantized", "[kernels]") {
    ReferenceBackend ref;
    std::mt19937 rng(4);
    const int heads = 4;
    const int64_t dim = 64, count = 600;  // more than one of the default's batches
    Keys keys(dim, count, 3, rng);
    const auto kf = keys.dequantized();
    const auto q = grid_queries(heads, dim, 2, rng);
    const auto w = weights(heads, rng);
    std::vector<float> got(static_cast<size_t>(count)), want(static_cast<size_t>(count));
    ref.indexer_scores_fp4(q.data(), w.data(), heads, dim, keys.packed.data(), keys.scales.data(), count, got.data());
    ref.indexer_scores(q.data(), w.data(), heads, dim, kf.data(), count, want.data());
    for (int64_t k = 0; k < count; ++k) REQUIRE(same_bits(got[size_t(k)], want[size_t(k)]));
}
