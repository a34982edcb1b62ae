#include "mapped_file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

namespace dsv4 {

namespace {
std::string errno_text() {
    return std::strerror(errno);
}

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

constexpr size_t kHugePage = size_t(2) << 20;

// Maps the whole file read-only at an address aligned to 2 MiB (file offset
// and address then agree modulo the huge-page size, which the kernel needs to
// map a 2 MiB page-cache folio with one PMD entry), advised MADV_HUGEPAGE:
// pages the decode faults in are then read in 2 MiB folios, physically
// contiguous. Why it matters (docs/PERFORMANCE.md, "Ninth session"): on the
// Zen 4 VM a 2-thread read of checkpoint pages that had come into the page
// cache 4 KiB at a time, scattered, never beat 30 GB/s, in minutes when the
// same read of 2 MiB folios ran at 50-53; flash-shape decoded 9.4-9.9 tok/s
// from the first and 13.0-15.1 from the second, interleaved runs.
void* map_aligned(int fd, size_t size) {
    if (size < kHugePage) return ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    // Reserve a huge page more than the file, map the file over the reserve
    // from its first 2 MiB boundary, give back what is left on either side.
    void* reserve = ::mmap(nullptr, size + kHugePage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserve == MAP_FAILED) return ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const uintptr_t base = reinterpret_cast<uintptr_t>(reserve);
    const uintptr_t aligned = (base + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
    void* p = ::mmap(reinterpret_cast<void*>(aligned), size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) {
        const int saved = errno;
        ::munmap(reserve, size + kHugePage);
        errno = saved;
        return MAP_FAILED;
    }
    if (aligned > base) ::munmap(reserve, aligned - base);
    const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
    const uintptr_t end = (aligned + size + page - 1) & ~(page - 1), reserve_end = base + size + kHugePage;
    if (reserve_end > end) ::munmap(reinterpret_cast<void*>(end), reserve_end - end);
#ifdef MADV_HUGEPAGE
    ::madvise(p, size, MADV_HUGEPAGE);  // advice only: a kernel without THP refuses it, and nothing changes
#endif
    return p;
}

}  // namespace

MappedFile::MappedFile(const std::string& path, bool use_mmap) : path_(path) {
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) fail(DSV4_STATUS_IO, path + ": cannot open: " + errno_text());
    struct stat st;
    if (::fstat(f.fd, &st) != 0) fail(DSV4_STATUS_IO, path + ": cannot stat: " + errno_text());
    if (!S_ISREG(st.st_mode)) fail(DSV4_STATUS_IO, path + ": not a regular file");
    size_ = size_t(st.st_size);
    if (size_ == 0) return;
    if (use_mmap) {
        void* p = map_aligned(f.fd, size_);
        if (p == MAP_FAILED) fail(DSV4_STATUS_IO, path + ": mmap failed: " + errno_text());
        data_ = static_cast<const uint8_t*>(p);
        mapped_ = true;
        fd_ = f.fd;
        f.fd = -1;
        return;
    }
    buffer_.resize(size_);
    size_t done = 0;
    while (done < size_) {
        ssize_t n = ::read(f.fd, buffer_.data() + done, size_ - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            fail(DSV4_STATUS_IO,
                 path + ": read failed: " + (n == 0 ? std::string("unexpected end of file") : errno_text()));
        done += size_t(n);
    }
    data_ = buffer_.data();
}

MappedFile::~MappedFile() {
    if (mapped_ && data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
}

void MappedFile::read(uint64_t offset, size_t n, void* dst) const {
    if (offset > size_ || n > size_ - offset)
        fail(DSV4_STATUS_IO, path_ + ": read of " + std::to_string(n) + " bytes at " + std::to_string(offset) +
                                 " is past the end (" + std::to_string(size_) + " bytes)");
    if (!mapped_) {
        if (n) std::memcpy(dst, data_ + offset, n);
        return;
    }
    auto* out = static_cast<uint8_t*>(dst);
    size_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd_, out + done, n - done, off_t(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            fail(DSV4_STATUS_IO,
                 path_ + ": read failed: " + (got == 0 ? std::string("unexpected end of file") : errno_text()));
        done += size_t(got);
    }
}

}  // namespace dsv4
