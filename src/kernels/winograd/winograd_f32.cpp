#include "kernels/winograd/winograd_f32.hpp"

#include "base/cpu_features.hpp"
#include "kernels/winograd/winograd_f32_internal.hpp"

#define WINOGRAD_NS portable
#include "kernels/winograd/winograd_f32_kernel.inl"

namespace edgecnn {

int64_t WinogradF43Weights::bytes() const {
    int64_t b = int64_t(bias.size()) * 4;
    for (const auto& m : u) b += int64_t(m.bytes());
    return b;
}

WinogradF43Weights pack_winograd_f43(const float* w, const float* bias, int64_t cin, int64_t cout) {
    // G for F(4,3) with interpolation points 0, 1, -1, 2, -2 (and infinity).
    static const float G[6][3] = {{1.f / 4, 0, 0},
                                  {-1.f / 6, -1.f / 6, -1.f / 6},
                                  {-1.f / 6, 1.f / 6, -1.f / 6},
                                  {1.f / 24, 1.f / 12, 1.f / 6},
                                  {1.f / 24, -1.f / 12, 1.f / 6},
                                  {0, 0, 1}};
    WinogradF43Weights out;
    out.cin = cin;
    out.cout = cout;
    std::vector<float> u(static_cast<size_t>(36 * cin * cout));  // [36][cin][cout]
    // Vectorized over co (the same arithmetic per element as one filter at a time): the
    // filters of one input channel transposed to [9][cout], transformed a row of co at a
    // time, each of the 36 positions written contiguously. One filter at a time with co
    // outermost (scattered writes, scalar math) was 40% of ResNet-50's session creation.
    std::vector<float> gt(static_cast<size_t>(9 * cout)), tmp(static_cast<size_t>(18 * cout));
    for (int64_t ci = 0; ci < cin; ++ci) {
        for (int64_t co = 0; co < cout; ++co)
            for (int k = 0; k < 9; ++k) gt[size_t(k * cout + co)] = w[(co * cin + ci) * 9 + k];
        for (int i = 0; i < 6; ++i)
            for (int j = 0; j < 3; ++j) {
                float* t = &tmp[size_t((i * 3 + j) * cout)];
                const float* g0 = &gt[size_t((0 * 3 + j) * cout)];
                const float* g1 = &gt[size_t((1 * 3 + j) * cout)];
                const float* g2 = &gt[size_t((2 * 3 + j) * cout)];
                for (int64_t co = 0; co < cout; ++co) t[co] = G[i][0] * g0[co] + G[i][1] * g1[co] + G[i][2] * g2[co];
            }
        for (int i = 0; i < 6; ++i)
            for (int j = 0; j < 6; ++j) {
                float* dst = &u[size_t(((i * 6 + j) * cin + ci) * cout)];
                const float* t0 = &tmp[size_t((i * 3 + 0) * cout)];
                const float* t1 = &tmp[size_t((i * 3 + 1) * cout)];
                const float* t2 = &tmp[size_t((i * 3 + 2) * cout)];
                for (int64_t co = 0; co < cout; ++co) dst[co] = t0[co] * G[j][0] + t1[co] * G[j][1] + t2[co] * G[j][2];
            }
    }
    for (int pos = 0; pos < 36; ++pos)
        out.u.push_back(pack_gemm_b_f32(u.data() + pos * cin * cout, cin, cout, cout, false));
    out.bias.assign(static_cast<size_t>(cout), 0.f);
    if (bias) std::copy(bias, bias + cout, out.bias.begin());
    return out;
}

int64_t winograd_f43_workspace_bytes(const WinogradParams& p, int threads) {
    auto l = winograd_detail::layout_for(p, threads);
    return l.slots * l.slot_floats * 4;
}

void winograd_f43_nhwc(const WinogradParams& p, const float* x, const WinogradF43Weights& wt, float* y,
                       const float* residual, const ActivationParams& act, float* workspace, ThreadPool* pool) {
#if defined(__x86_64__) || defined(_M_X64)
    switch (active_isa()) {
        case Isa::Avx512:
            winograd_detail::run_avx512(p, x, wt, y, residual, act, workspace, pool);
            return;
        case Isa::Avx2:
            winograd_detail::run_avx2(p, x, wt, y, residual, act, workspace, pool);
            return;
        default: break;
    }
#endif
    // Elsewhere the portable transforms: on ARM64 the compiler vectorizes their channel
    // loops with NEON (the baseline ISA), and the 36 GEMMs run the NEON micro-kernel the
    // weights were packed for.
    winograd_detail::portable::run(p, x, wt, y, residual, act, workspace, pool);
}

}  // namespace edgecnn
