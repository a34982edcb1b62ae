// Tensor element types of DeepSeek-V4 checkpoints (values equal dsv4_dtype).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "dsv4/dsv4.h"

namespace dsv4 {

enum class DType : int {
    F8_E4M3 = DSV4_DTYPE_F8_E4M3,
    F8_E8M0 = DSV4_DTYPE_F8_E8M0,
    I8 = DSV4_DTYPE_I8,
    BF16 = DSV4_DTYPE_BF16,
    F16 = DSV4_DTYPE_F16,
    F32 = DSV4_DTYPE_F32,
    I32 = DSV4_DTYPE_I32,
    I64 = DSV4_DTYPE_I64,
};

constexpr int kDTypeCount = DSV4_DTYPE_COUNT;

size_t dtype_size(DType t);
const char* dtype_name(DType t);
std::optional<DType> dtype_from_name(const std::string& name);

}  // namespace dsv4
