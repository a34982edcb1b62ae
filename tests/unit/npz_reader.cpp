#include "npz_reader.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <zlib.h>

namespace npz {

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

uint32_t u16(const std::string& b, size_t at) {
    if (at + 2 > b.size()) throw std::runtime_error("zip: truncated");
    return uint32_t(uint8_t(b[at])) | uint32_t(uint8_t(b[at + 1])) << 8;
}
uint32_t u32(const std::string& b, size_t at) { return u16(b, at) | u16(b, at + 2) << 16; }

// The value of 'key': in a numpy header dict (a Python literal).
std::string header_field(const std::string& h, const std::string& key, const std::string& origin) {
    size_t k = h.find("'" + key + "'");
    if (k == std::string::npos) throw std::runtime_error(origin + ": npy header lacks '" + key + "'");
    size_t colon = h.find(':', k);
    size_t v = h.find_first_not_of(' ', colon + 1);
    if (h[v] == '\'') return h.substr(v + 1, h.find('\'', v + 1) - v - 1);
    if (h[v] == '(') return h.substr(v + 1, h.find(')', v) - v - 1);
    size_t end = h.find_first_of(",}", v);
    return h.substr(v, end - v);
}

std::string inflate_raw(const std::string& in, size_t out_size, const std::string& origin) {
    std::string out(out_size, '\0');
    z_stream zs;
    std::memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw std::runtime_error(origin + ": inflateInit failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = uInt(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = uInt(out.size());
    const int rc = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || zs.total_out != out_size) throw std::runtime_error(origin + ": corrupt deflate stream");
    return out;
}

}  // namespace

int64_t Array::size() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::vector<float> Array::as_float() const {
    if (dtype != "<f4") throw std::runtime_error("array has dtype " + dtype + ", expected <f4");
    std::vector<float> v(static_cast<size_t>(size()));
    std::memcpy(v.data(), data.data(), v.size() * 4);
    return v;
}

std::vector<int32_t> Array::as_int32() const {
    std::vector<int32_t> v(static_cast<size_t>(size()));
    if (dtype == "<i4") {
        std::memcpy(v.data(), data.data(), v.size() * 4);
    } else if (dtype == "<i8") {
        for (size_t i = 0; i < v.size(); ++i) {
            int64_t x;
            std::memcpy(&x, data.data() + 8 * i, 8);
            v[i] = int32_t(x);
        }
    } else {
        throw std::runtime_error("array has dtype " + dtype + ", expected <i4 or <i8");
    }
    return v;
}

Array parse_npy(const std::string& b, const std::string& origin) {
    if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error(origin + ": not an npy file");
    const int major = uint8_t(b[6]);
    size_t hlen, hstart;
    if (major == 1) {
        hlen = u16(b, 8);
        hstart = 10;
    } else {
        hlen = u32(b, 8);
        hstart = 12;
    }
    if (hstart + hlen > b.size()) throw std::runtime_error(origin + ": truncated npy header");
    const std::string h = b.substr(hstart, hlen);
    Array a;
    a.dtype = header_field(h, "descr", origin);
    if (header_field(h, "fortran_order", origin) != "False")
        throw std::runtime_error(origin + ": Fortran-order arrays are not supported");
    std::stringstream shape(header_field(h, "shape", origin));
    std::string dim;
    while (std::getline(shape, dim, ','))
        if (dim.find_first_not_of(' ') != std::string::npos) a.shape.push_back(std::stoll(dim));
    size_t item = 0;
    if (a.dtype == "<f4" || a.dtype == "<i4") item = 4;
    else if (a.dtype == "<i8" || a.dtype == "<f8") item = 8;
    else throw std::runtime_error(origin + ": unsupported dtype " + a.dtype);
    const size_t bytes = size_t(a.size()) * item;
    if (hstart + hlen + bytes != b.size()) throw std::runtime_error(origin + ": data size does not match the shape");
    a.data.assign(b.begin() + long(hstart + hlen), b.end());
    return a;
}

Array load_npy(const std::string& path) { return parse_npy(slurp(path), path); }

std::map<std::string, Array> load_npz(const std::string& path) {
    const std::string z = slurp(path);
    // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
    size_t eocd = std::string::npos;
    if (z.size() >= 22)
        for (size_t i = z.size() - 22;; --i) {
            if (u32(z, i) == 0x06054b50) {
                eocd = i;
                break;
            }
            if (i == 0 || z.size() - i > 65536 + 22) break;
        }
    if (eocd == std::string::npos) throw std::runtime_error(path + ": not a zip archive");
    const uint32_t entries = u16(z, eocd + 10);
    size_t at = u32(z, eocd + 16);
    std::map<std::string, Array> out;
    for (uint32_t e = 0; e < entries; ++e) {
        if (u32(z, at) != 0x02014b50) throw std::runtime_error(path + ": corrupt central directory");
        const uint32_t method = u16(z, at + 10), csize = u32(z, at + 20), usize = u32(z, at + 24);
        const uint32_t nlen = u16(z, at + 28), xlen = u16(z, at + 30), clen = u16(z, at + 32);
        const uint32_t local = u32(z, at + 42);
        if (csize == 0xFFFFFFFFu || usize == 0xFFFFFFFFu || local == 0xFFFFFFFFu)
            throw std::runtime_error(path + ": zip64 archives are not supported");
        std::string name = z.substr(at + 46, nlen);
        at += 46 + nlen + xlen + clen;
        if (u32(z, local) != 0x04034b50) throw std::runtime_error(path + ": corrupt local header of " + name);
        const size_t data = local + 30 + u16(z, local + 26) + u16(z, local + 28);
        if (data + csize > z.size()) throw std::runtime_error(path + ": member " + name + " is truncated");
        std::string raw = z.substr(data, csize);
        if (method == 8) raw = inflate_raw(raw, usize, path + ":" + name);
        else if (method != 0) throw std::runtime_error(path + ": member " + name + " uses zip method " + std::to_string(method));
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
        out[name] = parse_npy(raw, path + ":" + name);
    }
    return out;
}

}  // namespace npz
