#include "base/dtype.hpp"

#include <cstring>

namespace edgecnn {

size_t dtype_size(DType t) {
    switch (t) {
        case DType::F32: return 4;
        case DType::U8: return 1;
        case DType::I8: return 1;
        case DType::U16: return 2;
        case DType::I16: return 2;
        case DType::I32: return 4;
        case DType::I64: return 8;
        case DType::Bool: return 1;
        case DType::F16: return 2;
        case DType::F64: return 8;
        case DType::U32: return 4;
        case DType::U64: return 8;
        case DType::BF16: return 2;
        default: return 0;
    }
}

std::string dtype_name(DType t) {
    switch (t) {
        case DType::Undefined: return "undefined";
        case DType::F32: return "float32";
        case DType::U8: return "uint8";
        case DType::I8: return "int8";
        case DType::U16: return "uint16";
        case DType::I16: return "int16";
        case DType::I32: return "int32";
        case DType::I64: return "int64";
        case DType::String: return "string";
        case DType::Bool: return "bool";
        case DType::F16: return "float16";
        case DType::F64: return "float64";
        case DType::U32: return "uint32";
        case DType::U64: return "uint64";
        case DType::BF16: return "bfloat16";
    }
    return "dtype(" + std::to_string(static_cast<int>(t)) + ")";
}

bool dtype_known(int c) { return c >= 1 && c <= 16 && c != 8 && c != 14 && c != 15; }

float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t(h) & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: renormalise
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400) == 0);
            bits = sign | (uint32_t(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint16_t float_to_half(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) return uint16_t(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
    if (absx >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // overflow to inf
    if (absx < 0x38800000u) {                                     // subnormal or zero in half
        if (absx < 0x33000000u) return uint16_t(sign);
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        int shift = int(126 - e);  // 113 - e + 13
        uint32_t r = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) ++r;
        return uint16_t(sign | r);
    }
    uint32_t r = absx + 0xc8000fffu + ((absx >> 13) & 1);  // rebias and round to nearest even
    return uint16_t(sign | (r >> 13));
}

float bf16_to_float(uint16_t h) {
    uint32_t bits = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint16_t float_to_bf16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);
    uint32_t rounding = 0x7fff + ((x >> 16) & 1);
    return uint16_t((x + rounding) >> 16);
}

}  // namespace edgecnn
