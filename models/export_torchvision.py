#!/usr/bin/python3
"""Export torchvision architectures (random weights, recalibrated BatchNorm) to ONNX test folders.

    /usr/bin/python3 models/export_torchvision.py [--only resnet18,mobilenet_v2]
        [--opsets 13,17] [--force] [--no-check] [--keep-bn] [--threads 2]

For each model and opset writes .cache/models/torchvision/<name>_op<opset>/:

    model.onnx
    test_data_set_0/input_0.pb, output_K.pb   batch 1 at the model's nominal size
    test_data_set_1/input_0.pb, output_K.pb   batch 2 at another size (tests the dynamic axes)
    meta.json                                 params, op types, shapes, export time, checks

Outputs are torch's own (eval mode) on a seeded input. There are no pretrained weights
(no model hub is reachable): weights come from torchvision's seeded initialisation, and the
BatchNorm running statistics are re-estimated in train mode (momentum=None, i.e. a plain
average over a few batches of photos and noise) so activations have a normal size.
Inputs are already normalised tensors (no resize/normalise inside the models).

Needs python3-torch, python3-torchvision, python3-onnx, python3-skimage (Debian). With
models/fetch_npm_models.sh done, each export is also run with ONNX Runtime 1.30 and compared
with torch (--no-check skips that). Existing folders are skipped unless --force.
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testdata_util as tu  # noqa: E402

OUT_ROOT = os.path.join(tu.CACHE_DIR, "torchvision")
SEED = 0
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)

# name -> (kind, nominal (H, W), second data set (batch, H, W))
MODELS = {
    "mobilenet_v2":                  ("cls", (224, 224), (2, 160, 192)),
    "mobilenet_v3_large":            ("cls", (224, 224), (2, 160, 192)),
    "mobilenet_v3_small":            ("cls", (224, 224), (2, 160, 192)),
    "resnet18":                      ("cls", (224, 224), (2, 160, 192)),
    "resnet50":                      ("cls", (224, 224), (2, 160, 192)),
    "squeezenet1_1":                 ("cls", (224, 224), (2, 160, 192)),
    "shufflenet_v2_x1_0":            ("cls", (224, 224), (2, 160, 192)),
    "efficientnet_b0":               ("cls", (224, 224), (2, 160, 192)),
    "lraspp_mobilenet_v3_large":     ("seg", (520, 520), (2, 256, 320)),
    "deeplabv3_mobilenet_v3_large":  ("seg", (520, 520), (2, 256, 320)),
    "ssdlite320_mobilenet_v3_large": ("det", (320, 320), (2, 256, 384)),
}


def build(name, torch, torchvision):
    """Return (module, output names). Seeded before construction."""
    torch.manual_seed(SEED)
    nn = torch.nn
    kind = MODELS[name][0]
    if kind == "cls":
        return getattr(torchvision.models, name)(weights=None), ["logits"]
    if kind == "seg":
        seg = getattr(torchvision.models.segmentation, name)(weights=None,
                                                              weights_backbone=None)

        class SegOut(nn.Module):
            """torchvision's segmentation models return a dict; export its 'out' tensor."""

            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x):
                return self.m(x)["out"]

        return SegOut(seg), ["out"]
    # det: backbone + SSDLite head only; anchors, box decoding and NMS belong in C++.
    det = torchvision.models.detection.ssdlite320_mobilenet_v3_large(
        weights=None, weights_backbone=None)

    class SSDHead(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.backbone = m.backbone
            self.head = m.head

        def forward(self, x):
            feats = list(self.backbone(x).values())
            out = self.head(feats)
            return out["cls_logits"], out["bbox_regression"]

    return SSDHead(det), ["cls_logits", "bbox_regression"]


def photo_batch(h, w):
    """Real photos from scikit-image, resized to h x w, ImageNet-normalised, NCHW."""
    from skimage import data, transform
    imgs = []
    for fn in ("astronaut", "chelsea", "coffee", "rocket"):
        img = getattr(data, fn)()[..., :3].astype(np.float32) / 255.0
        img = transform.resize(img, (h, w), order=1, anti_aliasing=True).astype(np.float32)
        imgs.append(((img - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1))
    return np.stack(imgs)


def recalibrate_bn(model, torch, h, w):
    """Re-estimate BatchNorm running statistics (cumulative average) in train mode."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    gen = torch.Generator().manual_seed(SEED + 1)
    batches = [torch.from_numpy(photo_batch(h, w)),
               torch.randn(4, 3, h, w, generator=gen),
               torch.randn(4, 3, h, w, generator=gen)]
    model.train()
    with torch.no_grad():
        for b in batches:
            model(b)
    model.eval()
    return len(bns)


def export_one(name, model, out_names, opset, args, torch, onnx, inputs, ref_outputs):
    folder = os.path.join(OUT_ROOT, f"{name}_op{opset}")
    meta_path = os.path.join(folder, "meta.json")
    if os.path.exists(meta_path) and not args.force:
        print(f"[skip] {folder} exists (use --force to redo)")
        return json.load(open(meta_path))
    os.makedirs(folder, exist_ok=True)
    onnx_path = os.path.join(folder, "model.onnx")
    dyn = {"input": {0: "batch", 2: "height", 3: "width"}}
    for o in out_names:
        # Every output's batch is dynamic; spatial output sizes follow the input's.
        dyn[o] = {0: "batch"}
        if MODELS[name][0] == "seg":
            dyn[o].update({2: "height", 3: "width"})
        if MODELS[name][0] == "det":
            dyn[o][1] = "anchors"
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, torch.from_numpy(inputs[0][0]), onnx_path, opset_version=opset,
            input_names=["input"], output_names=out_names, dynamic_axes=dyn,
            do_constant_folding=True,
            training=(torch.onnx.TrainingMode.PRESERVE if args.keep_bn
                      else torch.onnx.TrainingMode.EVAL))
    export_s = time.time() - t0
    m = onnx.load(onnx_path)
    # torch leaves some static output dims symbolic (e.g. the 21 classes after Resize:
    # "Resizeout_dim_1"); pin every dim that is not a dynamic axis to its known size.
    pinned = False
    for o in m.graph.output:
        k = out_names.index(o.name)
        for i, d in enumerate(o.type.tensor_type.shape.dim):
            if i not in dyn[o.name] and not d.HasField("dim_value"):
                d.dim_value = int(ref_outputs[0][k].shape[i])
                pinned = True
    if pinned:
        onnx.save(m, onnx_path)
    onnx.checker.check_model(m)
    ins, outs = tu.graph_io_names(m)
    assert ins == ["input"] and outs == out_names, (ins, outs)
    for k, (inp, refs) in enumerate(zip(inputs, ref_outputs)):
        tu.write_test_data_set(folder, k, inp, refs, ins, outs)
    ops = tu.op_types(m)
    meta = {
        "name": name, "opset": opset, "params": int(sum(p.numel() for p in model.parameters())),
        "export_s": round(export_s, 2), "onnx_bytes": os.path.getsize(onnx_path),
        "nodes": len(m.graph.node), "op_types": ops,
        "inputs": {"input": [list(i[0].shape) for i in inputs]},
        "outputs": {o: [list(r[k].shape) for r in ref_outputs] for k, o in enumerate(outs)},
        "max_abs_output": {o: [float(np.abs(r[k]).max()) for r in ref_outputs]
                           for k, o in enumerate(outs)},
        "bn_folded": not args.keep_bn, "torch": torch.__version__, "seed": SEED,
    }
    print(f"[export] {name} opset {opset}: {meta['params']:,} params, {meta['nodes']} nodes, "
          f"{meta['onnx_bytes'] / 1e6:.1f} MB, exported in {export_s:.1f} s")
    print(f"         ops: {' '.join(ops)}")
    if args.check:
        import check_with_ort
        meta["ort_check"] = bool(check_with_ort.check_folder(folder, args.atol, args.rtol))
        if not meta["ort_check"]:
            print(f"[warn] {name} opset {opset}: ONNX Runtime disagrees with torch")
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="comma-separated model names (default: all)")
    ap.add_argument("--opsets", default="13,17")
    ap.add_argument("--force", action="store_true", help="re-export existing folders")
    ap.add_argument("--no-check", dest="check", action="store_false",
                    help="skip the ONNX Runtime comparison")
    ap.add_argument("--keep-bn", action="store_true",
                    help="keep BatchNormalization nodes (default: torch folds them into Conv)")
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    names = [n for n in args.only.split(",") if n] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; known: {', '.join(MODELS)}")
    opsets = [int(o) for o in args.opsets.split(",") if o]
    if args.check and not os.path.isdir(os.path.join(tu.ORT_NODE_MODULES, "onnxruntime-node")):
        print("[note] onnxruntime-node missing (models/fetch_npm_models.sh): skipping ORT checks")
        args.check = False

    import torch
    import torchvision
    import onnx
    torch.set_num_threads(args.threads)
    print(f"[info] torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"onnx {onnx.__version__}, output {OUT_ROOT}")

    summary = []
    for name in names:
        pending = [op for op in opsets
                   if args.force or not os.path.exists(
                       os.path.join(OUT_ROOT, f"{name}_op{op}", "meta.json"))]
        if not pending:
            for op in opsets:
                print(f"[skip] {name}_op{op} exists (use --force to redo)")
                summary.append(json.load(open(os.path.join(OUT_ROOT, f"{name}_op{op}",
                                                           "meta.json"))))
            continue
        kind, (h, w), (b2, h2, w2) = MODELS[name]
        t0 = time.time()
        model, out_names = build(name, torch, torchvision)
        n_bn = recalibrate_bn(model, torch, h, w)
        gen = torch.Generator().manual_seed(SEED + 2)
        x0 = torch.randn(1, 3, h, w, generator=gen)
        x1 = torch.randn(b2, 3, h2, w2, generator=gen)
        with torch.no_grad():
            refs = []
            for x in (x0, x1):
                y = model(x)
                y = y if isinstance(y, tuple) else (y,)
                refs.append([t.numpy().copy() for t in y])
        for o, r in zip(out_names, refs[0]):
            mx = float(np.abs(r).max())
            if not mx > 1e-3:
                raise SystemExit(f"{name}: output {o} max |value| {mx:.3g} <= 1e-3 "
                                 "(BatchNorm recalibration failed?)")
        print(f"[model] {name}: {sum(p.numel() for p in model.parameters()):,} params, "
              f"{n_bn} BatchNorm layers recalibrated, outputs "
              + ", ".join(f"{o}{list(r.shape)} max|y| {np.abs(r).max():.3g}"
                          for o, r in zip(out_names, refs[0]))
              + f" ({time.time() - t0:.1f} s)")
        inputs = [[x0.numpy()], [x1.numpy()]]
        for op in opsets:
            summary.append(export_one(name, model, out_names, op, args, torch, onnx,
                                      inputs, refs))

    print("\n[summary]")
    bad = []
    for m in summary:
        ort = {True: "ort ok", False: "ORT MISMATCH", None: "ort not run"}[m.get("ort_check")]
        print(f"  {m['name']}_op{m['opset']}: {m['params']:,} params, {m['nodes']} nodes, "
              f"export {m['export_s']} s, {ort}")
        if m.get("ort_check") is False:
            bad.append(f"{m['name']}_op{m['opset']}")
    if bad:
        print(f"[fail] ORT mismatches: {bad}")
        sys.exit(1)


if __name__ == "__main__":
    main()
