// The cpu backend's kernels against the reference backend, on random
// weights in every checkpoint format, odd shapes, 1..9 tokens (the register
// kernels) and prefill-sized batches (the packed GEMM), for every ISA this
// machine runs (forced in turn, as DSV4_CPU_ISA would).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/cpu_backend.h"
#include "cpu/kernels.h"
#include "quant.h"
#include "reference/reference_backend.h"

using namespace dsv4;

namespace {

// A Linear over owned random bytes.
struct RandomLinear {
    Tensor weight, scale;
    std::vector<uint8_t> wbytes, sbytes;
    Linear lin;

    // fp8_mostly_normal: FP8 codes as checkpoints have them, nearly all with
    // an exponent field >= 1 (about 1 in 1000 zero or subnormal), so most
    // 64-code chunks take the AVX512-VBMI kernels' vector routes and some
    // their e = 0 paths; otherwise every non-NaN code is equally likely.
    RandomLinear(LinearFormat f, int64_t out, int64_t in, std::mt19937& rng, bool fp8_mostly_normal = false) {
        std::uniform_int_distribution<int> byte(0, 255), sc(118, 130), keep_low(0, 63);
        lin.format = f;
        lin.out = out;
        lin.in = in;
        lin.weight = &weight;
        weight.name = "test.weight";
        if (f == LinearFormat::BF16) {
            wbytes.resize(size_t(out * in * 2));
            std::normal_distribution<float> nd(0.0f, 1.0f);
            for (int64_t i = 0; i < out * in; ++i) {
                float v = nd(rng);
                uint32_t b;
                std::memcpy(&b, &v, 4);
                const uint16_t h = uint16_t(b >> 16);
                std::memcpy(wbytes.data() + 2 * i, &h, 2);
            }
            weight.dtype = DType::BF16;
        } else if (f == LinearFormat::FP8) {
            wbytes.resize(size_t(out * in));
            for (auto& b : wbytes) {
                int v;
                do v = byte(rng);
                while ((v & 0x7F) == 0x7F);  // no NaN codes
                if (fp8_mostly_normal && (v & 0x78) == 0 && keep_low(rng) != 0) v |= 0x08;
                b = uint8_t(v);
            }
            sbytes.resize(size_t(((out + 127) / 128) * ((in + 127) / 128)));
            weight.dtype = DType::F8_E4M3;
        } else {
            wbytes.resize(size_t(out * in / 2));
            for (auto& b : wbytes) b = uint8_t(byte(rng));
            sbytes.resize(size_t(out * in / 32));
            weight.dtype = DType::I8;
        }
        for (auto& s : sbytes) s = uint8_t(sc(rng));
        weight.data = wbytes.data();
        weight.nbytes = wbytes.size();
        if (f != LinearFormat::BF16) {
            scale.name = "test.scale";
            scale.dtype = DType::F8_E8M0;
            scale.data = sbytes.data();
            scale.nbytes = sbytes.size();
            lin.scale = &scale;
        }
    }
};

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
}

// Both compute float(double sum) of exact products; only the order of the
// double additions differs, so results agree to about one float ulp.
void check_close(const std::vector<float>& got, const std::vector<float>& want) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i << ": " << got[i] << " vs " << want[i]);
        REQUIRE(std::fabs(got[i] - want[i]) <= 2e-7f * std::fabs(want[i]) + 1e-30f);
    }
}

std::vector<cpu::Isa> isas() {
    std::vector<cpu::Isa> v;
    for (cpu::Isa i : {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512, cpu::Isa::Avx512Vnni, cpu::Isa::Avx512Fp16})
        if (cpu::isa_supported(i)) v.push_back(i);
    return v;
}

struct IsaGuard {
    cpu::Isa saved = cpu::active_isa();
    ~IsaGuard() { cpu::set_active_isa(saved); }
};

struct Fp8CheckGuard {
    bool saved = cpu::fp8_check_subnormals();
    ~Fp8CheckGuard() { cpu::set_fp8_check_subnormals(saved); }
};

void run_matmul_case(LinearFormat f, int64_t out, int64_t in, int64_t row0, int64_t rows, int64_t n, int threads,
                     uint32_t seed, bool fp8_mostly_normal = false) {
    std::mt19937 rng(seed);
    RandomLinear w(f, out, in, rng, fp8_mostly_normal);
    const int64_t ldx = in + 3, ldy = rows + 5;
    auto x = random_floats(size_t(n * ldx), rng);
    std::vector<float> want(size_t(n * ldy), 0.0f), got(size_t(n * ldy), 0.0f);
    ReferenceBackend ref;
    ref.matmul(w.lin, row0, rows, x.data(), ldx, n, want.data(), ldy);
    CpuBackend cpu(threads);
    cpu.matmul(w.lin, row0, rows, x.data(), ldx, n, got.data(), ldy);
    check_close(got, want);
}

const char* fmt_name(LinearFormat f) {
    return f == LinearFormat::BF16 ? "BF16" : f == LinearFormat::FP8 ? "FP8" : "FP4";
}

}  // namespace

TEST_CASE("cpu matmul matches reference: 1..9 tokens, odd shapes, every ISA", "[cpu][kernels]") {
    IsaGuard guard;
    for (cpu::Isa isa : isas()) {
        cpu::set_active_isa(isa);
        for (LinearFormat f : {LinearFormat::BF16, LinearFormat::FP8, LinearFormat::FP4}) {
            // FP4 needs in % 32 == 0; BF16 / FP8 get ragged widths.
            const std::vector<int64_t> ins =
                f == LinearFormat::FP4 ? std::vector<int64_t>{32, 96, 288} : std::vector<int64_t>{5, 16, 200, 300};
            for (int64_t in : ins)
                for (int64_t n = 1; n <= 9; ++n) {
                    INFO("isa " << cpu::isa_name(isa) << " " << fmt_name(f) << " in " << in << " n " << n);
                    run_matmul_case(f, 300, in, 0, 300, n, 2, uint32_t(in * 31 + n));
                    // A row range that starts and ends inside 128-row blocks.
                    run_matmul_case(f, 300, in, 37, 203, n, 2, uint32_t(in * 17 + n));
                    run_matmul_case(f, 7, in, 2, 5, n, 1, uint32_t(in * 13 + n));
                }
        }
    }
}

