// Depthwise int8 driver: weight packing, ISA dispatch, the portable instantiation of the
// row kernel, and the split of output rows over the thread pool.
#include "kernels/int8/dwconv_u8s8.hpp"

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
    const int64_t taps = kh * kw, groups = (taps + 3) / 4, blocks = (c + 63) / 64;
    p.w4.assign(size_t(blocks * groups * 256), 0);
    p.wsum.assign(size_t(c), 0);
    for (int64_t ch = 0; ch < c; ++ch) {
        const int64_t pos = vnni_channel_pos(int(ch % 64));
        for (int64_t t = 0; t < taps; ++t) {
            const int8_t v = w[ch * taps + t];
            p.w4[size_t(((ch / 64) * groups + t / 4) * 256 + pos * 4 + t % 4)] = v;
            p.wsum[size_t(ch)] += v;
        }
    }
    return p;
}

namespace {
// The VNNI row kernel: AVX-512 level on a CPU with VNNI, at most kDwVnniMaxTaps taps.
[[maybe_unused]] bool use_vnni(const QConvShape& s) {
#if defined(__x86_64__) || defined(_M_X64)
    return active_isa() == Isa::Avx512 && cpu_features().avx512_vnni && s.kh * s.kw <= kDwVnniMaxTaps;
#else
    (void)s;
    return false;
#endif
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
    DwRowFn fn = dw_row_portable;
    std::vector<uint8_t> pad_row;
    std::vector<int32_t> bias_p;
    std::vector<float> mult_p;
#if defined(__x86_64__) || defined(_M_X64)
    if (use_vnni(s)) {
        fn = dw_row_avx512vnni;
        const int64_t cpad = (s.c + 63) / 64 * 64;
        pad_row.assign(size_t(cpad), uint8_t(x_zero));
        bias_p.assign(size_t(cpad), 0);
        mult_p.assign(size_t(cpad), 0.f);
        for (int64_t ch = 0; ch < s.c; ++ch) {
            const size_t at = size_t((ch / 64) * 64 + vnni_channel_pos(int(ch % 64)));
            bias_p[at] = w.bias[size_t(ch)] - x_zero * w.wsum[size_t(ch)];
            mult_p[at] = rq.mult[ch];
        }
        j.pad_row = pad_row.data(), j.bias_p = bias_p.data(), j.mult_p = mult_p.data();
    } else if (active_isa() == Isa::Avx512) {
        fn = dw_row_avx512;
    } else if (active_isa() == Isa::Avx2) {
        fn = dw_row_avx2;
    }
#endif
    const int64_t oh = s.out_h(), rows = s.n * oh;
    auto task = [&](int64_t t) {
        std::vector<int32_t> acc(static_cast<size_t>(s.c));
        fn(j, t / oh, t % oh, acc.data());
    };
    if (pool && rows > 1) pool->parallel_for(rows, task);
    else
        for (int64_t t = 0; t < rows; ++t) task(t);
}

}  // namespace edgecnn
