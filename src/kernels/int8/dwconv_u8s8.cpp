#include "kernels/int8/dwconv_u8s8.hpp"

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn {

PackedDwU8S8 pack_dwconv_u8s8(const int8_t* w, const int32_t* bias, int64_t c, int64_t kh, int64_t kw) {
    PackedDwU8S8 p;
    p.c = c, p.kh = kh, p.kw = kw;
    p.w.resize(size_t(kh * kw * c));
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t t = 0; t < kh * kw; ++t) p.w[size_t(t * c + ch)] = w[ch * kh * kw + t];
    p.bias.assign(size_t(c), 0);
    if (bias)
        for (int64_t ch = 0; ch < c; ++ch) p.bias[size_t(ch)] = bias[ch];
    return p;
}

void dwconv_u8s8_nhwc(const QConvShape& s, const uint8_t* x, int32_t x_zero, const PackedDwU8S8& w, const QRequant& rq,
                      uint8_t* y, ThreadPool* pool) {
    if (s.group != s.c || s.out_c != s.c || w.c != s.c) fail("dwconv_u8s8: not a depthwise shape");
    const int64_t oh = s.out_h(), ow = s.out_w(), C = s.c;
    auto row = [&](int64_t t) {
        const int64_t b = t / oh, oy = t % oh;
        std::vector<int32_t> acc(static_cast<size_t>(C));
        for (int64_t ox = 0; ox < ow; ++ox) {
            int32_t* a = acc.data();
            for (int64_t ch = 0; ch < C; ++ch) a[ch] = w.bias[size_t(ch)];
            for (int64_t ky = 0; ky < s.kh; ++ky) {
                const int64_t iy = oy * s.stride_h - s.pad_t + ky * s.dil_h;
                if (iy < 0 || iy >= s.h) continue;
                for (int64_t kx = 0; kx < s.kw; ++kx) {
                    const int64_t ix = ox * s.stride_w - s.pad_l + kx * s.dil_w;
                    if (ix < 0 || ix >= s.w) continue;
                    const uint8_t* px = x + ((b * s.h + iy) * s.w + ix) * C;
                    const int16_t* pw = w.w.data() + (ky * s.kw + kx) * C;
                    for (int64_t ch = 0; ch < C; ++ch) a[ch] += (int32_t(px[ch]) - x_zero) * int32_t(pw[ch]);
                }
            }
            uint8_t* py = y + ((b * oh + oy) * ow + ox) * C;
            for (int64_t ch = 0; ch < C; ++ch) py[ch] = requantize_u8(a[ch], rq.mult[ch], rq.zero, rq.lo, rq.hi);
        }
    };
    const int64_t rows = s.n * oh;
    if (pool && rows > 1) pool->parallel_for(rows, row);
    else
        for (int64_t t = 0; t < rows; ++t) row(t);
}

}  // namespace edgecnn
