// Internal to the depthwise int8 family: the job the driver hands to the per-ISA row
// functions. Not for use outside kernels/int8/.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/int8/dwconv_u8s8.hpp"

namespace edgecnn::dwconv_u8s8_detail {

struct DwJob {
    const QConvShape* s = nullptr;
    const uint8_t* x = nullptr;
    int32_t x_zero = 0;
    const PackedDwU8S8* w = nullptr;
    QRequant rq;
    uint8_t* y = nullptr;
    // The converted-row kernels' per-call table: bias - x_zero * wsum, zero padded to 16
    // channels.
    const int32_t* bias_p = nullptr;
};

// The converted-row kernels keep one row pointer per kernel row, and their scratch (int32
// per thread) is bounded: 16 MiB (a 3x3 layer 1 million channel-columns wide).
inline constexpr int kDwMaxKh = 64;
inline constexpr int64_t kDwMaxScratch = int64_t(1) << 22;

// The row walk of the converted-row kernels (dw_rows_avx512vnni, dw_rows_avx2): output
// rows [r0, r1) of the flattened (image, row) range. Each input row is converted once,
// convert(input row, dst), into one of a ring of (kh - 1) * dil_h + 1 slots of row_len
// int32 at `slots` (the rows one output row reads never share a slot) and kept while the
// output rows that read it go by; rows above or below the image read `zrow`.
// row(r, rows) then computes output row r from its kh converted rows.
template <class Convert, class Row>
inline void dw_ring_rows(const DwJob& j, int64_t r0, int64_t r1, int32_t* slots, int64_t row_len, const int32_t* zrow,
                         Convert&& convert, Row&& row) {
    const QConvShape& s = *j.s;
    const int64_t oh = s.out_h(), ring = (s.kh - 1) * s.dil_h + 1;
    std::vector<int64_t> tag(size_t(ring), -1);
    const int32_t* rows[kDwMaxKh];
    for (int64_t r = r0; r < r1; ++r) {
        const int64_t b = r / oh, oy = r % oh;
        for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = oy * s.stride_h - s.pad_t + ky * s.dil_h;
            if (iy < 0 || iy >= s.h) {
                rows[ky] = zrow;
                continue;
            }
            const int64_t slot = iy % ring, t = b * s.h + iy;
            int32_t* d = slots + slot * row_len;
            if (tag[size_t(slot)] != t) {
                convert(j.x + t * s.w * s.c, d);
                tag[size_t(slot)] = t;
            }
            rows[ky] = d;
        }
        row(r, rows);
    }
}

// Scratch (int32) of a converted-row kernel whose rows hold `groups` dwords per output
// column and channel, channels padded to `cpad`: the ring and the zero-point row.
inline int64_t dw_ring_scratch(const QConvShape& s, int64_t groups, int64_t cpad) {
    return ((s.kh - 1) * s.dil_h + 2) * s.out_w() * groups * cpad;
}

using DwRowsFn = void (*)(const DwJob& j, int64_t r0, int64_t r1, int32_t* scratch);
// Output row oy of image b; acc: scratch of s.c int32.
using DwRowFn = void (*)(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
void dw_row_portable(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
#if defined(__x86_64__) || defined(_M_X64)
void dw_row_avx2(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
void dw_row_avx512(const DwJob& j, int64_t b, int64_t oy, int32_t* acc);
// Converted-row kernels (x86 only): output rows [r0, r1) of the flattened (image, row)
// range; scratch: dw_*_scratch int32, 64-byte aligned.
void dw_rows_avx512vnni(const DwJob& j, int64_t r0, int64_t r1, int32_t* scratch);
inline int64_t dw_vnni_scratch(const QConvShape& s) { return dw_ring_scratch(s, (s.kw + 3) / 4, (s.c + 15) / 16 * 16); }
void dw_rows_avx2(const DwJob& j, int64_t r0, int64_t r1, int32_t* scratch);
inline int64_t dw_avx2_scratch(const QConvShape& s) { return dw_ring_scratch(s, (s.kw + 1) / 2, (s.c + 7) / 8 * 8); }
#endif

}  // namespace edgecnn::dwconv_u8s8_detail
