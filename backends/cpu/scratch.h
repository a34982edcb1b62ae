// Small helpers shared by the cpu backend's baseline (non-ISA) units. Not for
// the kernels_avx* units: templates instantiated there must stay out of the
// rest of the library (tests/packaging/check_isa_units.sh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsv4::cpu {

inline int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

// Tasks of `chunk` rows (a multiple of `align`, at least min_rows), about
// kTasksPerThread per thread so that no thread waits long for the last task
// of another (or of a core taken by another process). The pool hands each
// thread a contiguous share of them, so small tasks cost no prefetching.
constexpr int64_t kTasksPerThread = 32;
inline int64_t row_chunk(int64_t rows, int threads, int64_t align, int64_t min_rows) {
    int64_t c = ceil_div(rows, int64_t(threads) * kTasksPerThread);
    if (c < min_rows) c = min_rows;
    return ceil_div(c, align) * align;
}

// A buffer of at least n elements, reused across calls (grows, never shrinks).
template <class T>
T* scratch(std::vector<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
}

// scratch() whose start is 64-byte aligned. For buffers a kernel reads with
// 512-bit loads many times over (the queries of the attention): malloc aligns
// to 16 bytes, and then every such load spans two cache lines. The attention
// scores ran at 62-67 cycles per row, 4 heads and 64 dims with the queries 16
// bytes off a line, against 44-50 aligned (one Zen 4 core, in L1/L2).
template <class T>
T* scratch_aligned(std::vector<T>& v, size_t n) {
    constexpr size_t kPad = 64 / sizeof(T);
    T* p = scratch(v, n + kPad);
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<T*>((a + 63) & ~uintptr_t(63));
}

}  // namespace dsv4::cpu
