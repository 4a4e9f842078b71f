#!/usr/bin/env python3
"""Writes tests/data/layout_onnx.txt: random cases of the layout kernels (pooling,
softmax, concat, transpose, pad) with the outputs of ONNX Runtime, so the CPU twins and
shaders are checked against an independent ONNX implementation (tests/layout_onnx.rs).

Needs: pip install onnx onnxruntime numpy. Deterministic for a given ORT version:
    python3 tools/layout_onnx_golden.py > tests/data/layout_onnx.txt
"""
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261121)


def run(op, inputs, initializers=(), opset=19, **attrs):
    names = [f"x{i}" for i in range(len(inputs))]
    init = [numpy_helper.from_array(v, n) for n, v in initializers]
    node = helper.make_node(op, names + [n for n, _ in initializers], ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(x.shape))
         for n, x in zip(names, inputs)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, dict(zip(names, inputs)))[0]


def values(a):
    return " ".join(f"{v:.9g}" for v in a.astype(np.float32).ravel())


def dims(shape):
    return ",".join(str(d) for d in shape) if len(shape) else "-"


def emit(head, inputs, y):
    print(head)
    for x in inputs:
        print(f"in {dims(x.shape)} : {values(x)}")
    print(f"out {dims(y.shape)} : {values(y)}")


def randn(shape):
    return rng.uniform(-3, 3, size=shape).astype(np.float32)


def has_empty_window(length, k, s, d, begin, end, ceil):
    span = length + begin + end - (k - 1) * d - 1
    out = -(-span // s) + 1 if ceil else span // s + 1
    if ceil and (out - 1) * s >= length + begin:
        out -= 1
    return any(
        not any(0 <= o * s - begin + t * d < length for t in range(k)) for o in range(out)
    ) or span < 0


def pools(op, count):
    made = 0
    while made < count:
        n, c = rng.integers(1, 3), rng.integers(1, 4)
        h, w = rng.integers(1, 10, size=2)
        k = rng.integers(1, 5, size=2)
        s = rng.integers(1, 4, size=2)
        d = rng.integers(1, 3, size=2)
        # ONNX Runtime requires each pad below the kernel.
        pads = [int(rng.integers(0, k[i % 2])) for i in range(4)]
        ceil = int(rng.integers(0, 2))
        cip = int(rng.integers(0, 2))
        if any(has_empty_window(l, k[i], s[i], d[i], pads[i], pads[i + 2], ceil)
               for i, l in enumerate((h, w))):
            continue
        x = randn((n, c, h, w))
        attrs = dict(kernel_shape=k.tolist(), strides=s.tolist(), pads=pads,
                     dilations=d.tolist(), ceil_mode=ceil)
        if op == "AveragePool":
            attrs["count_include_pad"] = cip
        y = run(op, [x], **attrs)
        kind = "max_pool2d" if op == "MaxPool" else "avg_pool2d"
        emit(f"case {kind} kernel={dims(k)} stride={dims(s)} padding={pads[0]},{pads[1]},"
             f"{pads[2]},{pads[3]} dilation={dims(d)} ceil={ceil} cip={cip if op != 'MaxPool' else 0}",
             [x], y)
        made += 1


def softmaxes(count):
    cases = [((1, 1000), 1), ((2, 5, 3), 1), ((3, 1, 4), 1), ((2, 300, 2), 1)]
    while len(cases) < count:
        shape = tuple(int(v) for v in rng.integers(1, 7, size=rng.integers(1, 5)))
        cases.append((shape, int(rng.integers(0, len(shape)))))
    for shape, axis in cases:
        x = randn(shape) * 2
        emit(f"case softmax axis={axis}", [x], run("Softmax", [x], opset=13, axis=axis))


def concats(count):
    for _ in range(count):
        base = [int(v) for v in rng.integers(1, 5, size=rng.integers(1, 5))]
        axis = int(rng.integers(0, len(base)))
        xs = []
        for _ in range(rng.integers(1, 5)):
            shape = list(base)
            shape[axis] = int(rng.integers(1, 5))
            xs.append(randn(shape))
        emit(f"case concat axis={axis}", xs, run("Concat", xs, axis=axis))


def transposes(count):
    for _ in range(count):
        shape = [int(v) for v in rng.integers(1, 5, size=rng.integers(1, 7))]
        perm = [int(v) for v in rng.permutation(len(shape))]
        x = randn(shape)
        emit(f"case transpose perm={dims(perm)}", [x], run("Transpose", [x], perm=perm))


def pads(count):
    for i in range(count):
        shape = [int(v) for v in rng.integers(1, 6, size=rng.integers(1, 5))]
        mode = ["constant", "reflect", "edge"][i % 3]
        # ONNX Runtime's reflect needs each pad below the axis length.
        top = [d if mode == "reflect" else 4 for d in shape] * 2
        p = [int(rng.integers(0, t)) for t in top]
        value = float(np.float32(rng.uniform(-2, 2)))
        x = randn(shape)
        y = run("Pad", [x], [("pads", np.array(p, dtype=np.int64)),
                             ("value", np.array(value, dtype=np.float32))], opset=18, mode=mode)
        emit(f"case pad mode={mode} value={value:.9g} pads={dims(p)}", [x], y)


print(f"# ONNX Runtime {ort.__version__} outputs; written by tools/layout_onnx_golden.py")
pools("MaxPool", 14)
pools("AveragePool", 14)
softmaxes(10)
concats(8)
transposes(10)
pads(12)
sys.stdout.flush()
