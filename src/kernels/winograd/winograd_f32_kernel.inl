// The Winograd F(4,3) transforms and driver, written as plain loops over channels so that
// each per-ISA translation unit (compiled with its own -m flags) vectorizes them. Included
// by winograd_f32.cpp (portable), winograd_f32_avx2.cpp and winograd_f32_avx512.cpp.
#include <algorithm>
#include <atomic>
#include <cstring>

#include "base/thread_pool.hpp"
#include "kernels/winograd/winograd_f32_internal.hpp"

namespace edgecnn::winograd_detail {
namespace WINOGRAD_NS {

constexpr int64_t kCb = 16;  // channels per transform step: one AVX-512 vector

// V[p][t][c] for one tile: d is 6x6 input pixels starting at (iy0, ix0), zero outside.
inline void input_transform(const WinogradParams& p, const float* img, int64_t iy0, int64_t ix0, float* v,
                            int64_t v_pos_stride, const float* zeros) {
    for (int64_t cb = 0; cb < p.cin; cb += kCb) {
        const int64_t nc = std::min(kCb, p.cin - cb);
        float tmp[6][6][kCb];
        for (int j = 0; j < 6; ++j) {
            const float* d[6];
            int64_t ix = ix0 + j;
            for (int k = 0; k < 6; ++k) {
                int64_t iy = iy0 + k;
                d[k] = (iy >= 0 && iy < p.h && ix >= 0 && ix < p.w) ? img + (iy * p.w + ix) * p.cin + cb : zeros;
            }
            for (int64_t c = 0; c < nc; ++c) {
                float d0 = d[0][c], d1 = d[1][c], d2 = d[2][c], d3 = d[3][c], d4 = d[4][c], d5 = d[5][c];
                tmp[0][j][c] = 4.f * d0 - 5.f * d2 + d4;
                tmp[1][j][c] = -4.f * (d1 + d2) + d3 + d4;
                tmp[2][j][c] = 4.f * (d1 - d2) - d3 + d4;
                tmp[3][j][c] = -2.f * d1 - d2 + 2.f * d3 + d4;
                tmp[4][j][c] = 2.f * d1 - d2 - 2.f * d3 + d4;
                tmp[5][j][c] = 4.f * d1 - 5.f * d3 + d5;
            }
        }
        for (int i = 0; i < 6; ++i) {
            float* out = v + (i * 6) * v_pos_stride + cb;
            for (int64_t c = 0; c < nc; ++c) {
                float t0 = tmp[i][0][c], t1 = tmp[i][1][c], t2 = tmp[i][2][c], t3 = tmp[i][3][c], t4 = tmp[i][4][c],
                      t5 = tmp[i][5][c];
                out[0 * v_pos_stride + c] = 4.f * t0 - 5.f * t2 + t4;
                out[1 * v_pos_stride + c] = -4.f * (t1 + t2) + t3 + t4;
                out[2 * v_pos_stride + c] = 4.f * (t1 - t2) - t3 + t4;
                out[3 * v_pos_stride + c] = -2.f * t1 - t2 + 2.f * t3 + t4;
                out[4 * v_pos_stride + c] = 2.f * t1 - t2 - 2.f * t3 + t4;
                out[5 * v_pos_stride + c] = 4.f * t1 - 5.f * t3 + t5;
            }
        }
    }
}

// Y (4x4 pixels at (oy0, ox0), cropped to the output) from M[p][t][co].
inline void output_transform(const WinogradParams& p, const float* m, int64_t m_pos_stride, const float* bias,
                             float* out_img, const float* res_img, int64_t oy0, int64_t ox0,
                             const ActivationParams& act) {
    for (int64_t cb = 0; cb < p.cout; cb += kCb) {
        const int64_t nc = std::min(kCb, p.cout - cb);
        float tmp[4][6][kCb];
        for (int j = 0; j < 6; ++j) {
            const float* mm[6];
            for (int k = 0; k < 6; ++k) mm[k] = m + (k * 6 + j) * m_pos_stride + cb;
            for (int64_t c = 0; c < nc; ++c) {
                float m0 = mm[0][c], m1 = mm[1][c], m2 = mm[2][c], m3 = mm[3][c], m4 = mm[4][c], m5 = mm[5][c];
                tmp[0][j][c] = m0 + m1 + m2 + m3 + m4;
                tmp[1][j][c] = m1 - m2 + 2.f * (m3 - m4);
                tmp[2][j][c] = m1 + m2 + 4.f * (m3 + m4);
                tmp[3][j][c] = m1 - m2 + 8.f * (m3 - m4) + m5;
            }
        }
        for (int i = 0; i < 4; ++i) {
            int64_t oy = oy0 + i;
            if (oy >= p.out_h) break;
            float row[4][kCb];
            for (int64_t c = 0; c < nc; ++c) {
                float t0 = tmp[i][0][c], t1 = tmp[i][1][c], t2 = tmp[i][2][c], t3 = tmp[i][3][c], t4 = tmp[i][4][c],
                      t5 = tmp[i][5][c];
                float b = bias[cb + c];
                row[0][c] = t0 + t1 + t2 + t3 + t4 + b;
                row[1][c] = t1 - t2 + 2.f * (t3 - t4) + b;
                row[2][c] = t1 + t2 + 4.f * (t3 + t4) + b;
                row[3][c] = t1 - t2 + 8.f * (t3 - t4) + t5 + b;
            }
            for (int j = 0; j < 4; ++j) {
                int64_t ox = ox0 + j;
                if (ox >= p.out_w) break;
                float* dst = out_img + (oy * p.out_w + ox) * p.cout + cb;
                const float* r = res_img ? res_img + (oy * p.out_w + ox) * p.cout + cb : nullptr;
                if (r)
                    for (int64_t c = 0; c < nc; ++c) row[j][c] += r[c];
                switch (act.kind) {
                    case Activation::None:
                        for (int64_t c = 0; c < nc; ++c) dst[c] = row[j][c];
                        break;
                    case Activation::Relu:
                        for (int64_t c = 0; c < nc; ++c) dst[c] = std::max(row[j][c], 0.f);
                        break;
                    case Activation::Clip:
                        for (int64_t c = 0; c < nc; ++c) dst[c] = std::min(std::max(row[j][c], act.alpha), act.beta);
                        break;
                    default:
                        for (int64_t c = 0; c < nc; ++c) dst[c] = apply_activation(row[j][c], act);
                }
            }
        }
    }
}

inline void run(const WinogradParams& p, const float* x, const WinogradF43Weights& wt, float* y, const float* residual,
                const ActivationParams& act, float* workspace, ThreadPool* pool) {
    const Layout L = layout_for(p, pool ? pool->size() : 1);
    const int64_t th = (p.out_h + 3) / 4, tw = (p.out_w + 3) / 4;
    const int64_t tiles = p.n * th * tw;
    const int64_t blocks = (tiles + L.tile_block - 1) / L.tile_block;
    std::vector<std::atomic<bool>> busy(static_cast<size_t>(L.slots));
    auto body = [&](int64_t blk) {
        int64_t slot = 0;
        for (;; slot = (slot + 1) % L.slots) {
            bool expected = false;
            if (busy[size_t(slot)].compare_exchange_strong(expected, true)) break;
        }
        float* base = workspace + slot * L.slot_floats;
        float* v = base;
        float* m = v + 36 * L.tile_block * p.cin;
        float* zeros = m + 36 * L.tile_block * p.cout;  // reads outside the image
        std::fill(zeros, zeros + p.cin, 0.f);
        const int64_t t0 = blk * L.tile_block, nt = std::min(L.tile_block, tiles - t0);
        for (int64_t t = 0; t < nt; ++t) {
            int64_t tile = t0 + t;
            int64_t b = tile / (th * tw), r = tile % (th * tw);
            int64_t ty = r / tw, tx = r % tw;
            input_transform(p, x + b * p.h * p.w * p.cin, ty * 4 - p.pad_t, tx * 4 - p.pad_l, v + t * p.cin,
                            L.tile_block * p.cin, zeros);
        }
        GemmEpilogue none;
        for (int pos = 0; pos < 36; ++pos)
            gemm_f32(nt, v + pos * L.tile_block * p.cin, p.cin, wt.u[size_t(pos)], m + pos * L.tile_block * p.cout,
                     p.cout, none, nullptr);
        for (int64_t t = 0; t < nt; ++t) {
            int64_t tile = t0 + t;
            int64_t b = tile / (th * tw), r = tile % (th * tw);
            int64_t ty = r / tw, tx = r % tw;
            const size_t img = size_t(b * p.out_h * p.out_w * p.cout);
            output_transform(p, m + t * p.cout, L.tile_block * p.cout, wt.bias.data(), y + img,
                             residual ? residual + img : nullptr, ty * 4, tx * 4, act);
        }
        busy[size_t(slot)].store(false);
    };
    if (pool) pool->parallel_for(blocks, body);
    else
        for (int64_t blk = 0; blk < blocks; ++blk) body(blk);
}

}  // namespace WINOGRAD_NS
}  // namespace edgecnn::winograd_detail
