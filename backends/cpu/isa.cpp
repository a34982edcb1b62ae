// Run-time ISA selection for the cpu backend's kernels.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "cpu/kernels.h"

namespace dsv4::cpu {

namespace {

Isa detect() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq")) {
        if (!__builtin_cpu_supports("avx512vbmi") || !__builtin_cpu_supports("avx512vnni")) return Isa::Avx512;
        return __builtin_cpu_supports("avx512fp16") ? Isa::Avx512Fp16 : Isa::Avx512Vnni;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return Isa::Avx2;
    return Isa::Scalar;
}

Isa from_env(Isa best) {
    const char* e = std::getenv("DSV4_CPU_ISA");
    if (!e || !*e) return best;
    Isa want = best;
    if (!std::strcmp(e, "scalar"))
        want = Isa::Scalar;
    else if (!std::strcmp(e, "avx2"))
        want = Isa::Avx2;
    else if (!std::strcmp(e, "avx512"))
        want = Isa::Avx512;
    else if (!std::strcmp(e, "avx512vnni"))
        want = Isa::Avx512Vnni;
    else if (!std::strcmp(e, "avx512fp16"))
        want = Isa::Avx512Fp16;
    return int(want) < int(best) ? want : best;
}

std::atomic<int>& active() {
    static std::atomic<int> a{int(from_env(detected_isa()))};
    return a;
}

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Avx512Fp16:
            return "avx512fp16";
        case Isa::Avx512Vnni:
            return "avx512vnni";
        case Isa::Avx512:
            return "avx512";
        case Isa::Avx2:
            return "avx2";
        default:
            return "scalar";
    }
}

Isa detected_isa() {
    static const Isa d = detect();
    return d;
}

bool cpu_is_amd() {
    static const bool amd = [] {
        __builtin_cpu_init();
        return __builtin_cpu_is("amd") != 0;
    }();
    return amd;
}

namespace {
// -1: follow the CPU (check where it is not AMD's); 0 / 1: forced (tests).
std::atomic<int> g_fp8_check_forced{-1};
}  // namespace

bool fp8_check_subnormals() {
    const int forced = g_fp8_check_forced.load(std::memory_order_relaxed);
    return forced >= 0 ? forced != 0 : !cpu_is_amd();
}

bool set_fp8_check_subnormals(bool check) {
    const bool before = fp8_check_subnormals();
    g_fp8_check_forced.store(check ? 1 : 0, std::memory_order_relaxed);
    return before;
}

bool isa_supported(Isa isa) {
    return int(isa) <= int(detected_isa());
}

Isa active_isa() {
    return Isa(active().load(std::memory_order_relaxed));
}

Isa set_active_isa(Isa isa) {
    if (!isa_supported(isa)) isa = detected_isa();
    active().store(int(isa));
    return isa;
}

const Kernels& kernels_for(Isa isa) {
    switch (isa) {
        case Isa::Avx512Fp16:
            return kernels_avx512fp16();
        case Isa::Avx512Vnni:
            return kernels_avx512vnni();
        case Isa::Avx512:
            return kernels_avx512();
        case Isa::Avx2:
            return kernels_avx2();
        default:
            return kernels_scalar();
    }
}

const Kernels& kernels() {
    return kernels_for(active_isa());
}

void fp4_pair_x_f32(const float* x, int64_t in, int64_t padded, double* out) {
    for (int64_t g = 0; g < padded; g += 16)
        for (int j = 0; j < 8; ++j) {
            const int64_t e = g + 2 * j, o = e + 1;
            out[g + j] = e < in ? double(x[e]) : 0.0;
            out[g + 8 + j] = o < in ? double(x[o]) : 0.0;
        }
}

void fp8_transpose_x_f32(const float* x, int64_t in, int64_t padded, double* out) {
    for (int64_t c = 0; c < padded; c += 64)
        for (int q = 0; q < 8; ++q)
            for (int g = 0; g < 8; ++g) {
                const int64_t j = c + 8 * q + g;
                out[c + 8 * g + q] = j < in ? double(x[j]) : 0.0;
            }
}

void fp8_unpacked_x_f32(const float* x, int64_t in, int64_t padded, double* out) {
    for (int64_t c = 0; c < padded; c += 64)
        for (int g = 0; g < 8; ++g)
            for (int q = 0; q < 8; ++q) {
                const int64_t j = c + 16 * (q / 2) + 8 * (g / 4) + 4 * (q % 2) + g % 4;
                out[c + 8 * g + q] = j < in ? double(x[j]) : 0.0;
            }
}

void fp8_words4_x_f32(const float* x, int64_t in, int64_t padded, double* out) {
    for (int64_t c = 0; c < padded; c += 32)
        for (int g = 0; g < 8; ++g)
            for (int i = 0; i < 4; ++i) {
                const int64_t j = c + 8 * (g / 4) + g % 4 + 4 * (i % 2) + 16 * (i / 2);
                out[c + 4 * g + i] = j < in ? double(x[j]) : 0.0;
            }
}

void bf16_split_x(const float* x, int64_t in, float* out) {
    const int64_t padded = (in + 31) / 32 * 32;
    for (int64_t g = 0; g < padded; g += 32)
        for (int j = 0; j < 16; ++j) {
            const int64_t e = g + 2 * j, o = e + 1;
            out[g + j] = e < in ? x[e] : 0.0f;
            out[g + 16 + j] = o < in ? x[o] : 0.0f;
        }
}

}  // namespace dsv4::cpu
