// Reading numpy .npy arrays and .npz archives (stored or deflated zip
// members) for the conformance tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace npz {

struct Array {
    std::string dtype;            // numpy descr, e.g. "<f4", "<i4"
    std::vector<int64_t> shape;   // () for a scalar
    std::vector<uint8_t> data;    // little-endian, C order

    int64_t size() const;
    std::vector<float> as_float() const;    // "<f4" only
    std::vector<int32_t> as_int32() const;  // "<i4" (or "<i8" narrowed)
};

// Parses the bytes of one .npy file; throws std::runtime_error on anything
// it does not understand (big-endian, Fortran order, other dtypes).
Array parse_npy(const std::string& bytes, const std::string& origin);
// Every member "NAME.npy" of an .npz file, keyed by NAME.
std::map<std::string, Array> load_npz(const std::string& path);
Array load_npy(const std::string& path);

}  // namespace npz
