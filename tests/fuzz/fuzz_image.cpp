// Fuzz target: bytes → image decoding (JPEG via libjpeg-turbo, PNG via stb) → to_tensor,
// and bytes → NV12/NV21 frame → yuv_to_tensor. Anything but a clean edgecnn::Error is a bug.
//
// The first 8 bytes are settings, the rest is the encoded image (or the raw frame):
//   [0] bit 0-1: decode channels 0/1/3/4; bit 2: NV12 path instead of decoding;
//       bit 3: NV21 order; bit 4: NHWC (else NCHW); bit 5: bgr; bit 6-7: resize mode
//   [1] tensor channels 1 or 3 (bit 0), dynamic H/W (bit 1), Preprocess width/height
//       given (bit 2), max_side (bit 3), size_multiple (bits 4-5), scale/mean/std
//       variant (bits 6-7)
//   [2] [3] tensor (or Preprocess) W and H, 1..64
//   [4] [5] NV12 frame W and H, 1..64 (the frame's bytes repeat when the input is short)
//   [6] letterbox pad value; [7] unused (room for later settings)
// Sizes are bounded so one input stays cheap; the engine's tensor-byte limit
// (fuzz_limits.hpp) also bounds decoded images, so a small file declaring a huge picture
// is a Limit error, not an allocation.
#include <cstdint>
#include <vector>

#include "base/error.hpp"
#include "fuzz_limits.hpp"
#include "vision/image.hpp"
#include "vision/nv12.hpp"
#include "vision/preprocess.hpp"

namespace {

using namespace edgecnn;
using namespace edgecnn::vision;

void touch(const TensorImage& t) {
    volatile float sink = 0;
    const float* p = t.tensor.data<float>();
    for (int64_t i = 0; i < t.tensor.numel(); ++i) sink = sink + p[i];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::set_fuzz_limits();
    constexpr size_t kSettings = 8;
    if (size < kSettings) return 0;
    const uint8_t a = data[0], b = data[1];
    const int tw = 1 + data[2] % 64, th = 1 + data[3] % 64;
    const uint8_t* body = data + kSettings;
    const size_t n = size - kSettings;

    Preprocess p;
    p.resize = static_cast<ResizeMode>((a >> 6) % 3);
    p.bgr = (a & 0x20) != 0;
    const bool nhwc = (a & 0x10) != 0;
    p.layout = nhwc ? Layout::NHWC : Layout::NCHW;
    p.pad = data[6];
    const int64_t c = (b & 1) ? 3 : 1;
    const bool dynamic = (b & 2) != 0;
    if (b & 4) {
        p.width = tw;
        p.height = th;
    }
    if (b & 8) p.max_side = 16 + (data[2] % 64);
    p.size_multiple = 1 << ((b >> 4) & 3);
    switch (b >> 6) {
        case 1: p.scale = 1.0f; break;
        case 2: p.mean = {0.485f, 0.456f, 0.406f}; p.std = {0.229f, 0.224f, 0.225f}; break;
        case 3: p.mean = {127.5f, 127.5f, 127.5f}; p.std = {0.f, 1.f, -1.f}; p.scale = 1.0f; break;  // std 0: must be refused or defined
        default: break;
    }
    const int64_t h = dynamic ? -1 : th, w = dynamic ? -1 : tw;
    const Shape expected = nhwc ? Shape{1, h, w, c} : Shape{1, c, h, w};

    try {
        if (a & 4) {
            YuvImage f;
            f.width = 1 + data[4] % 64;
            f.height = 1 + data[5] % 64;
            f.order = (a & 8) ? YuvOrder::NV21 : YuvOrder::NV12;
            f.data.resize(YuvImage::frame_bytes(f.width, f.height));
            for (size_t i = 0; i < f.data.size(); ++i) f.data[i] = n ? body[i % n] : uint8_t(i);
            touch(yuv_to_tensor(f, p, expected));
        } else {
            static const int kChannels[4] = {0, 1, 3, 4};
            Image img = decode_image(body, n, "fuzz.img", kChannels[a & 3]);
            if (img.pixels.size() != size_t(img.width) * size_t(img.height) * size_t(img.channels)) std::abort();
            touch(to_tensor(img, p, expected));
        }
    } catch (const Error& e) {
        fuzz::note_error(e.what());
    }
    return 0;
}
