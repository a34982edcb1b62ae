// Session snapshots: a versioned, checksummed byte format of a session's
// whole state, portable across runs of the same model.
//
// Layout (little-endian; version 1):
//   header   magic "DSV4SNAP", u32 version, u32 byte-order mark 0x01020304,
//            u64 model fingerprint (Model::fingerprint), u64 n_ctx of the
//            writer, u64 position, u32 blocks (layers + MTP), u32 slack,
//            u32 window, u32 head_dim, u32 rope_head_dim, u32 index_head_dim,
//            u32 hc * hidden, u32 vocab, u64 payload bytes
//   payload  the token history (position x i32); the logits (vocab x f32,
//            when position > 0); the final streams of the last min(position,
//            slack + 1) tokens; per block: its window ring rows of the last
//            min(rows, ring capacity) positions (FP8 codes, scales, rotary
//            floats), its compressor rows (a and g) of the last positions the
//            carry ring holds, its compressed entries (position / ratio) and
//            indexer keys (position / 4), in position order
//   trailer  u32 CRC-32 (IEEE) of everything before it
// Rows are written in position order, independent of where they sit in the
// rings. Reading checks the magic, version, byte order, fingerprint, shape,
// sizes, token ids and checksum, and builds a fresh state that replaces the
// session's only when everything passed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace dsv4 {

constexpr uint32_t kSnapshotVersion = 1;

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32), slicing by 8.
uint32_t crc32_update(uint32_t crc, const void* data, size_t n);

class ByteSink {
public:
    virtual ~ByteSink() = default;
    void write(const void* data, size_t n);
    uint64_t bytes() const { return bytes_; }
    uint32_t crc() const { return crc_; }

protected:
    virtual void put(const void* data, size_t n) = 0;

private:
    uint64_t bytes_ = 0;
    uint32_t crc_ = 0;
};

// Counts only (for the size).
class CountingSink : public ByteSink {
protected:
    void put(const void*, size_t) override {}
};

// Into a caller's buffer of `cap` bytes (fails past the end).
class BufferSink : public ByteSink {
public:
    BufferSink(void* buf, size_t cap) : buf_(static_cast<uint8_t*>(buf)), cap_(cap) {}

protected:
    void put(const void* data, size_t n) override;

private:
    uint8_t* buf_;
    size_t cap_, used_ = 0;
};

// Into a file (buffered by stdio).
class FileSink : public ByteSink {
public:
    FileSink(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}

protected:
    void put(const void* data, size_t n) override;

private:
    std::FILE* f_;
    std::string path_;
};

class ByteSource {
public:
    virtual ~ByteSource() = default;
    // Fails with DSV4_STATUS_FORMAT ("truncated") when fewer bytes remain.
    void read(void* data, size_t n);
    uint64_t bytes() const { return bytes_; }
    uint32_t crc() const { return crc_; }
    // Bytes left after the current point, when known (else UINT64_MAX).
    virtual uint64_t remaining() const = 0;
    virtual const std::string& origin() const = 0;

protected:
    virtual bool get(void* data, size_t n) = 0;

private:
    uint64_t bytes_ = 0;
    uint32_t crc_ = 0;
};

class BufferSource : public ByteSource {
public:
    BufferSource(const void* buf, size_t len) : buf_(static_cast<const uint8_t*>(buf)), len_(len) {}
    uint64_t remaining() const override { return len_ - used_; }
    const std::string& origin() const override { return origin_; }

protected:
    bool get(void* data, size_t n) override;

private:
    const uint8_t* buf_;
    size_t len_, used_ = 0;
    std::string origin_ = "session snapshot";
};

class FileSource : public ByteSource {
public:
    FileSource(std::FILE* f, uint64_t size, std::string path)
        : f_(f), size_(size), origin_("session snapshot '" + path + "'") {}
    uint64_t remaining() const override { return size_ - used_; }
    const std::string& origin() const override { return origin_; }

protected:
    bool get(void* data, size_t n) override;

private:
    std::FILE* f_;
    uint64_t size_, used_ = 0;
    std::string origin_;
};

}  // namespace dsv4
