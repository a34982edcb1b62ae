#include "safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "error.h"

namespace dsv4 {

namespace {

using json = nlohmann::json;

// Headers larger than this are refused before any allocation.
constexpr uint64_t kMaxHeaderBytes = uint64_t(256) << 20;

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
    fail(DSV4_STATUS_FORMAT, origin + ": " + what);
}

bool file_exists(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
}

uint64_t checked_numel(const std::vector<int64_t>& shape, const std::string& origin, const std::string& name) {
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) bad(origin, "tensor '" + name + "' has a negative dimension");
        if (d != 0 && n > (uint64_t(1) << 62) / uint64_t(d)) bad(origin, "tensor '" + name + "' shape overflows");
        n *= uint64_t(d);
    }
    return n;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const uint8_t* data, size_t available, uint64_t file_size,
                                           const std::string& origin) {
    if (file_size < 8 || available < 8) bad(origin, "file is shorter than the 8-byte header length (truncated?)");
    uint64_t len = 0;
    for (int i = 7; i >= 0; --i) len = (len << 8) | data[i];
    if (len > file_size - 8)
        bad(origin, "header length " + std::to_string(len) + " is larger than the file (" + std::to_string(file_size) +
                        " bytes): truncated or not a safetensors file");
    if (len > kMaxHeaderBytes) bad(origin, "header length " + std::to_string(len) + " is unreasonably large");
    if (len > available - 8) bad(origin, "header is not fully readable");
    json j;
    try {
        j = json::parse(data + 8, data + 8 + len);  // rejects invalid UTF-8 too
    } catch (const json::exception& e) {
        bad(origin, std::string("header is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) bad(origin, "header must be a JSON object");

    SafetensorsHeader h;
    h.data_offset = 8 + len;
    const uint64_t data_size = file_size - h.data_offset;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& name = it.key();
        if (name == "__metadata__") continue;
        const json& v = it.value();
        if (!v.is_object()) bad(origin, "entry '" + name + "' must be an object");
        auto dt = v.find("dtype");
        auto sh = v.find("shape");
        auto off = v.find("data_offsets");
        if (dt == v.end() || !dt->is_string()) bad(origin, "tensor '" + name + "' has no dtype string");
        if (sh == v.end() || !sh->is_array()) bad(origin, "tensor '" + name + "' has no shape array");
        if (off == v.end() || !off->is_array() || off->size() != 2)
            bad(origin, "tensor '" + name + "' needs data_offsets [begin, end]");
        auto dtype = dtype_from_name(dt->get<std::string>());
        if (!dtype) bad(origin, "tensor '" + name + "' has unknown dtype '" + dt->get<std::string>() + "'");
        TensorEntry e;
        e.name = name;
        e.dtype = *dtype;
        for (const json& d : *sh) {
            if (!d.is_number_integer() || d.get<int64_t>() < 0)
                bad(origin, "tensor '" + name + "' has a shape entry that is not a non-negative integer");
            e.shape.push_back(d.get<int64_t>());
        }
        for (int k = 0; k < 2; ++k)
            if (!(*off)[k].is_number_unsigned())
                bad(origin, "tensor '" + name + "' data_offsets must be non-negative integers");
        e.begin = (*off)[0].get<uint64_t>();
        e.end = (*off)[1].get<uint64_t>();
        if (e.begin > e.end) bad(origin, "tensor '" + name + "' has data_offsets with begin > end");
        if (e.end > data_size)
            bad(origin, "tensor '" + name + "' data_offsets [" + std::to_string(e.begin) + ", " +
                            std::to_string(e.end) + ") run past the end of the data (" + std::to_string(data_size) +
                            " bytes): truncated file?");
        uint64_t numel = checked_numel(e.shape, origin, name);
        uint64_t want = numel * dtype_size(e.dtype);
        if (want != e.end - e.begin)
            bad(origin, "tensor '" + name + "' holds " + std::to_string(e.end - e.begin) + " bytes but dtype " +
                            dtype_name(e.dtype) + " and its shape need " + std::to_string(want));
        h.tensors.push_back(std::move(e));
    }
    std::vector<const TensorEntry*> order;
    for (const auto& e : h.tensors) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](auto a, auto b) { return a->begin < b->begin; });
    for (size_t i = 1; i < order.size(); ++i)
        if (order[i]->begin < order[i - 1]->end && order[i]->begin != order[i]->end)
            bad(origin, "tensors '" + order[i - 1]->name + "' and '" + order[i]->name + "' overlap");
    return h;
}

int64_t Tensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

