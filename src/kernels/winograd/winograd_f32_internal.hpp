// Shared between the Winograd translation units: workspace layout and per-ISA entry points.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/winograd/winograd_f32.hpp"

namespace edgecnn::winograd_detail {

struct Layout {
    int64_t tile_block;   // tiles transformed and multiplied together
    int64_t slots;        // scratch slots (one per thread that can run at once)
    int64_t slot_floats;  // V [36][tile_block][cin] + M [36][tile_block][cout] + a zero row
};

// A tile block's V and M buffers should stay near L2: 36 * tiles * (cin + cout) floats.
inline Layout layout_for(const WinogradParams& p, int threads) {
    Layout l;
    const int64_t budget = int64_t(768) << 10;
    int64_t tb = budget / (36 * (p.cin + p.cout) * 4);
    tb = std::max<int64_t>(14, std::min<int64_t>(tb / 14 * 14, 112));
    l.tile_block = tb;
    l.slots = std::max(1, threads);
    l.slot_floats = (36 * tb * (p.cin + p.cout) + p.cin + 15) / 16 * 16;
    return l;
}

void run_avx512(const WinogradParams& p, const float* x, const WinogradF43Weights& wt, float* y, const float* residual,
                const ActivationParams& act, float* workspace, ThreadPool* pool);
void run_avx2(const WinogradParams& p, const float* x, const WinogradF43Weights& wt, float* y, const float* residual,
              const ActivationParams& act, float* workspace, ThreadPool* pool);

}  // namespace edgecnn::winograd_detail
