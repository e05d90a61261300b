#!/usr/bin/python3
"""Writes the small hand-made seeds of tests/fuzz/corpus (run with Debian's python3:
/usr/bin/python3 tests/fuzz/make_seeds.py). The ONNX seeds are node-test models copied from
/usr/share/libonnx-testdata plus the models made here; scripts/fuzz.sh adds every node-test
model at run time."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def out(kind, name):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


# .npy: every dtype the reader knows, ranks 0..4, format versions 1 and 2.
rng = np.random.default_rng(0)
for dt in ["<f4", "<f8", "<f2", "<i8", "<i4", "<i2", "|i1", "|u1", "<u2", "<u4", "<u8", "|b1"]:
    a = (rng.random((2, 3)) * 10).astype(np.dtype(dt))
    np.save(out("npy", f"{dt[1:]}_2x3.npy"), a)
np.save(out("npy", "f4_scalar.npy"), np.float32(1.5))
np.save(out("npy", "f4_1x1x2x2.npy"), np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2))
np.save(out("npy", "f4_empty.npy"), np.zeros((0, 3), dtype=np.float32))
with open(out("npy", "f4_v2.npy"), "wb") as f:
    np.lib.format.write_array(f, np.ones((3,), np.float32), version=(2, 0))
with open(out("npy", "f4_fortran.npy"), "wb") as f:
    np.lib.format.write_array(f, np.asfortranarray(np.ones((2, 2), np.float32)))

# .pb: typed fields (not raw_data) for each field kind, and an external-data tensor.
def typed(name, dt, dims, **field):
    t = helper.make_tensor(name, dt, dims, vals=list(field.values())[0], raw=False)
    with open(out("tensor_pb", name + ".pb"), "wb") as f:
        f.write(t.SerializeToString())

typed("float_data", TensorProto.FLOAT, [2, 2], v=[1.0, 2.0, 3.0, 4.0])
typed("double_data", TensorProto.DOUBLE, [3], v=[1.0, -2.0, 0.5])
typed("int64_data", TensorProto.INT64, [2], v=[7, -1])
typed("int32_data_u8", TensorProto.UINT8, [3], v=[1, 2, 255])
typed("int32_data_f16", TensorProto.FLOAT16, [2], v=[np.float16(1.0), np.float16(-2.0)])
typed("uint64_data", TensorProto.UINT64, [2], v=[1, 2])
ext = helper.make_tensor("external", TensorProto.FLOAT, [2], vals=[0.0, 0.0])
ext.ClearField("float_data")
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "8")):
    e = ext.external_data.add()
    e.key, e.value = k, v
with open(out("tensor_pb", "external.pb"), "wb") as f:
    f.write(ext.SerializeToString())

# ONNX: a tiny conv net with initializers, named dims and a Constant node, so the fuzzer
# starts from the paths real exported models take (initializers, value_info, fused ops).
X = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 6, 6])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
w = numpy_helper.from_array(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), "w")
b = numpy_helper.from_array(rng.standard_normal((3,)).astype(np.float32), "b")
sc = numpy_helper.from_array(np.ones((3,), np.float32), "sc")
nodes = [
    helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
    helper.make_node("BatchNormalization", ["c", "sc", "b", "b", "sc"], ["bn"], name="bn"),
    helper.make_node("Relu", ["bn"], ["r"], name="relu"),
    helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
    helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(np.array([1.0], np.float32))),
    helper.make_node("Add", ["p", "k"], ["a"], name="add"),
    helper.make_node("GlobalAveragePool", ["a"], ["g"], name="gap"),
    helper.make_node("Flatten", ["g"], ["y"], name="flat"),
]
g = helper.make_graph(nodes, "tiny_cnn", [X], [Y], [w, b, sc])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
with open(out("onnx", "tiny_cnn.onnx"), "wb") as f:
    f.write(m.SerializeToString())
