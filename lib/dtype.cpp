#include "dtype.h"

namespace dsv4 {

size_t dtype_size(DType t) {
    switch (t) {
        case DType::F8_E4M3:
        case DType::F8_E8M0:
        case DType::I8: return 1;
        case DType::BF16:
        case DType::F16: return 2;
        case DType::F32:
        case DType::I32: return 4;
        case DType::I64: return 8;
    }
    return 0;
}

const char* dtype_name(DType t) {
    switch (t) {
        case DType::F8_E4M3: return "F8_E4M3";
        case DType::F8_E8M0: return "F8_E8M0";
        case DType::I8: return "I8";
        case DType::BF16: return "BF16";
        case DType::F16: return "F16";
        case DType::F32: return "F32";
        case DType::I32: return "I32";
        case DType::I64: return "I64";
    }
    return "?";
}

std::optional<DType> dtype_from_name(const std::string& n) {
    for (int i = 0; i < kDTypeCount; ++i)
        if (n == dtype_name(DType(i))) return DType(i);
    return std::nullopt;
}

}  // namespace dsv4
