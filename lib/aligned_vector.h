// std::vectors whose storage starts on a 64-byte boundary (one cache line):
// AlignedVector, and ScratchVector, which also leaves added elements unset
// (the attention's per-call buffers use it).
//
// For buffers that SIMD kernels read many times over with 512-bit loads, such
// as the attention's key and value rows: malloc aligns to 16 bytes, and a
// 64-byte load from a 16-byte boundary spans two cache lines. Sparse
// attention over 8320 rows (64 heads of 512) ran about 15% faster with its
// rows on line boundaries (docs/PERFORMANCE.md, "Eleventh session").
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
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

// CacheLineAllocator whose vectors leave the elements they add without an
// initial value (default-initialization, which for float is none): for
// per-call buffers that a producer fills completely before anything reads
// them (a matmul's output, dequantized key rows). A std::vector zeroes what
// resize or its size constructor adds, which for the attention's buffers is
// one more pass over memory per layer and token: at a 1M-token context the
// compressed entries a ratio-128 layer dequantizes every token are 8192 rows
// of 512 floats, 16 MiB.
template <class T>
struct UninitCacheLineAllocator : CacheLineAllocator<T> {
    UninitCacheLineAllocator() = default;
    template <class U>
    UninitCacheLineAllocator(const UninitCacheLineAllocator<U>&) noexcept {}
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible<U>::value) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... A>
    void construct(U* p, A&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<A>(args)...);
    }
};

// On a cache line, elements added by resize(n) or the size constructor
// uninitialized; resize(n, value) and the other constructors set them as
// usual.
template <class T>
using ScratchVector = std::vector<T, UninitCacheLineAllocator<T>>;

}  // namespace dsv4
