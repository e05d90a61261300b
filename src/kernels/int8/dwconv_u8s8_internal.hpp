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
    // The VNNI kernel's per-call table: bias - x_zero * wsum, zero padded to 16 channels.
    const int32_t* bias_p = nullptr;
};

// The VNNI kernel (dw_rows_avx512vnni) keeps one row pointer per kernel row.
inline constexpr int kDwVnniMaxKh = 64;

// Output row oy of image b; acc: scratch of s.c int32.
using DwRowFn = void (*)(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
void dw_row_portable(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
#if defined(__x86_64__) || defined(_M_X64)
void dw_row_avx2(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
void dw_row_avx512(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
// Output rows [r0, r1) of the flattened (image, row) range; scratch: dw_vnni_scratch
// int32, 64-byte aligned.
void dw_rows_avx512vnni(const DwJob& j, int64_t r0, int64_t r1, int32_t* scratch);
inline int64_t dw_vnni_scratch(const QConvShape& s) {
    const int64_t g = (s.kw + 3) / 4, cp = (s.c + 15) / 16 * 16;
    return ((s.kh - 1) * s.dil_h + 2) * s.out_w() * g * cp;
}
#endif

}  // namespace edgecnn::dwconv_u8s8_detail
