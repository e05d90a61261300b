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
    // The VNNI kernel's per-call tables: x's zero point in every byte of a padded
    // channel row (the taps outside the image read it), and bias - x_zero * wsum and the
    // multipliers in the kernel's channel order (vnni_channel), padded to 64.
    const uint8_t* pad_row = nullptr;
    const int32_t* bias_p = nullptr;
    const float* mult_p = nullptr;
};

// Channel cc (0..63) of a 64-channel block of the VNNI kernel: its position in the
// block's four 16-lane vectors (vector k, lane l), as the in-lane byte/word unpacks of
// four taps' bytes leave it: k = (cc % 16) / 4, l = (cc / 16) * 4 + cc % 4.
inline int vnni_channel_pos(int cc) { return ((cc % 16) / 4) * 16 + (cc / 16) * 4 + cc % 4; }
inline constexpr int kDwVnniMaxTaps = 64;

// Output row oy of image b; acc: scratch of s.c int32.
using DwRowFn = void (*)(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
void dw_row_portable(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
#if defined(__x86_64__) || defined(_M_X64)
void dw_row_avx2(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
void dw_row_avx512(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
void dw_row_avx512vnni(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
#endif

}  // namespace edgecnn::dwconv_u8s8_detail