// f(isa, check) on every ISA this machine has, with the avx512vnni table's
// FP8 subnormal check (on where the CPU is not AMD's) forced off, then on.
template <class F>
void each_isa_and_fp8_check(F f) {
    IsaGuard guard;
    Fp8CheckGuard check_guard;
    for (cpu::Isa isa : isas()) {
        cpu::set_active_isa(isa);
        for (bool check : {false, true}) {
            cpu::set_fp8_check_subnormals(check);
            f(isa, check);
        }
    }
}

TEST_CASE("cpu FP8 matmul matches reference on checkpoint-like codes, subnormal check on and off", "[cpu][kernels]") {
    each_isa_and_fp8_check([](cpu::Isa isa, bool check) {
        // Whole 64-input chunks, a partial last chunk, and more than one
        // 128-input scale block.
        for (int64_t in : {64, 100, 192, 300, 1024})
            for (int64_t n = 1; n <= 9; ++n) {
                INFO("isa " << cpu::isa_name(isa) << " check " << check << " in " << in << " n " << n);
                run_matmul_case(LinearFormat::FP8, 300, in, 0, 300, n, 2, uint32_t(in * 29 + n), true);
                run_matmul_case(LinearFormat::FP8, 300, in, 37, 203, n, 2, uint32_t(in * 23 + n), true);
                run_matmul_case(LinearFormat::FP8, 7, in, 2, 5, n, 1, uint32_t(in * 19 + n), true);
                // Every code equally likely: an e = 0 code in 16.
                run_matmul_case(LinearFormat::FP8, 300, in, 37, 203, n, 2, uint32_t(in * 11 + n));
            }
    });
}

TEST_CASE("cpu FP8 matmul keeps its scalings exact for large and small activations and block scales",
          "[cpu][kernels]") {
    // The avx512vnni kernel's codes are the values times 2^-1016, made up
    // by x times 2^504 and the sum times 2^512: no overflow or underflow for
    // x times a block scale anywhere in [2^-100, 2^100].
    each_isa_and_fp8_check([](cpu::Isa isa, bool check) {
        for (int e : {-60, 60})
            for (int64_t n : {1, 2, 5}) {
                INFO("isa " << cpu::isa_name(isa) << " check " << check << " x times 2^" << e << " n " << n);
                std::mt19937 rng(uint32_t(n * 3 + (e > 0)));
                RandomLinear w(LinearFormat::FP8, 260, 200, rng);
                // Block scales 2^(e * 2/3 +- 4).
                for (auto& sc : w.sbytes) sc = uint8_t(127 + e * 2 / 3 + int(rng() % 9) - 4);
                const int64_t ldx = 203, ldy = 265;
                auto x = random_floats(size_t(n * ldx), rng);
                for (auto& v : x) v = std::ldexp(v, e);
                std::vector<float> want(size_t(n * ldy), 0.0f), got(size_t(n * ldy), 0.0f);
                ReferenceBackend ref;
                ref.matmul(w.lin, 0, 260, x.data(), ldx, n, want.data(), ldy);
                CpuBackend cpu(2);
                cpu.matmul(w.lin, 0, 260, x.data(), ldx, n, got.data(), ldy);
                for (int64_t i = 0; i < n; ++i) REQUIRE(std::isnormal(want[size_t(i * ldy)]));
                check_close(got, want);
            }
    });
}

TEST_CASE("cpu matmul matches reference: prefill batches (packed GEMM)", "[cpu][kernels]") {
    IsaGuard guard;
    for (cpu::Isa isa : isas()) {
        cpu::set_active_isa(isa);
        for (LinearFormat f : {LinearFormat::BF16, LinearFormat::FP8, LinearFormat::FP4}) {
            const int64_t in = f == LinearFormat::FP4 ? 544 : 301;
            // 17: a last strip of one token; 40: of eight; 300: two blocks
            // of tokens (256 + 44), each a product of its own.
            for (int64_t n : {int64_t(CpuBackend::kGemmMinTokens), int64_t(17), int64_t(40), int64_t(300)}) {
                INFO("isa " << cpu::isa_name(isa) << " " << fmt_name(f) << " n " << n);
                run_matmul_case(f, 250, in, 3, 211, n, 2, uint32_t(n * 7 + int(f)));
            }
        }
    }
}

