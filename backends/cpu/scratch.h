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

}  // namespace dsv4::cpu
