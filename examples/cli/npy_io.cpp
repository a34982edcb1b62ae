#include "npy_io.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cli {

namespace {

std::string field(const std::string& h, const std::string& key, const std::string& path) {
    size_t k = h.find("'" + key + "'");
    if (k == std::string::npos) throw std::runtime_error(path + ": npy header has no '" + key + "'");
    size_t v = h.find_first_not_of(' ', h.find(':', k) + 1);
    if (h[v] == '\'') return h.substr(v + 1, h.find('\'', v + 1) - v - 1);
    if (h[v] == '(') return h.substr(v + 1, h.find(')', v) - v - 1);
    return h.substr(v, h.find_first_of(",}", v) - v);
}

}  // namespace

void write_npy_f32(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
    // Python tuple syntax: "(a, b)", but "(a,)" for one dimension.
    std::string dims;
    int64_t n = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
        dims += (i ? ", " : "") + std::to_string(shape[i]);
        n *= shape[i];
    }
    if (shape.size() == 1) dims += ",";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    // Version 1.0: magic, 2-byte header length; header padded with spaces and
    // a newline so the data starts on a 64-byte boundary.
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot create " + path);
    const uint16_t hlen = uint16_t(header.size());
    out.write("\x93NUMPY\x01\x00", 8);
    const char len[2] = {char(hlen & 0xFF), char(hlen >> 8)};
    out.write(len, 2);
    out.write(header.data(), std::streamsize(header.size()));
    out.write(reinterpret_cast<const char*>(data), std::streamsize(n * int64_t(sizeof(float))));
    if (!out) throw std::runtime_error("write error on " + path);
}

std::vector<int32_t> read_npy_ids(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string b = ss.str();
    if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error(path + ": not an .npy file");
    const bool v1 = uint8_t(b[6]) == 1;
    const size_t hstart = v1 ? 10 : 12;
    size_t hlen = uint8_t(b[8]) | size_t(uint8_t(b[9])) << 8;
    if (!v1 && b.size() >= 12) hlen |= size_t(uint8_t(b[10])) << 16 | size_t(uint8_t(b[11])) << 24;
    if (hstart + hlen > b.size()) throw std::runtime_error(path + ": truncated .npy header");
    const std::string h = b.substr(hstart, hlen);
    const std::string descr = field(h, "descr", path);
    if (field(h, "fortran_order", path) != "False") throw std::runtime_error(path + ": Fortran order is not supported");
    size_t item;
    if (descr == "<i4") item = 4;
    else if (descr == "<i8") item = 8;
    else throw std::runtime_error(path + ": token ids must be int32 or int64, found dtype " + descr);
    std::stringstream dims(field(h, "shape", path));
    std::string d;
    size_t n = 1;
    while (std::getline(dims, d, ','))
        if (d.find_first_not_of(' ') != std::string::npos) n *= size_t(std::stoll(d));
    const size_t data = hstart + hlen;
    if (b.size() - data != n * item) throw std::runtime_error(path + ": data size does not match the shape");
    std::vector<int32_t> ids(n);
    for (size_t i = 0; i < n; ++i) {
        int64_t v = 0;
        if (item == 4) {
            int32_t x;
            std::memcpy(&x, b.data() + data + 4 * i, 4);
            v = x;
        } else {
            std::memcpy(&v, b.data() + data + 8 * i, 8);
        }
        if (v < INT32_MIN || v > INT32_MAX) throw std::runtime_error(path + ": token id " + std::to_string(v) + " does not fit int32");
        ids[i] = int32_t(v);
    }
    return ids;
}

}  // namespace cli
