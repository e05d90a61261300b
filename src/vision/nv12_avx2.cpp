// The fused NV12/NV21 → RGB → bilinear row kernel, 8 output pixels at a time (AVX2 + FMA).
// Luma and chroma bytes come from 32-bit gathers; to never read past a row's end, each
// gather address is clamped to the row's last 4 bytes and the wanted byte shifted down.
#include <immintrin.h>

#include "vision/nv12.hpp"

namespace edgecnn::vision::detail {

namespace {
inline __m256 rgb_clamp(__m256 v) { return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(255.f)); }

struct Rgb8 {
    __m256 r, g, b;
};

// Converts 8 pixels: luma bytes at `yrow[yi]` (shifted by ys bits), chroma pairs at
// `crow[ci]` (shifted by cs bits).
inline Rgb8 convert(const uint8_t* yrow, __m256i yi, __m256i ys, const uint8_t* crow, __m256i ci, __m256i cs, bool nv21) {
    const __m256i ff = _mm256_set1_epi32(0xff);
    __m256i yw = _mm256_i32gather_epi32(reinterpret_cast<const int*>(yrow), yi, 1);
    __m256i cw = _mm256_i32gather_epi32(reinterpret_cast<const int*>(crow), ci, 1);
    __m256 Y = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(yw, ys), ff));
    cw = _mm256_srlv_epi32(cw, cs);
    __m256 c0 = _mm256_cvtepi32_ps(_mm256_and_si256(cw, ff));
    __m256 c1 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(cw, 8), ff));
    __m256 U = nv21 ? c1 : c0, V = nv21 ? c0 : c1;
    const __m256 k128 = _mm256_set1_ps(128.f);
    U = _mm256_sub_ps(U, k128);
    V = _mm256_sub_ps(V, k128);
    __m256 yv = _mm256_mul_ps(_mm256_set1_ps(1.164383f), _mm256_sub_ps(Y, _mm256_set1_ps(16.f)));
    Rgb8 o;
    o.r = rgb_clamp(_mm256_fmadd_ps(_mm256_set1_ps(1.596027f), V, yv));
    o.g = rgb_clamp(_mm256_fnmadd_ps(_mm256_set1_ps(0.812968f), V, _mm256_fnmadd_ps(_mm256_set1_ps(0.391762f), U, yv)));
    o.b = rgb_clamp(_mm256_fmadd_ps(_mm256_set1_ps(2.017232f), U, yv));
    return o;
}

inline __m256 lerp(__m256 a, __m256 b, __m256 w) { return _mm256_fmadd_ps(w, _mm256_sub_ps(b, a), a); }
}  // namespace

int yuv_row_avx2(const YuvRow& j, int n) {
    if (j.src_width < 4 || j.uv_stride < 4) return 0;
    const __m256i ylast = _mm256_set1_epi32(j.src_width - 4), clast = _mm256_set1_epi32(j.uv_stride - 4);
    const __m256i one = _mm256_set1_epi32(1);
    const __m256 wy = _mm256_set1_ps(j.wy);
    int x = 0;
    for (; x + 8 <= n; x += 8) {
        __m256i xa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(j.xa + x));
        __m256i xb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(j.xb + x));
        // Clamped gather offsets and the byte shifts that undo the clamp.
        __m256i ya_i = _mm256_min_epi32(xa, ylast), yb_i = _mm256_min_epi32(xb, ylast);
        __m256i ya_s = _mm256_slli_epi32(_mm256_sub_epi32(xa, ya_i), 3), yb_s = _mm256_slli_epi32(_mm256_sub_epi32(xb, yb_i), 3);
        __m256i ca = _mm256_andnot_si256(one, xa), cb = _mm256_andnot_si256(one, xb);  // 2 * (x / 2)
        __m256i ca_i = _mm256_min_epi32(ca, clast), cb_i = _mm256_min_epi32(cb, clast);
        __m256i ca_s = _mm256_slli_epi32(_mm256_sub_epi32(ca, ca_i), 3), cb_s = _mm256_slli_epi32(_mm256_sub_epi32(cb, cb_i), 3);
        Rgb8 p00 = convert(j.ya, ya_i, ya_s, j.ca, ca_i, ca_s, j.nv21);
        Rgb8 p01 = convert(j.ya, yb_i, yb_s, j.ca, cb_i, cb_s, j.nv21);
        Rgb8 p10 = convert(j.yb, ya_i, ya_s, j.cb, ca_i, ca_s, j.nv21);
        Rgb8 p11 = convert(j.yb, yb_i, yb_s, j.cb, cb_i, cb_s, j.nv21);
        const __m256 w = _mm256_loadu_ps(j.wx + x);
        _mm256_storeu_ps(j.r + x, lerp(lerp(p00.r, p01.r, w), lerp(p10.r, p11.r, w), wy));
        _mm256_storeu_ps(j.g + x, lerp(lerp(p00.g, p01.g, w), lerp(p10.g, p11.g, w), wy));
        _mm256_storeu_ps(j.b + x, lerp(lerp(p00.b, p01.b, w), lerp(p10.b, p11.b, w), wy));
    }
    return x;
}

}  // namespace edgecnn::vision::detail