void Tensor::read_bytes(uint64_t at, size_t n, void* dst) const {
    if (at > nbytes || n > nbytes - at)
        fail(DSV4_STATUS_INTERNAL, "read of " + std::to_string(n) + " bytes at " + std::to_string(at) +
                                       " is past the end of tensor '" + name + "' (" + std::to_string(nbytes) +
                                       " bytes)");
    if (source)
        source->read(file_offset + at, n, dst);
    else if (n)
        std::memcpy(dst, data + at, n);
}

std::string Tensor::shape_string() const {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

void TensorStore::add_file(const std::string& path, bool use_mmap, const std::vector<std::string>* expected) {
    auto f = std::make_unique<MappedFile>(path, use_mmap);
    SafetensorsHeader h = parse_safetensors_header(f->data(), f->size(), f->size(), path);
    files_.push_back(std::move(f));
    const MappedFile& mf = *files_.back();
    for (auto& e : h.tensors) {
        if (tensors_.count(e.name))
            fail(DSV4_STATUS_FORMAT, path + ": tensor '" + e.name + "' appears in more than one file");
        Tensor t;
        t.name = e.name;
        t.dtype = e.dtype;
        t.shape = e.shape;
        t.data = mf.data() + h.data_offset + e.begin;
        t.nbytes = e.end - e.begin;
        t.file = &mf.path();
        t.source = &mf;
        t.file_offset = h.data_offset + e.begin;
        tensors_.emplace(e.name, std::move(t));
    }
    if (expected)
        for (const auto& n : *expected)
            if (!tensors_.count(n))
                fail(DSV4_STATUS_FORMAT,
                     path + ": tensor '" + n + "' is listed in model.safetensors.index.json but not in this shard");
}

const Tensor* TensorStore::find_aligned(const std::string& name) {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) return nullptr;
    Tensor& t = it->second;
    const size_t align = dtype_size(t.dtype);
    if (align > 1 && reinterpret_cast<uintptr_t>(t.data) % align != 0) {
        // new[] of uint64_t: aligned for every element type of a checkpoint.
        auto copy = std::make_unique<uint64_t[]>(size_t((t.nbytes + 7) / 8));
        t.read_bytes(0, size_t(t.nbytes), copy.get());
        t.data = reinterpret_cast<const uint8_t*>(copy.get());
        aligned_copies_.push_back(std::move(copy));
    }
    return &t;
}

std::unique_ptr<TensorStore> TensorStore::open_file(const std::string& path, bool use_mmap) {
    auto s = std::unique_ptr<TensorStore>(new TensorStore());
    s->add_file(path, use_mmap, nullptr);
    return s;
}

std::unique_ptr<TensorStore> TensorStore::open_dir(const std::string& dir, bool use_mmap) {
    auto s = std::unique_ptr<TensorStore>(new TensorStore());
    const std::string index = dir + "/model.safetensors.index.json";
    if (!file_exists(index)) {
        const std::string single = dir + "/model.safetensors";
        if (!file_exists(single))
            fail(DSV4_STATUS_IO, dir + ": neither model.safetensors.index.json nor model.safetensors exists");
        s->add_file(single, use_mmap, nullptr);
        return s;
    }
    std::ifstream in(index, std::ios::binary);
    if (!in) fail(DSV4_STATUS_IO, index + ": cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    json j;
    try {
        j = json::parse(ss.str());
    } catch (const json::exception& e) {
        fail(DSV4_STATUS_FORMAT, index + ": not valid JSON: " + e.what());
    }
    auto wm = j.is_object() ? j.find("weight_map") : j.end();
    if (!j.is_object() || wm == j.end() || !wm->is_object())
        fail(DSV4_STATUS_FORMAT, index + ": no 'weight_map' object");
    std::map<std::string, std::vector<std::string>> by_shard;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
        if (!it->is_string())
            fail(DSV4_STATUS_FORMAT, index + ": weight_map entry '" + it.key() + "' is not a file name");
        std::string shard = it->get<std::string>();
        if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
            fail(DSV4_STATUS_FORMAT, index + ": weight_map names an invalid shard file '" + shard + "'");
        by_shard[shard].push_back(it.key());
    }
    for (const auto& [shard, names] : by_shard) {
        const std::string p = dir + "/" + shard;
        if (!file_exists(p)) fail(DSV4_STATUS_IO, index + ": shard '" + shard + "' is named in the index but absent");
        s->add_file(p, use_mmap, &names);
    }
    return s;
}

const Tensor* TensorStore::find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

uint64_t TensorStore::total_bytes() const {
    uint64_t n = 0;
    for (const auto& f : files_) n += f->size();
    return n;
}

}  // namespace dsv4
