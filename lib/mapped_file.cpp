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
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, f.fd, 0);
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
