// Depthwise int8 driver: weight packing, ISA dispatch, the portable instantiation of the
// row kernel, and the split of output rows over the thread pool.
#include "kernels/int8/dwconv_u8s8.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "kernels/int8/dwconv_u8s8_kernel.inl"

namespace edgecnn {

namespace dwconv_u8s8_detail {
void dw_row_portable(const DwJob& j, int64_t b, int64_t oy, int32_t* acc) { dw_row(j, b, oy, acc); }
}  // namespace dwconv_u8s8_detail

using namespace dwconv_u8s8_detail;

PackedDwU8S8 pack_dwconv_u8s8(const int8_t* w, const int32_t* bias, int64_t c, int64_t kh, int64_t kw) {
    PackedDwU8S8 p;
    p.c = c, p.kh = kh, p.kw = kw;
    p.w.resize(size_t(kh * kw * c));
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t t = 0; t < kh * kw; ++t) p.w[size_t(t * c + ch)] = w[ch * kh * kw + t];
    p.bias.assign(size_t(c), 0);
    if (bias)
        for (int64_t ch = 0; ch < c; ++ch) p.bias[size_t(ch)] = bias[ch];
    const int64_t groups = (kw + 3) / 4, blocks = (c + 15) / 16;
    p.w4.assign(size_t(blocks * kh * groups * 64), 0);
    p.wsum.assign(size_t(c), 0);
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
                const int8_t v = w[(ch * kh + ky) * kw + kx];
                p.w4[size_t((((ch / 16) * kh + ky) * groups + kx / 4) * 64 + (ch % 16) * 4 + kx % 4)] = v;
                p.wsum[size_t(ch)] += v;
            }
    const int64_t pairs = (kw + 1) / 2, blocks8 = (c + 7) / 8;
    p.w2.assign(size_t(blocks8 * kh * pairs * 8), 0);
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
                const uint32_t half = uint32_t(uint16_t(int16_t(w[(ch * kh + ky) * kw + kx]))) << (16 * (kx % 2));
                int32_t& d = p.w2[size_t((((ch / 8) * kh + ky) * pairs + kx / 2) * 8 + ch % 8)];
                d = int32_t(uint32_t(d) | half);
            }
    return p;
}

namespace {
// The converted-row kernels: VNNI at the AVX-512 level on a CPU with VNNI, the vpmaddwd
// one at the AVX2 level; at most kDwMaxKh kernel rows and kDwMaxScratch int32 of scratch
// per thread (very wide rows or tall dilated kernels take the row kernels instead of
// allocating gigabytes). Null: the row kernels.
[[maybe_unused]] DwRowsFn rows_kernel(const QConvShape& s, int64_t* scratch) {
#if defined(__x86_64__) || defined(_M_X64)
    if (s.kh > kDwMaxKh) return nullptr;
    if (active_isa() == Isa::Avx512 && cpu_features().avx512_vnni) {
        *scratch = dw_vnni_scratch(s);
        return *scratch <= kDwMaxScratch ? dw_rows_avx512vnni : nullptr;
    }
    if (active_isa() == Isa::Avx2) {
        *scratch = dw_avx2_scratch(s);
        return *scratch <= kDwMaxScratch ? dw_rows_avx2 : nullptr;
    }
#else
    (void)s, (void)scratch;
#endif
    return nullptr;
}
}  // namespace

std::string dwconv_u8s8_kernel_name() {
    switch (active_isa()) {
#if defined(__x86_64__) || defined(_M_X64)
        case Isa::Avx512: return cpu_features().avx512_vnni ? "dwconv_u8s8_avx512vnni" : "dwconv_u8s8_avx512";
        case Isa::Avx2: return "dwconv_u8s8_avx2";
#endif
        default: return "dwconv_u8s8_portable";
    }
}

void dwconv_u8s8_nhwc(const QConvShape& s, const uint8_t* x, int32_t x_zero, const PackedDwU8S8& w, const QRequant& rq,
                      uint8_t* y, ThreadPool* pool) {
    if (s.group != s.c || s.out_c != s.c || w.c != s.c) fail("dwconv_u8s8: not a depthwise shape");
    DwJob j;
    j.s = &s, j.x = x, j.x_zero = x_zero, j.w = &w, j.rq = rq, j.y = y;
    const int64_t oh = s.out_h(), rows = s.n * oh;
#if defined(__x86_64__) || defined(_M_X64)
    int64_t scratch = 0;
    if (const DwRowsFn rows_fn = rows_kernel(s, &scratch)) {
        const int64_t cpad = (s.c + 15) / 16 * 16;
        std::vector<int32_t> bias_p(size_t(cpad), 0);
        for (int64_t ch = 0; ch < s.c; ++ch) bias_p[size_t(ch)] = w.bias[size_t(ch)] - x_zero * w.wsum[size_t(ch)];
        j.bias_p = bias_p.data();
        // Contiguous row ranges, one per thread: each keeps its converted input rows.
        const int64_t chunks = pool ? std::min<int64_t>(rows, pool->size()) : 1;
        auto task = [&](int64_t t) {
            std::vector<int32_t> buf(static_cast<size_t>(scratch + 16));
            int32_t* p = buf.data();
            p += (16 - (reinterpret_cast<uintptr_t>(p) / 4) % 16) % 16;  // 64-byte aligned
            rows_fn(j, rows * t / chunks, rows * (t + 1) / chunks, p);
        };
        if (chunks > 1) pool->parallel_for(chunks, task);
        else task(0);
        return;
    }
#endif
    DwRowFn fn = dw_row_portable;
#if defined(__x86_64__) || defined(_M_X64)
    if (active_isa() == Isa::Avx512) fn = dw_row_avx512;
    else if (active_isa() == Isa::Avx2) fn = dw_row_avx2;  // beyond the converted-row kernel's limits
#endif
    auto task = [&](int64_t t) {
        std::vector<int32_t> acc(static_cast<size_t>(s.c));
        fn(j, t / oh, t % oh, acc.data());
    };
    if (pool && rows > 1) pool->parallel_for(rows, task);
    else
        for (int64_t t = 0; t < rows; ++t) task(t);
}

}  // namespace edgecnn
