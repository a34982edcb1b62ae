// Buffers the SIMD kernels read with 512-bit loads start on cache lines: the
// attention's key rows and other per-call buffers (ScratchVector, which also
// leaves what resize adds unset, since their producers fill them; AlignedVector
// is the same storage with std::vector's zeroing) and its queries in double
// (scratch_aligned). A misaligned start makes every load span two lines; the
// attention ran 1.2-1.4x slower that way (docs/PERFORMANCE.md).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "aligned_vector.h"
#include "cpu/scratch.h"

namespace {
bool on_cache_line(const void* p) {
    return reinterpret_cast<uintptr_t>(p) % 64 == 0;
}
}  // namespace

TEST_CASE("AlignedVector storage starts on a cache line", "[aligned]") {
    for (size_t n : {size_t(1), size_t(3), size_t(17), size_t(512), size_t(4096 * 512)}) {
        dsv4::AlignedVector<float> v(n, 1.0f);
        CHECK(on_cache_line(v.data()));
        v.resize(n * 3 + 1, 2.0f);  // regrown storage too
        CHECK(on_cache_line(v.data()));
        CHECK(v[0] == 1.0f);
        CHECK(v.back() == 2.0f);
    }
}

TEST_CASE("scratch_aligned returns a cache-line start with room for n elements", "[aligned]") {
    std::vector<double> buf;
    for (size_t n : {size_t(1), size_t(7), size_t(64 * 512), size_t(5)}) {
        double* p = dsv4::cpu::scratch_aligned(buf, n);
        REQUIRE(on_cache_line(p));
        // The n elements lie inside the vector's storage.
        CHECK(p >= buf.data());
        CHECK(p + n <= buf.data() + buf.size());
        for (size_t i = 0; i < n; ++i) p[i] = double(i);
        CHECK(p[n - 1] == double(n - 1));
    }
}

TEST_CASE("ScratchVector starts on a cache line and keeps what was written when it grows", "[aligned]") {
    dsv4::ScratchVector<float> v;
    for (size_t n : {size_t(1), size_t(3), size_t(17), size_t(512), size_t(4096 * 512)}) {
        const size_t old = v.size();
        v.resize(old + n);  // the added elements have no value until written
        REQUIRE(on_cache_line(v.data()));
        for (size_t i = old; i < v.size(); ++i) v[i] = float(i % 1000);
        for (size_t i = 0; i < v.size(); i += 97) REQUIRE(v[i] == float(i % 1000));
    }
    dsv4::ScratchVector<float> filled(1000, 2.5f);  // an explicit value is still set
    CHECK(on_cache_line(filled.data()));
    CHECK(filled.front() == 2.5f);
    CHECK(filled.back() == 2.5f);
    filled.resize(3000, -1.0f);
    CHECK(filled[999] == 2.5f);
    CHECK(filled[1000] == -1.0f);
    CHECK(filled.back() == -1.0f);
}
