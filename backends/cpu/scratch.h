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

// A buffer of at least n elements, reused across calls (grows, never shrinks).
template <class T>
T* scratch(std::vector<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
}

}  // namespace dsv4::cpu
