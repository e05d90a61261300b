// Internal to the depthwise int8 family: the job the driver hands to the per-ISA row
// functions. Not for use outside kernels/int8/.
#pragma once
#include <cstdint>

#include "kernels/int8/dwconv_u8s8.hpp"

namespace edgecnn::dwconv_u8s8_detail {

struct DwJob {
    const QConvShape* s = nullptr;
    const uint8_t* x = nullptr;
    int32_t x_zero = 0;
    const PackedDwU8S8* w = nullptr;
    QRequant rq;
    uint8_t* y = nullptr;
};

// Output row oy of image b; acc: scratch of s.c int32.
using DwRowFn = void (*)(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
void dw_row_portable(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
#if defined(__x86_64__) || defined(_M_X64)
void dw_row_avx2(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
void dw_row_avx512(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
#endif

}  // namespace edgecnn::dwconv_u8s8_detail
