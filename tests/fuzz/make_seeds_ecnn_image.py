#!/usr/bin/python3
"""Writes the seeds of tests/fuzz/corpus/image and adds the settings byte to those of
tests/fuzz/corpus/ecnn (run with Debian's python3 from the repository root:
/usr/bin/python3 tests/fuzz/make_seeds_ecnn_image.py).

image: 8 settings bytes (fuzz_image.cpp) + a tiny JPEG/PNG (or raw NV12 bytes).
ecnn: the .ecnn files are made first with the CLI (edgecnn convert / quantize, see
docs/RELIABILITY.md); this script prefixes each with its mode byte (fuzz_ecnn.cpp): 1 (fix
checksums) for most, 0 (as is) and 3 (fix + no data verification) for a few."""
import io
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
img_dir = os.path.join(HERE, "corpus", "image")
os.makedirs(img_dir, exist_ok=True)
rng = np.random.default_rng(1)


def save(name, settings, payload):
    with open(os.path.join(img_dir, name), "wb") as f:
        f.write(bytes(settings) + payload)


def encode(arr, fmt, **kw):
    b = io.BytesIO()
    Image.fromarray(arr).save(b, fmt, **kw)
    return b.getvalue()


rgb = (rng.random((7, 9, 3)) * 255).astype(np.uint8)
grey = (rng.random((5, 6)) * 255).astype(np.uint8)
rgba = (rng.random((4, 3, 4)) * 255).astype(np.uint8)
la = (rng.random((3, 5, 2)) * 255).astype(np.uint8)
# settings: [flags, tensor flags, W, H, nv12 W, nv12 H, pad, 0]
save("rgb.jpg", [0x00, 0x01, 8, 8, 0, 0, 0, 0], encode(rgb, "JPEG", quality=80))
save("grey.jpg", [0x11, 0x05, 5, 3, 0, 0, 0, 0], encode(grey, "JPEG"))
save("rgb_progressive.jpg", [0x42, 0x01, 6, 4, 0, 0, 114, 0], encode(rgb, "JPEG", progressive=True))
save("rgb_420.jpg", [0x83, 0x8B, 16, 16, 0, 0, 0, 0], encode(rgb, "JPEG", subsampling=2))
save("rgb.png", [0x40, 0x03, 4, 4, 0, 0, 0, 0], encode(rgb, "PNG"))
save("grey.png", [0x20, 0x41, 3, 9, 0, 0, 0, 0], encode(grey, "PNG"))
save("rgba.png", [0x93, 0xC1, 2, 2, 0, 0, 0, 0], encode(rgba, "PNG"))
save("grey_alpha.png", [0x00, 0x21, 7, 7, 0, 0, 0, 0], encode(la, "PNG"))
save("palette.png", [0x02, 0x00, 5, 5, 0, 0, 0, 0], encode(rgb, "PNG", optimize=True) if False else
     (lambda b: (Image.fromarray(rgb).convert("P").save(b, "PNG"), b.getvalue())[1])(io.BytesIO()))
# NV12/NV21 frames (bit 2), odd and even sizes.
save("nv12_8x6.yuv", [0x04, 0x01, 4, 4, 8, 6, 0, 0], bytes(rng.integers(16, 240, 8 * 6 * 3 // 2, dtype=np.uint8)))
save("nv21_5x3.yuv", [0x5C, 0x0F, 3, 2, 5, 3, 0, 0], bytes(rng.integers(16, 240, 5 * 3 + 6 * 2, dtype=np.uint8)))
save("nv12_32x32.yuv", [0x94, 0x07, 16, 16, 32, 32, 0, 0], bytes(rng.integers(0, 255, 32 * 32 * 3 // 2, dtype=np.uint8)))

ecnn_dir = os.path.join(HERE, "corpus", "ecnn")
for i, name in enumerate(sorted(os.listdir(ecnn_dir))):
    path = os.path.join(ecnn_dir, name)
    data = open(path, "rb").read()
    if data[:4] != b"ECNN":
        continue  # already prefixed
    mode = 0 if name.startswith("tiny_cnn_noopt") else 3 if name.startswith("maxpool") else 1
    with open(path, "wb") as f:
        f.write(bytes([mode]) + data)
