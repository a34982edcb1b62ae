// Compact KV rows in float through the cpu backend (Backend::load_kv_rows,
// Kernels::fp8_blocks_to_float): the same bits as KvRows::load for every
// code and scale byte, on every ISA, with one and two threads.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "cpu/cpu_backend.h"
#include "cpu/kernels.h"
#include "forward/quant_sim.h"
#include "reference/reference_backend.h"
#include "session_state.h"

using namespace dsv4;

namespace {

const cpu::Isa kIsas[] = {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512, cpu::Isa::Avx512Vnni,
                          cpu::Isa::Avx512Fp16};

bool same_bits(const float* a, const float* b, int64_t n) {
    return std::memcmp(a, b, size_t(n) * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("fp8 blocks to float: every code under every kind of scale byte, as the table gives", "[cpu][kernels]") {
    // Codes 0..255 in four 64-code blocks, NaN codes and subnormals among them.
    std::vector<uint8_t> codes(256);
    for (int c = 0; c < 256; ++c) codes[size_t(c)] = uint8_t(c);
    int tables = 0;
    for (cpu::Isa isa : kIsas) {
        if (!cpu::isa_supported(isa) || !cpu::kernels_for(isa).fp8_blocks_to_float) continue;
        ++tables;
        const cpu::Kernels& K = cpu::kernels_for(isa);
        for (int s : {0, 1, 2, 100, 127, 128, 200, 253, 254, 255}) {
            CAPTURE(cpu::isa_name(isa), s);
            const uint8_t scales[4] = {uint8_t(s), uint8_t(255 - s), uint8_t(s), uint8_t(s / 2)};
            std::vector<float> got(256, 1.0f), want(256);
            K.fp8_blocks_to_float(codes.data(), scales, 256, got.data());
            fp8_dequantize(codes.data(), scales, 256, 64, want.data());
            for (int c = 0; c < 256; ++c) {
                CAPTURE(c);
                REQUIRE(same_bits(&got[size_t(c)], &want[size_t(c)], 1));
            }
        }
    }
    // The AVX2 and AVX-512 tables have it: a CPU with AVX2 must have tested one.
    if (cpu::isa_supported(cpu::Isa::Avx2))
        CHECK(tables > 0);
    else if (tables == 0)
        WARN("this CPU has no AVX2 table: fp8_blocks_to_float is not built for it");
}

TEST_CASE("cpu backend: compact KV rows load as KvRows::load gives them", "[cpu][kernels]") {
    struct IsaGuard {
        cpu::Isa saved = cpu::active_isa();
        ~IsaGuard() { cpu::set_active_isa(saved); }
    } guard;
    const int dim = 512, rope = 64;
    const int64_t capacity = 300;
    KvRows rows(dim, rope, capacity);
    std::mt19937 rng(17);
    std::normal_distribution<float> nd;
    std::vector<float> x(static_cast<size_t>(dim));
    for (int64_t i = 0; i < capacity; ++i) {
        for (auto& v : x) v = nd(rng) * float(1 + i % 7);
        rows.quantize_store(i, x.data());
    }
    rows.codes(5)[3] = 0x7F;  // NaN codes: the table's NaN
    rows.codes(5)[4] = 0xFF;
    rows.codes(6)[0] = 0x80;  // -0
    rows.scales(7)[1] = 0;    // a zero scale
    std::vector<int64_t> index(static_cast<size_t>(capacity));
    for (auto& i : index) i = int64_t(rng() % uint32_t(capacity));
    index[0] = 5;
    index[1] = 6;
    index[2] = 7;
    std::vector<float> want(size_t(capacity * dim));
    for (int64_t k = 0; k < capacity; ++k) rows.load(index[size_t(k)], want.data() + k * dim);
    ReferenceBackend ref;
    std::vector<float> by_ref(want.size());
    ref.load_kv_rows(rows, index.data(), capacity, by_ref.data());
    REQUIRE(same_bits(by_ref.data(), want.data(), capacity * dim));
    for (int threads : {1, 2})
        for (cpu::Isa isa : kIsas) {
            if (!cpu::isa_supported(isa)) continue;
            cpu::set_active_isa(isa);
            CpuBackend cpu(threads);
            for (int64_t count : {int64_t(1), int64_t(64), int64_t(65), capacity}) {
                CAPTURE(cpu::isa_name(isa), threads, count);
                std::vector<float> got(size_t(count * dim), 7.0f);
                cpu.load_kv_rows(rows, index.data(), count, got.data());
                REQUIRE(same_bits(got.data(), want.data(), count * dim));
            }
        }
}