TEST_CASE("cpu FP4 products: where the integer route exists, a batch gives each token its own bits", "[cpu][kernels]") {
    // CpuBackend::matmul sends FP4 products of every batch size to the
    // integer route where the table has it (prefill included), so a token's
    // outputs are the same bits alone (decode) and in a batch of 40 (a
    // prefill). Each token's activations are small but for an outlier at
    // input 0, whose weights are zero: the route's grid (set by the outlier)
    // then rounds the rest, and its sums differ from the f64 GEMM's exact
    // ones in the last bits, so a batch through the GEMM would fail the
    // memcmp (in a similar case, 3751 of 3840 outputs differed).
    // Without the route, or where the table keeps batches of 16 and more on
    // the GEMM (AVX2: Kernels::fp4_fixed_batches), within float rounding.
    IsaGuard guard;
    for (cpu::Isa isa : isas()) {
        cpu::set_active_isa(isa);
        INFO("isa " << cpu::isa_name(isa));
        std::mt19937 rng(31);
        RandomLinear w(LinearFormat::FP4, 96, 512, rng);
        for (int64_t r = 0; r < 96; ++r) w.wbytes[size_t(r * 256)] &= 0xF0;  // input 0: the low nibble
        // Block scales within 3 binades in every row, as the route requires
        // (RandomLinear spreads them over 12).
        for (auto& b : w.sbytes) b = uint8_t(120 + rng() % 4);
        const int64_t n = 40;
        auto x = random_floats(size_t(n * 512), rng);
        for (int64_t i = 0; i < n; ++i) {
            for (int64_t k = 0; k < 512; ++k) x[size_t(i * 512 + k)] *= 1e-3f;
            x[size_t(i * 512)] = 1e3f;
        }
        std::vector<float> batch(size_t(n * 96)), alone(size_t(n * 96));
        CpuBackend cpu(2);
        cpu.matmul(w.lin, 0, 96, x.data(), 512, n, batch.data(), 96);
        for (int64_t i = 0; i < n; ++i) cpu.matmul(w.lin, 0, 96, x.data() + i * 512, 512, 1, alone.data() + i * 96, 96);
        const cpu::Kernels& K = cpu::kernels();
        if (K.gemv_fp4_fixed && K.fp4_fixed_batches) {
            CHECK(std::memcmp(batch.data(), alone.data(), batch.size() * sizeof(float)) == 0);
        } else if (K.gemv_fp4_fixed) {
            // Alone through the route, in a batch through the GEMM's exact
            // sums: apart by at most the route's rounding of x onto its grid
            // (2^-38 max|x| sum|w|, max|x| = 1e3) and two float roundings.
            for (int64_t r = 0; r < 96; ++r) {
                double abs_w = 0;
                for (int64_t k = 0; k < 512; ++k) {
                    const uint8_t byte = w.wbytes[size_t(r * 256 + k / 2)];
                    abs_w += std::fabs(double(fp4_e2m1_to_float(uint8_t(k % 2 ? byte >> 4 : byte & 0xF)))) *
                             double(e8m0_to_float(w.sbytes[size_t(r * 16 + k / 32)]));
                }
                for (int64_t i = 0; i < n; ++i) {
                    const double b = batch[size_t(i * 96 + r)], a = alone[size_t(i * 96 + r)];
                    INFO("token " << i << " row " << r << ": " << a << " alone, " << b << " in the batch");
                    REQUIRE(std::fabs(a - b) <= std::ldexp(1e3, -38) * abs_w + 1.2e-7 * std::fabs(b));
                }
            }
        } else {
            check_close(batch, alone);
        }
    }
}

TEST_CASE("cpu gemv and gemm paths agree with each other", "[cpu][kernels]") {
    std::mt19937 rng(5);
    RandomLinear w(LinearFormat::FP8, 256, 512, rng);
    const int64_t n = 12;
    auto x = random_floats(size_t(n * 512), rng);
    std::vector<float> a(size_t(n * 256)), b(size_t(n * 256));
    CpuBackend cpu(2);
    cpu.matmul_gemv(w.lin, 0, 256, x.data(), 512, n, a.data(), 256);
    cpu.matmul_gemm(w.lin, 0, 256, x.data(), 512, n, b.data(), 256);
    check_close(a, b);
}

namespace {
SparseAttentionArgs attention_args(const std::vector<float>& q, int heads, int dim,
                                   const std::vector<const float*>& rows, const std::vector<float>& sink, float scale,
                                   float* out) {
    SparseAttentionArgs a;
    a.q = q.data();
    a.n_heads = heads;
    a.dim = dim;
    a.kv = rows.data();
    a.n_kv = int64_t(rows.size());
    a.sink = sink.data();
    a.scale = scale;
    a.out = out;
    return a;
}
}  // namespace

