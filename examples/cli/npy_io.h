// Minimal .npy files for the CLI: write float32 arrays, read integer ids.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cli {

// Writes data (C order) with the given shape as a little-endian <f4 .npy.
// Throws std::runtime_error on I/O failure.
void write_npy_f32(const std::string& path, const float* data, const std::vector<int64_t>& shape);

// Reads a 1-D (or scalar-free N-D, flattened) <i4 or <i8 .npy as int32 ids.
std::vector<int32_t> read_npy_ids(const std::string& path);

}  // namespace cli
