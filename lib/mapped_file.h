// A read-only file in memory: memory-mapped (zero-copy, paged in lazily, at a
// 2 MiB-aligned address advised for huge pages: see mapped_file.cpp) or,
// when mapping is disabled, read into a heap buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dsv4 {

class MappedFile {
public:
    MappedFile(const std::string& path, bool use_mmap);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }
    bool mapped() const { return mapped_; }
    // Copies bytes [offset, offset + n) into dst: from the file with pread
    // when mapped (so the pages never enter the mapping, nor the process's
    // RSS), from the buffer otherwise. Fails with DSV4_STATUS_IO.
    void read(uint64_t offset, size_t n, void* dst) const;

private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    bool mapped_ = false;
    int fd_ = -1;  // kept open while mapped, for read()
    std::vector<uint8_t> buffer_;
};

}  // namespace dsv4
