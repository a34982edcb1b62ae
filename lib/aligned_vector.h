// A std::vector whose storage starts on a 64-byte boundary (one cache line).
//
// For buffers that SIMD kernels read many times over with 512-bit loads, such
// as the attention's key and value rows: malloc aligns to 16 bytes, and a
// 64-byte load from a 16-byte boundary spans two cache lines. Sparse
// attention over 8320 rows (64 heads of 512) ran about 15% faster with its
// rows on line boundaries (docs/PERFORMANCE.md, "Eleventh session").
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace dsv4 {

inline constexpr std::size_t kCacheLine = 64;

template <class T>
struct CacheLineAllocator {
    using value_type = T;
    CacheLineAllocator() = default;
    template <class U>
    CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kCacheLine))); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t(kCacheLine)); }
    template <class U>
    bool operator==(const CacheLineAllocator<U>&) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const CacheLineAllocator<U>&) const noexcept {
        return false;
    }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace dsv4
