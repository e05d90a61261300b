// edgecnn_make_frames: a camera-like JPEG sequence cut from one real photo by a sliding
// crop (for `edgecnn stream --frames DIR`).
//
//   edgecnn_make_frames PHOTO OUT_DIR [COUNT=300] [WxH=640x480] [QUALITY=90]
//
// The photo is first enlarged (bilinear) when it is not at least 1.5x the frame in both
// directions, so the window has room to move; the window then pans left→right→left along
// a smooth path with a slow vertical sway, like a camera sweeping a scene. Frames are
// frame_0000.jpg, frame_0001.jpg, … (name order = time order).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "base/error.hpp"
#include "vision/image.hpp"
#include "vision/preprocess.hpp"

using namespace edgecnn;
using namespace edgecnn::vision;

int main(int argc, char** argv) {
    if (argc < 3 || argc > 6) {
        std::fprintf(stderr, "usage: %s PHOTO OUT_DIR [COUNT=300] [WxH=640x480] [QUALITY=90]\n", argv[0]);
        return 2;
    }
    try {
        const std::string photo = argv[1], out = argv[2];
        const int count = argc > 3 ? std::stoi(argv[3]) : 300;
        int w = 640, h = 480;
        if (argc > 4) parse_size("WxH", argv[4], w, h);
        const int quality = argc > 5 ? std::stoi(argv[5]) : 90;
        if (count < 1 || count > 100000) fail("COUNT must be 1..100000");
        Image img = convert_channels(load_image(photo), 3);
        const double grow = std::max({1.0, 1.5 * w / double(img.width), 1.5 * h / double(img.height)});
        if (grow > 1.0) img = resize_bilinear(img, int(std::ceil(img.width * grow)), int(std::ceil(img.height * grow)));
        std::filesystem::create_directories(out);
        const int room_x = img.width - w, room_y = img.height - h;
        const double pi = 3.14159265358979323846;
        for (int i = 0; i < count; ++i) {
            const double t = count > 1 ? double(i) / double(count - 1) : 0.0;
            const int x = int(std::lround(room_x * 0.5 * (1.0 - std::cos(2 * pi * t))));  // 0 → right → 0
            const int y = int(std::lround(room_y * 0.5 * (1.0 - std::cos(6 * pi * t))));  // three slow sways
            char name[64];
            std::snprintf(name, sizeof name, "frame_%04d.jpg", i);
            write_jpeg((std::filesystem::path(out) / name).string(), crop(img, x, y, w, h), quality);
        }
        std::printf("%d frames of %dx%d from %s (%dx%d after enlarging) in %s\n", count, w, h, photo.c_str(), img.width,
                    img.height, out.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
