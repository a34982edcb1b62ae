// Checkpoints are mapped at a 2 MiB-aligned address advised MADV_HUGEPAGE, so
// that the pages the decode faults in come in 2 MiB folios the kernel can map
// with one entry each (lib/mapped_file.cpp; docs/PERFORMANCE.md, "Ninth
// session"), and the reservation used to align the mapping is given back.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "mapped_file.h"
#include "test_support.h"

using namespace dsv4;

namespace {

std::string pattern(size_t n) {
    std::string s(n, '\0');
    uint32_t x = 12345;
    for (auto& c : s) {
        x = x * 1664525u + 1013904223u;
        c = char(x >> 24);
    }
    return s;
}

// The VmFlags line of this process's mapping that starts at `addr`.
std::string vm_flags_of(const void* addr) {
    char start[32];
    std::snprintf(start, sizeof start, "%lx-", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(addr)));
    std::ifstream f("/proc/self/smaps");
    std::string line;
    bool in = false;
    while (std::getline(f, line)) {
        if (line.rfind(start, 0) == 0) in = true;
        if (in && line.rfind("VmFlags:", 0) == 0) return line;
    }
    return "";
}

bool page_is_mapped(uintptr_t addr) {
    return ::msync(reinterpret_cast<void*>(addr), 1, MS_ASYNC) == 0 || errno != ENOMEM;
}

}  // namespace

TEST_CASE("a mapped file lies at a 2 MiB-aligned address advised for huge pages", "[model][memory]") {
    testing_support::TempDir dir("mapped_file");
    const size_t size = (size_t(5) << 20) + 123;  // not a whole number of pages
    const std::string bytes = pattern(size);
    testing_support::write_file(dir / "w.safetensors", bytes);

    MappedFile f(dir / "w.safetensors", true);
    // The aligning reservation is released past the file's last page (probed
    // first, before anything else here could map memory into the hole).
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    const uintptr_t end = (reinterpret_cast<uintptr_t>(f.data()) + size + page - 1) & ~(page - 1);
    const bool last_page_mapped = page_is_mapped(end - page), page_after_mapped = page_is_mapped(end);
    REQUIRE(f.mapped());
    REQUIRE(f.size() == size);
    CHECK(last_page_mapped);
    CHECK_FALSE(page_after_mapped);
    CHECK(reinterpret_cast<uintptr_t>(f.data()) % (uintptr_t(2) << 20) == 0);
    CHECK(std::memcmp(f.data(), bytes.data(), size) == 0);
#ifdef MADV_HUGEPAGE
    const std::string flags = vm_flags_of(f.data());
    INFO(flags);
    CHECK(flags.find(" hg") != std::string::npos);
#endif

    // Reads through pread see the same bytes.
    std::string got(100, '\0');
    f.read(size - 100, 100, got.data());
    CHECK(got == bytes.substr(size - 100));
}

TEST_CASE("a file under 2 MiB is mapped as it is", "[model][memory]") {
    testing_support::TempDir dir("mapped_file_small");
    const std::string bytes = pattern(3);
    testing_support::write_file(dir / "s.bin", bytes);
    MappedFile f(dir / "s.bin", true);
    REQUIRE(f.mapped());
    REQUIRE(f.size() == 3);
    CHECK(std::memcmp(f.data(), bytes.data(), 3) == 0);
}