TEST_CASE("cpu sparse attention: rows in blocks give the per-head route's floats bit for bit", "[cpu][kernels]") {
    // The grouped kernels walk the rows in blocks (kAttnRowBlock, 128) for
    // tasks of several head groups; every score and every head's sum over
    // the rows must be what one dot_f64_f32 per head and row, the softmax,
    // and one axpy_f32 per head and row from a zeroed out give.
    IsaGuard guard;
    std::mt19937 rng(41);
    bool seen = false;
    for (cpu::Isa isa : isas()) {
        cpu::set_active_isa(isa);
        const cpu::Kernels& K = cpu::kernels();
        if (!K.attn_scores || !K.attn_weighted) continue;
        seen = true;
        for (int64_t nkv : {int64_t(127), int64_t(129), int64_t(300)})
            for (int H : {64, 6}) {
                INFO("isa " << cpu::isa_name(isa) << " rows " << nkv << " heads " << H);
                const int d = 136;
                auto q = random_floats(size_t(H * d), rng), keys = random_floats(size_t(nkv * d), rng),
                     sink = random_floats(size_t(H), rng);
                std::vector<const float*> rows;
                for (int64_t j = 0; j < nkv; ++j) rows.push_back(keys.data() + ((j * 7) % nkv) * d);
                const float scale = 0.1f;
                std::vector<float> want(size_t(H * d), 0.0f), got(size_t(H * d), -1.0f);
                for (int h = 0; h < H; ++h) {
                    const std::vector<double> qd(q.begin() + h * d, q.begin() + (h + 1) * d);
                    std::vector<float> p(static_cast<size_t>(nkv));
                    float mx = -std::numeric_limits<float>::infinity();
                    for (int64_t j = 0; j < nkv; ++j) {
                        p[size_t(j)] = float(K.dot_f64_f32(qd.data(), rows[size_t(j)], d)) * scale;
                        mx = std::max(mx, p[size_t(j)]);
                    }
                    float denom = 0.0f;
                    for (auto& v : p) {
                        v = std::exp(v - mx);
                        denom += v;
                    }
                    denom += std::exp(sink[size_t(h)] - mx);
                    for (int64_t j = 0; j < nkv; ++j)
                        K.axpy_f32(p[size_t(j)] / denom, rows[size_t(j)], want.data() + h * d, d);
                }
                CpuBackend(2).sparse_attention(attention_args(q, H, d, rows, sink, scale, got.data()));
                REQUIRE(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
            }
    }
    if (cpu::isa_supported(cpu::Isa::Avx2)) CHECK(seen);
}

TEST_CASE("cpu attention, indexer scores, hc mixes and experts match reference", "[cpu][kernels]") {
    IsaGuard guard;
    std::mt19937 rng(11);
    for (cpu::Isa isa : isas()) {
        cpu::set_active_isa(isa);
        INFO("isa " << cpu::isa_name(isa));
        ReferenceBackend ref;
        CpuBackend cpu(2);
        for (int H : {16, 6}) {  // whole groups of 4 heads, and a partial last group
            // Large enough to take the threaded path.
            INFO("heads " << H);
            const int d = H == 16 ? 136 : 200;
            const int64_t nkv = 77;
            auto q = random_floats(size_t(H * d), rng), keys = random_floats(size_t(nkv * d), rng),
                 sink = random_floats(size_t(H), rng);
            std::vector<const float*> rows;
            for (int64_t j = 0; j < nkv; ++j) rows.push_back(keys.data() + (nkv - 1 - j) * d);
            std::vector<float> want(size_t(H * d)), got(size_t(H * d));
            ref.sparse_attention(attention_args(q, H, d, rows, sink, 0.1f, want.data()));
            cpu.sparse_attention(attention_args(q, H, d, rows, sink, 0.1f, got.data()));
            check_close(got, want);
        }
        for (int heads : {8, 6}) {
            INFO("indexer heads " << heads);
            const int64_t dim = 128, count = 301;
            auto q = random_floats(size_t(heads * dim), rng), w = random_floats(size_t(heads), rng),
                 keys = random_floats(size_t(count * dim), rng);
            std::vector<float> want(static_cast<size_t>(count)), got(static_cast<size_t>(count));
            ref.indexer_scores(q.data(), w.data(), heads, dim, keys.data(), count, want.data());
            cpu.indexer_scores(q.data(), w.data(), heads, dim, keys.data(), count, got.data());
            check_close(got, want);
        }
        for (int64_t n : {1, 3}) {  // one token (x converted once) and a batch
            const int n_out = 24;
            const int64_t width = 4 * 1000;
            auto m = random_floats(size_t(n_out * width), rng), x = random_floats(size_t(n * width), rng);
            std::vector<float> want(size_t(n * n_out)), got(size_t(n * n_out));
            ref.hc_mixes(m.data(), n_out, width, x.data(), n, 1e-6f, want.data());
            cpu.hc_mixes(m.data(), n_out, width, x.data(), n, 1e-6f, got.data());
            check_close(got, want);
        }
        for (LinearFormat f : {LinearFormat::FP4, LinearFormat::FP8})
            for (int64_t n : {int64_t(1), int64_t(3), int64_t(20)}) {
                INFO(fmt_name(f) << " expert, n " << n);
                const int64_t I = 96, D = 160;
                ExpertWeights e;
                RandomLinear w1(f, I, D, rng), w3(f, I, D, rng), w2(f, D, I, rng);
                e.w1 = w1.lin;
                e.w3 = w3.lin;
                e.w2 = w2.lin;
                auto x = random_floats(size_t(n * D), rng), rw = random_floats(size_t(n), rng);
                std::vector<float> want(size_t(n * D), 0.5f), got(size_t(n * D), 0.5f);
                ref.expert_ffn(e, 10.0f, x.data(), n, rw.data(), want.data());
                cpu.expert_ffn(e, 10.0f, x.data(), n, rw.data(), got.data());
                for (size_t i = 0; i < want.size(); ++i)
                    REQUIRE(std::fabs(got[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
            }
    }
}

TEST_CASE("cpu experts_ffn runs several experts as one expert_ffn call each would, bit for bit", "[cpu][kernels]") {
    IsaGuard guard;
    std::mt19937 rng(12);
    for (cpu::Isa isa : isas()) {
        cpu::set_active_isa(isa);
        ReferenceBackend ref;
        CpuBackend cpu(2);
        for (LinearFormat f : {LinearFormat::FP4, LinearFormat::FP8, LinearFormat::BF16})
            for (int64_t n : {int64_t(1), int64_t(3)})
                for (int count : {1, 2, 6}) {
                    INFO("isa " << cpu::isa_name(isa) << ", " << fmt_name(f) << " experts, n " << n << ", count "
                                << count);
                    const int64_t I = 96, D = 160;
                    std::vector<std::unique_ptr<RandomLinear>> owned;
                    std::vector<ExpertWeights> experts(static_cast<size_t>(count));
                    for (auto& e : experts) {
                        for (Linear* l : {&e.w1, &e.w3, &e.w2}) {
                            const bool down = l == &e.w2;
                            owned.push_back(std::make_unique<RandomLinear>(f, down ? D : I, down ? I : D, rng));
                            *l = owned.back()->lin;
                        }
                    }
                    std::vector<const ExpertWeights*> ptrs;
                    for (const auto& e : experts) ptrs.push_back(&e);
                    const auto x = random_floats(size_t(n * D), rng), rw = random_floats(size_t(count), rng);
                    for (bool weighted : {true, false}) {
                        std::vector<float> want(size_t(n * D), 0.5f), got(want), ref_got(want);
                        for (int j = 0; j < count; ++j) {
                            const std::vector<float> wj(size_t(n), weighted ? rw[size_t(j)] : 1.0f);
                            cpu.expert_ffn(experts[size_t(j)], 10.0f, x.data(), n, wj.data(), want.data());
                        }
                        cpu.experts_ffn(ptrs.data(), weighted ? rw.data() : nullptr, count, 10.0f, x.data(), n,
                                        got.data());
                        REQUIRE(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
                        ref.experts_ffn(ptrs.data(), weighted ? rw.data() : nullptr, count, 10.0f, x.data(), n,
                                        ref_got.data());
                        for (size_t i = 0; i < want.size(); ++i)
                            REQUIRE(std::fabs(got[i] - ref_got[i]) <= 1e-5f * (1 + std::fabs(ref_got[i])));
                    }
                }
        // Experts of different shapes go one at a time, with the same result.
        std::vector<std::unique_ptr<RandomLinear>> owned;
        ExpertWeights a, b;
        for (auto [e, I] : {std::pair<ExpertWeights*, int64_t>{&a, 64}, {&b, 96}})
            for (Linear* l : {&e->w1, &e->w3, &e->w2}) {
                const bool down = l == &e->w2;
                owned.push_back(std::make_unique<RandomLinear>(LinearFormat::FP4, down ? 128 : I, down ? I : 128, rng));
                *l = owned.back()->lin;
            }
        const ExpertWeights* ptrs[2] = {&a, &b};
        const float rw[2] = {0.25f, -1.5f};
        const auto x = random_floats(128, rng);
        std::vector<float> want(128, 0.0f), got(want);
        cpu.expert_ffn(a, 10.0f, x.data(), 1, &rw[0], want.data());
        cpu.expert_ffn(b, 10.0f, x.data(), 1, &rw[1], want.data());
        cpu.experts_ffn(ptrs, rw, 2, 10.0f, x.data(), 1, got.data());
        REQUIRE(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("dot_f64_f32 gives dot_f32's sums bit for bit; scale_blocks scales each 128 inputs", "[cpu][kernels]") {
    std::mt19937 rng(21);
    for (cpu::Isa isa : isas()) {
        const cpu::Kernels& K = cpu::kernels_for(isa);
        for (int64_t n : {1, 7, 8, 15, 16, 17, 100, 128, 300, 512, 1000}) {
            INFO("isa " << cpu::isa_name(isa) << " n " << n);
            const auto a = random_floats(size_t(n), rng), b = random_floats(size_t(n), rng);
            std::vector<double> ad(a.begin(), a.end());
            const double want = K.dot_f32(a.data(), b.data(), n);
            CHECK(K.dot_f64_f32(ad.data(), b.data(), n) == want);
            std::vector<double> f(size_t((n + 127) / 128)), out(size_t(n), -1.0);
            for (size_t c = 0; c < f.size(); ++c) f[c] = std::ldexp(1.0, int(c % 7) - 3);
            K.scale_blocks(ad.data(), f.data(), n, out.data());
            for (int64_t k = 0; k < n; ++k) REQUIRE(out[size_t(k)] == ad[size_t(k)] * f[size_t(k / 128)]);
        }
    }
}

TEST_CASE("dot_rows_f64_f32 gives dot_f64_f32's sums for every row bit for bit", "[cpu][kernels]") {
    std::mt19937 rng(22);
    bool seen = false;
    for (cpu::Isa isa : isas()) {
        const cpu::Kernels& K = cpu::kernels_for(isa);
        if (!K.dot_rows_f64_f32) continue;
        seen = true;
        for (int64_t n : {1, 15, 16, 17, 100, 1000})
            for (int rows : {1, 3, 4, 5, 9}) {
                INFO("isa " << cpu::isa_name(isa) << " n " << n << " rows " << rows);
                const int64_t ldb = n + 3;
                const auto a = random_floats(size_t(n), rng), b = random_floats(size_t(rows * ldb), rng);
                const std::vector<double> ad(a.begin(), a.end());
                std::vector<double> out(size_t(rows) + 1, -7.0);
                K.dot_rows_f64_f32(ad.data(), b.data(), ldb, rows, n, out.data());
                for (int r = 0; r < rows; ++r)
                    REQUIRE(out[size_t(r)] == K.dot_f64_f32(ad.data(), b.data() + r * ldb, n));
                CHECK(out[size_t(rows)] == -7.0);  // nothing past the last row
            }
    }
    // The AVX2 and AVX-512 tables have it; without AVX2 there is nothing to compare.
    if (cpu::isa_supported(cpu::Isa::Avx2)) CHECK(seen);
}

TEST_CASE("attn_scores and attn_weighted give dot_f64_f32's and axpy_f32's results bit for bit, rows in parts too",
          "[cpu][kernels]") {
    std::mt19937 rng(33);
    bool seen = false;
    for (cpu::Isa isa : isas()) {
        const cpu::Kernels& K = cpu::kernels_for(isa);
        if (!K.attn_scores || !K.attn_weighted) continue;
        seen = true;
        for (int64_t dim : {1, 7, 16, 17, 63, 64, 65, 100, 512, 600})
            for (int64_t n_kv : {0, 1, 3, 130})
                for (int nq : {1, 3, 4, 6, 9}) {
                    INFO("isa " << cpu::isa_name(isa) << " dim " << dim << " keys " << n_kv << " heads " << nq);
                    const int64_t ld = dim + 5;
                    const auto keys = random_floats(size_t(std::max<int64_t>(n_kv, 1) * ld), rng);
                    std::vector<const float*> rows;
                    for (int64_t j = 0; j < n_kv; ++j) rows.push_back(keys.data() + j * ld);
                    const auto qf = random_floats(size_t(nq * dim), rng);
                    const std::vector<double> q(qf.begin(), qf.end());
                    const int64_t ldo = n_kv + 2;
                    std::vector<double> sc(size_t(nq * ldo), -1.0);
                    K.attn_scores(q.data(), dim, nq, rows.data(), n_kv, dim, sc.data(), ldo);
                    for (int h = 0; h < nq; ++h) {
                        for (int64_t j = 0; j < n_kv; ++j)
                            REQUIRE(sc[size_t(h * ldo + j)] == K.dot_f64_f32(q.data() + h * dim, rows[size_t(j)], dim));
                        CHECK(sc[size_t(h * ldo + n_kv)] == -1.0);  // nothing written past n_kv
                    }

                    auto w = random_floats(size_t(nq * (n_kv + 1)), rng);
                    if (n_kv > 2) w[1] = -0.0f;  // a -0 weight: +0 + -0 stays +0, as in axpy
                    const int64_t ldout = dim + 3;
                    // out zeroed within dim; 7 past it, which must stay.
                    std::vector<float> want(size_t(nq * ldout), 0.0f), out(size_t(nq * ldout), 7.0f);
                    for (int h = 0; h < nq; ++h)
                        std::fill(out.begin() + h * ldout, out.begin() + h * ldout + dim, 0.0f);
                    auto split = out;
                    for (int h = 0; h < nq; ++h)
                        for (int64_t j = 0; j < n_kv; ++j)
                            K.axpy_f32(w[size_t(h * (n_kv + 1) + j)], rows[size_t(j)], want.data() + h * ldout, dim);
                    K.attn_weighted(w.data(), n_kv + 1, nq, rows.data(), n_kv, dim, out.data(), ldout);
                    // The rows in two consecutive parts, the second call adding onto the first's out.
                    const int64_t cut = n_kv / 3;
                    K.attn_weighted(w.data(), n_kv + 1, nq, rows.data(), cut, dim, split.data(), ldout);
                    K.attn_weighted(w.data() + cut, n_kv + 1, nq, rows.data() + cut, n_kv - cut, dim, split.data(),
                                    ldout);
                    for (int h = 0; h < nq; ++h) {
                        REQUIRE(std::memcmp(out.data() + h * ldout, want.data() + h * ldout,
                                            size_t(dim) * sizeof(float)) == 0);
                        REQUIRE(std::memcmp(split.data() + h * ldout, want.data() + h * ldout,
                                            size_t(dim) * sizeof(float)) == 0);
                        CHECK(out[size_t(h * ldout + dim)] == 7.0f);  // nothing written past dim
                        CHECK(split[size_t(h * ldout + dim)] == 7.0f);
                    }
                }
    }
    if (cpu::isa_supported(cpu::Isa::Avx2)) CHECK(seen);
}

TEST_CASE("cpu matmul: a token's outputs are the same bits alone and in any batch under 16", "[cpu][kernels]") {
    // Decode steps (1 token) and verification passes (2-15) must give a token the same
    // floats: speculation keeps a draft only where the pass's choice equals plain
    // decoding's. The SIMD tables sum each (row, token) in one order whatever the tile
    // (AVX-512: two accumulators at every batch size since the sixteenth session; AVX2
    // runs FP8 batches as token pairs over row blocks, kernels_avx2_fp8words.inc), so rows
    // span several blocks here, with remainder rows, and odd and even batch sizes.
    IsaGuard guard;
    Fp8CheckGuard check_guard;
    for (cpu::Isa isa : isas()) {
        if (isa == cpu::Isa::Scalar) continue;  // sums a batch's products in another order
        cpu::set_active_isa(isa);
        for (LinearFormat f : {LinearFormat::FP8, LinearFormat::BF16, LinearFormat::FP4})
            for (bool check : {false, true}) {
                if (check && f != LinearFormat::FP8) continue;
                cpu::set_fp8_check_subnormals(check);
                for (int64_t in : {int64_t(64), int64_t(1000), int64_t(4096), int64_t(4100)}) {
                    if (f == LinearFormat::FP4 && in % 32 != 0) continue;
                    std::mt19937 rng(static_cast<uint32_t>(in + 7));
                    const int64_t out = 301;
                    RandomLinear w(f, out, in, rng, /*fp8_mostly_normal=*/true);
                    const int64_t ldx = in + 3, ldy = out + 5, n_max = 15;
                    auto x = random_floats(size_t(n_max * ldx), rng);
                    // Inputs 0 and 1 cancel: weight 1.0 in every row, x +-2^40. Where a kernel
                    // keeps them in different lanes or accumulators until the end of the row,
                    // they swallow the low bits of the small products added to them, so a sum
                    // in any other order gives other floats, nearly always. (FP4: the block
                    // scale multiplies both alike, and they still cancel.)
                    for (int64_t r = 0; r < out; ++r) {
                        if (f == LinearFormat::FP8) {
                            w.wbytes[size_t(r * in)] = w.wbytes[size_t(r * in + 1)] = 0x38;
                        } else if (f == LinearFormat::BF16) {
                            for (int64_t j = 0; j < 2; ++j) {
                                w.wbytes[size_t(2 * (r * in + j))] = 0x80;
                                w.wbytes[size_t(2 * (r * in + j)) + 1] = 0x3F;
                            }
                        } else {
                            w.wbytes[size_t(r * in / 2)] = 0x22;
                        }
                    }
                    for (int64_t i = 0; i < n_max; ++i) {
                        x[size_t(i * ldx)] = std::ldexp(float(1 + i % 3), 40);
                        x[size_t(i * ldx + 1)] = -x[size_t(i * ldx)];
                    }
                    CpuBackend cpu(2);
                    std::vector<float> alone(size_t(n_max * ldy), 0.0f);
                    for (int64_t i = 0; i < n_max; ++i)
                        cpu.matmul(w.lin, 0, out, x.data() + i * ldx, ldx, 1, alone.data() + i * ldy, ldy);
                    for (int64_t n : {int64_t(2), int64_t(3), int64_t(4), int64_t(5), int64_t(8), int64_t(15)}) {
                        INFO("isa " << cpu::isa_name(isa) << " " << fmt_name(f) << " check " << check << " in " << in
                                    << " n " << n);
                        std::vector<float> got(size_t(n * ldy), 0.0f);
                        cpu.matmul(w.lin, 0, out, x.data(), ldx, n, got.data(), ldy);
                        for (int64_t i = 0; i < n; ++i) {
                            INFO("token " << i);
                            REQUIRE(std::memcmp(got.data() + i * ldy, alone.data() + i * ldy,
                                                size_t(out) * sizeof(float)) == 0);
                        }
                    }
                }
            }
    }
}

TEST_CASE("cpu logits_matmul: BF16 heads in float within float rounding, the same logits in any batch",
          "[cpu][kernels]") {
    IsaGuard guard;
    bool float_kernel_seen = false;
    for (cpu::Isa isa : isas()) {
        cpu::set_active_isa(isa);
        const cpu::Kernels& K = cpu::kernels();
        // Rows of whole 32-input steps (32, 1024, 4096) take the AMD
        // one-token tile (bf16f_tile4_amd) on AMD CPUs, the others its
        // fallback, bf16f_tile.
        for (int64_t in : {5, 31, 32, 200, 1000, 1024, 4096, 4100}) {
            std::mt19937 rng(static_cast<uint32_t>(in));
            const int64_t out = 301;  // not a multiple of the 4-row tile
            RandomLinear w(LinearFormat::BF16, out, in, rng);
            const int64_t ldx = in + 3, ldy = out + 5, n_max = 17;  // 16 and 17 take matmul
            const auto x = random_floats(size_t(n_max * ldx), rng);
            std::vector<float> want(size_t(n_max * ldy), 0.0f);
            ReferenceBackend().matmul(w.lin, 0, out, x.data(), ldx, n_max, want.data(), ldy);
            // Float sums of `in` products: within a few float ulps of sum |w x| per addition.
            std::vector<double> bound(size_t(n_max * ldy), 0.0);
            std::vector<float> row(static_cast<size_t>(in));
            for (int64_t r = 0; r < out; ++r) {
                for (int64_t j = 0; j < in; ++j) {
                    uint32_t b = uint32_t(w.wbytes[size_t(2 * (r * in + j)) + 1]) << 24 |
                                 uint32_t(w.wbytes[size_t(2 * (r * in + j))]) << 16;
                    std::memcpy(&row[size_t(j)], &b, 4);
                }
                for (int64_t i = 0; i < n_max; ++i) {
                    double s = 0.0;
                    for (int64_t j = 0; j < in; ++j) s += std::fabs(double(row[size_t(j)]) * x[size_t(i * ldx + j)]);
                    bound[size_t(i * ldy + r)] = double(in / 32 + 32) * std::ldexp(s, -22);
                }
            }
            CpuBackend cpu(2);
            std::vector<float> one(static_cast<size_t>(ldy));
            for (int64_t n :
                 {int64_t(1), int64_t(2), int64_t(3), int64_t(4), int64_t(5), int64_t(9), int64_t(16), int64_t(17)}) {
                INFO("isa " << cpu::isa_name(isa) << " in " << in << " n " << n);
                std::vector<float> got(size_t(n * ldy), 0.0f);
                cpu.logits_matmul(w.lin, x.data(), ldx, n, got.data(), ldy);
                for (int64_t i = 0; i < n; ++i)
                    for (int64_t r = 0; r < out; ++r) {
                        const size_t e = size_t(i * ldy + r);
                        INFO("token " << i << " row " << r << ": " << got[e] << " vs " << want[e]);
                        REQUIRE(std::fabs(double(got[e]) - double(want[e])) <= bound[e]);
                    }
                if (!K.gemv_bf16_f32 || n >= CpuBackend::kGemmMinTokens) continue;
                // A token's logits do not depend on the batch it came in
                // (decode steps and verification passes agree bit for bit).
                for (int64_t i = 0; i < n; ++i) {
                    cpu.logits_matmul(w.lin, x.data() + i * ldx, ldx, 1, one.data(), ldy);
                    REQUIRE(std::memcmp(one.data(), got.data() + i * ldy, size_t(out) * sizeof(float)) == 0);
                }
                // The backend routes the head through the float kernel.
                std::vector<float> xs(size_t(n * ((in + 31) / 32 * 32))), direct(size_t(n * ldy), 0.0f);
                const int64_t ldxs = (in + 31) / 32 * 32;
                for (int64_t i = 0; i < n; ++i) cpu::bf16_split_x(x.data() + i * ldx, in, xs.data() + i * ldxs);
                K.gemv_bf16_f32(w.wbytes.empty() ? nullptr : reinterpret_cast<const uint16_t*>(w.wbytes.data()), in,
                                out, xs.data(), ldxs, n, direct.data(), ldy);
                for (int64_t i = 0; i < n; ++i)
                    REQUIRE(std::memcmp(direct.data() + i * ldy, got.data() + i * ldy, size_t(out) * sizeof(float)) ==
                            0);
                float_kernel_seen = true;
            }
        }
    }
    // Every table from AVX2 up has the float kernel: machines with AVX2 must
    // exercise it.
    if (cpu::isa_supported(cpu::Isa::Avx2)) CHECK(float_kernel_seen);
}

TEST_CASE("bf16_split_x puts each 32 inputs' even ones first, then the odd ones, zero padded", "[cpu][kernels]") {
    std::vector<float> x(45), out(64, -1.0f);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i + 1);
    cpu::bf16_split_x(x.data(), int64_t(x.size()), out.data());
    for (int g = 0; g < 64; g += 32)
        for (int j = 0; j < 16; ++j) {
            const int e = g + 2 * j, o = e + 1;
            CHECK(out[size_t(g + j)] == (e < 45 ? float(e + 1) : 0.0f));
            CHECK(out[size_t(g + 16 + j)] == (o < 45 ? float(o + 1) : 0.0f));
        }
}

using XLayoutFn = void (*)(const float* x, int64_t in, int64_t padded, double* out);

// An x arrangement (x widened to double, reordered, zero padded to whole
// 64-input chunks): the portable function against the layout's definition
// (place(x, in, want) writes every input's slot), then every table's
// vectorised one (`table_fn`, skipped where null or where `uses_layout(K)`
// is false) byte for byte, -0 and NaN included. Returns whether any table
// had one.
template <class Place, class UsesLayout>
bool check_x_layout(uint32_t seed, std::initializer_list<int64_t> ins, Place place, XLayoutFn portable_fn,
                    XLayoutFn cpu::Kernels::*table_fn, UsesLayout uses_layout) {
    std::mt19937 rng(seed);
    bool seen = false;
    for (int64_t in : ins) {
        const int64_t padded = (in + 63) / 64 * 64;
        auto x = random_floats(size_t(in), rng);
        x[0] = -0.0f;
        if (in > 2) x[2] = std::numeric_limits<float>::quiet_NaN();
        std::vector<double> want(static_cast<size_t>(padded), 0.0);
        place(x, in, want);
        std::vector<double> portable(size_t(padded), -1.0);
        portable_fn(x.data(), in, padded, portable.data());
        REQUIRE(std::memcmp(portable.data(), want.data(), want.size() * sizeof(double)) == 0);
        for (cpu::Isa isa : isas()) {
            const cpu::Kernels& K = cpu::kernels_for(isa);
            if (!(K.*table_fn) || !uses_layout(K)) continue;
            seen = true;
            INFO("isa " << cpu::isa_name(isa) << " in " << in);
            std::vector<double> got(size_t(padded), -1.0);
            (K.*table_fn)(x.data(), in, padded, got.data());
            CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(double)) == 0);
        }
    }
    return seen;
}

TEST_CASE("pair_x widens and pairs x (per 16 inputs the 8 even, then the 8 odd), zero padded, on every table",
          "[cpu][kernels]") {
    const bool seen = check_x_layout(
        5, {1, 15, 16, 17, 32, 45, 64, 100, 1024, 4096},
        [](const std::vector<float>& x, int64_t in, std::vector<double>& want) {
            for (int64_t g = 0; g < int64_t(want.size()); g += 16)
                for (int64_t j = 0; j < 8; ++j) {
                    if (g + 2 * j < in) want[size_t(g + j)] = x[size_t(g + 2 * j)];
                    if (g + 2 * j + 1 < in) want[size_t(g + 8 + j)] = x[size_t(g + 2 * j + 1)];
                }
        },
        cpu::fp4_pair_x_f32, &cpu::Kernels::pair_x, [](const cpu::Kernels&) { return true; });
    if (cpu::isa_supported(cpu::Isa::Avx512)) CHECK(seen);
}

// An FP8 x order: slot 8 g + q of each 64-input chunk holds the chunk's input
// index(g, q); checked on the tables whose fp8_x_order is `order`.
template <class Index>
bool check_fp8_x_order(uint32_t seed, cpu::Fp8XOrder order, XLayoutFn portable_fn, Index index) {
    return check_x_layout(
        seed, {1, 15, 16, 17, 32, 45, 63, 64, 65, 100, 1024, 4096},
        [&](const std::vector<float>& x, int64_t in, std::vector<double>& want) {
            for (int64_t c = 0; c < int64_t(want.size()); c += 64)
                for (int64_t g = 0; g < 8; ++g)
                    for (int64_t q = 0; q < 8; ++q) {
                        const int64_t j = c + index(g, q);
                        if (j < in) want[size_t(c + 8 * g + q)] = x[size_t(j)];
                    }
        },
        portable_fn, &cpu::Kernels::fp8_order_x, [order](const cpu::Kernels& K) { return K.fp8_x_order == order; });
}

TEST_CASE("fp8_order_x widens x as each 64 inputs' 8 x 8 transpose on the Transposed8x8 tables", "[cpu][kernels]") {
    const bool seen = check_fp8_x_order(6, cpu::Fp8XOrder::Transposed8x8, cpu::fp8_transpose_x_f32,
                                        [](int64_t g, int64_t q) { return 8 * q + g; });
    // The avx512fp16 table's order.
    if (cpu::isa_supported(cpu::Isa::Avx512Fp16)) CHECK(seen);
}

TEST_CASE("fp8_order_x widens x in the byte-unpacking kernel's order on the Unpacked tables", "[cpu][kernels]") {
    const bool seen = check_fp8_x_order(7, cpu::Fp8XOrder::Unpacked, cpu::fp8_unpacked_x_f32, [](int64_t g, int64_t q) {
        return 16 * (q / 2) + 8 * (g / 4) + 4 * (q % 2) + g % 4;
    });
    // The avx512vnni table's order.
    if (cpu::isa_supported(cpu::Isa::Avx512Vnni)) CHECK(seen);
}

TEST_CASE("fp8_order_x widens x in the AVX2 byte-unpacking kernel's order on the Words4 tables", "[cpu][kernels]") {
    // Per 32 inputs, group G = 4 p + k's lane i holds input 8 p + k + 4 (i % 2) + 16 (i / 2).
    const bool seen = check_fp8_x_order(9, cpu::Fp8XOrder::Words4, cpu::fp8_words4_x_f32, [](int64_t g, int64_t q) {
        const int64_t slot = 8 * g + q, half = slot / 32, G = (slot % 32) / 4, i = slot % 4;
        return 32 * half + 8 * (G / 4) + G % 4 + 4 * (i % 2) + 16 * (i / 2);
    });
    // The avx2 table's order.
    if (cpu::isa_supported(cpu::Isa::Avx2)) CHECK(seen);
}

TEST_CASE("fp8_order_scale_x is fp8_order_x times each input's block factor, on the tables that have it",
          "[cpu][kernels]") {
    std::mt19937 rng(8);
    bool seen = false;
    for (int64_t in : {1, 63, 64, 65, 100, 128, 129, 200, 1000, 4096}) {
        const int64_t padded = (in + 63) / 64 * 64, blocks = (in + 127) / 128;
        auto x = random_floats(size_t(in), rng);
        x[0] = -0.0f;
        if (in > 2) x[2] = std::numeric_limits<float>::quiet_NaN();
        // Powers of two as the kernels get them, and one factor that rounds.
        std::vector<double> f(static_cast<size_t>(blocks));
        for (auto& v : f) v = std::ldexp(1.0, int(rng() % 40) + 484);
        f[0] = 3.0 * std::ldexp(1.0, 500);
        for (cpu::Isa isa : isas()) {
            const cpu::Kernels& K = cpu::kernels_for(isa);
            if (!K.fp8_order_scale_x) continue;
            INFO("isa " << cpu::isa_name(isa) << " in " << in);
            std::vector<double> want(size_t(padded), -1.0), got(size_t(padded), -1.0);
            K.fp8_order_x(x.data(), in, padded, want.data());
            for (int64_t k = 0; k < padded; ++k) want[size_t(k)] *= f[size_t(k / 128)];
            K.fp8_order_scale_x(x.data(), in, padded, f.data(), got.data());
            CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(double)) == 0);
            seen = true;
        }
    }
    // The avx512vnni and avx2 tables have it.
    if (cpu::isa_supported(cpu::Isa::Avx2)) CHECK(seen);
}

TEST_CASE("DSV4_CPU_ISA names and forcing never exceed the CPU", "[cpu][kernels]") {
    IsaGuard guard;
    CHECK(cpu::isa_supported(cpu::Isa::Scalar));
    CHECK(cpu::set_active_isa(cpu::Isa::Scalar) == cpu::Isa::Scalar);
    CHECK(cpu::kernels().isa == cpu::Isa::Scalar);
    CHECK(cpu::set_active_isa(cpu::Isa::Avx512Fp16) == cpu::detected_isa());
    CHECK(std::string(cpu::isa_name(cpu::Isa::Avx512Fp16)) == "avx512fp16");
    CHECK(std::string(cpu::isa_name(cpu::Isa::Avx512Vnni)) == "avx512vnni");
    CHECK(std::string(cpu::isa_name(cpu::Isa::Avx2)) == "avx2");
}
