// safetensors: the header parser (pure, fuzzed) and a store of tensors that
// spans one file or the shards of model.safetensors.index.json.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"
#include "mapped_file.h"

namespace dsv4 {

struct TensorEntry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t begin = 0;  // byte offsets within the data section
    uint64_t end = 0;
};

struct SafetensorsHeader {
    uint64_t data_offset = 0;  // where the data section starts in the file
    std::vector<TensorEntry> tensors;
};

// Parses and validates the header of a safetensors file of `file_size`
// bytes whose first bytes are `data[0..available)`. Checks: length prefix,
// JSON object, UTF-8, known dtypes, shapes, offsets inside the file, sizes
// matching dtype x shape, no overlaps. `origin` names the file in errors.
SafetensorsHeader parse_safetensors_header(const uint8_t* data, size_t available, uint64_t file_size,
                                           const std::string& origin);

// A tensor as it lies in the (mapped) checkpoint.
struct Tensor {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;
    uint64_t nbytes = 0;
    const std::string* file = nullptr;
    const MappedFile* source = nullptr;  // where data lives (null: data is all there is)
    uint64_t file_offset = 0;            // of data within source

    // Copies bytes [at, at + n) of the tensor into dst without touching the
    // mapping (MappedFile::read): for tensors read a few rows at a time, like
    // the embedding, whose other rows would otherwise enter the process's
    // RSS with the pages (or whole large page-cache folios) around each row.
    void read_bytes(uint64_t at, size_t n, void* dst) const;

    int64_t dim(int i) const { return shape.at(size_t(i)); }
    int64_t numel() const;
    template <class T>
    const T* as() const {
        return reinterpret_cast<const T*>(data);
    }
    std::string shape_string() const;
};

class TensorStore {
public:
    // Opens `dir`/model.safetensors.index.json if present, else
    // `dir`/model.safetensors. `progress(done, total)` is called per file.
    static std::unique_ptr<TensorStore> open_dir(const std::string& dir, bool use_mmap);
    // Opens a single safetensors file.
    static std::unique_ptr<TensorStore> open_file(const std::string& path, bool use_mmap);

    const Tensor* find(const std::string& name) const;
    // The tensor, its data aligned for its element type (2, 4 or 8 bytes) so
    // that code may read it through typed pointers (as<T>()). A file may lay
    // a tensor at any byte offset (the safetensors library's writer aligns
    // them, others need not: the conformance checkpoints hold BF16, F32 and
    // I64 tensors at odd offsets); such a tensor is copied, once, into memory
    // the store owns. Tensors read only through read_bytes do not need this.
    const Tensor* find_aligned(const std::string& name);
    const std::map<std::string, Tensor>& tensors() const { return tensors_; }
    const std::vector<std::unique_ptr<MappedFile>>& files() const { return files_; }
    uint64_t total_bytes() const;

private:
    void add_file(const std::string& path, bool use_mmap, const std::vector<std::string>* expected_names);
    std::vector<std::unique_ptr<MappedFile>> files_;
    std::map<std::string, Tensor> tensors_;
    std::vector<std::unique_ptr<uint64_t[]>> aligned_copies_;
};

}  // namespace dsv4
