#!/usr/bin/env python3
"""Writes the tiny ONNX models that seed the `load_model` fuzz target
(fuzz/seeds/load_model/, committed). Each is a few KB, so the fuzzer's mutations stay
fast, and together they cover the compiler's paths: SE blocks (conv and gemm FCs,
avg/max/ReduceMean squeeze, sigmoid and hard-sigmoid gates), BatchNorm folding,
residual adds, grouped and depthwise convolutions, pooling, Concat and Gemm heads,
and the general operators on run-time tensors: the math functions, Pow and the
variadic Sum/Max/Min, reductions over any axes, (Log)Softmax, Slice and Split (both
opset 17 forms, and opset 20 for Gelu, num_outputs and reduction axes as inputs),
LayerNormalization.

usage: make_fuzz_seeds.py [OUT_DIR]   (default: fuzz/seeds/load_model)
"""

import os
import sys

import numpy as np
import onnx
from onnx import helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import (Net, efficientnet, mobilenet_v3, se_inception,  # noqa: E402
                           se_mobilenet, se_resnet, se_vgg)

def math_ops(n, x):
    """Each math function once, between a convolution and the head."""
    c = n.conv(x, 4, 3, bias=True)
    one = n.const(np.ones(1))
    pos = n.node("Add", [n.node("Abs", [c], 4), one], 4)
    parts = [n.node(op, [c], 4) for op in ("Erf", "Round", "Ceil", "Floor")]
    parts += [n.node(op, [pos], 4) for op in ("Sqrt", "Reciprocal", "Log")]
    parts.append(n.node("Exp", [n.node("Neg", [pos], 4)], 4))
    parts.append(n.node("Pow", [pos, n.const(np.full(1, 1.5))], 4))
    y = n.node("Max", [n.node("Sum", parts[:5], 4), n.node("Min", parts[5:], 4), c], 4)
    return n.head(y, 2)


def reduce_ops(n, x):
    """Reductions over the channel axis (attribute and input forms) and over N, H."""
    c = n.conv(x, 4, 3, bias=True)
    s = n.node("ReduceSum", [c, n.const_i64([1])], 1)
    m = n.node("ReduceMax", [c], 1, axes=[1])
    l2 = n.node("ReduceL2", [c], 4, axes=[0, 2])
    sq = n.node("ReduceSumSquare", [c], 1, axes=[1, 3])
    y = n.node("Mul", [n.node("Add", [c, n.node("Sub", [s, m], 1)], 4), l2], 4)
    return n.head(n.node("Add", [y, sq], 4), 2)


def softmax_ops(n, x):
    c = n.conv(x, 4, 3, bias=True)
    y = n.node("Softmax", [n.node("LogSoftmax", [c], 4, axis=1)], 4, axis=2)
    return n.head(y, 2)


def slice_split(n, x):
    """Split by a `split` input, a reversed strided Slice of one part, Concat back."""
    c = n.conv(x, 8, 3, bias=True)
    a, b = n.fresh("part"), n.fresh("part")
    n.nodes.append(helper.make_node("Split", [c, n.const_i64([3, 5])], [a, b], name=a, axis=1))
    n.channels[a], n.channels[b] = 3, 5
    r = n.node("Slice", [b, n.const_i64([4]), n.const_i64([-100]), n.const_i64([1]),
                         n.const_i64([-2])], 3)
    return n.head(n.node("Concat", [a, r], 6, axis=1), 2)


def opset20_ops(n, x):
    """Gelu, LayerNormalization, reduction axes as an input and Split's num_outputs
    (opsets 17 to 20)."""
    c = n.conv(x, 4, 3, bias=True)
    ln = n.node("LayerNormalization", [c, n.const(np.ones(5)), n.const(np.zeros(5), "b")], 4, axis=-1)
    g = n.node("Gelu", [ln], 4, approximate="tanh")
    m = n.node("ReduceMax", [g, n.const_i64([1])], 1)
    a, b = n.fresh("part"), n.fresh("part")
    n.nodes.append(helper.make_node("Split", [g], [a, b], name=a, axis=1, num_outputs=2))
    n.channels[a], n.channels[b] = 2, 2
    y = n.node("Add", [n.node("Add", [a, b], 2), m], 2)
    return n.head(n.node("Gelu", [y], 2), 2)


SEEDS = {
    "se_resnet": ([1, 1, 6, 6], lambda n, x: se_resnet(n, x, [2], [1], base=4, r=4, classes=3)),
    "se_resnet_gemm": ([1, 2, 5, 5], lambda n, x: se_resnet(n, x, [2], [1], base=4, r=2, classes=2, fc="gemm")),
    "se_resnext": ([1, 1, 6, 6], lambda n, x: se_resnet(n, x, [2], [1], groups=2, base=4, r=4, classes=2)),
    "se_vgg": ([1, 1, 4, 4], lambda n, x: se_vgg(n, x, [4], classes=2)),
    "se_inception": ([1, 1, 6, 6], lambda n, x: se_inception(n, x, 4, classes=2)),
    "se_mobilenet": ([1, 1, 8, 8], lambda n, x: se_mobilenet(n, x, [4, 4, 8], classes=2)),
    "mobilenet_v3": ([1, 1, 8, 8], lambda n, x: mobilenet_v3(
        n, x, [(3, 8, 4, True, "relu", 2)], stem=4, last=8, hidden=8, classes=2)),
    "efficientnet": ([1, 1, 8, 8], lambda n, x: efficientnet(n, x, [(1, 3, 1, 4, 1)], stem=4, head=8, classes=2)),
    "math_ops": ([1, 1, 5, 5], math_ops),
    "reduce_ops": ([2, 1, 5, 5], reduce_ops),
    "softmax_ops": ([1, 1, 5, 5], softmax_ops),
    "slice_split": ([1, 1, 5, 5], slice_split),
    "opset20_ops": ([1, 1, 5, 5], opset20_ops),
}

# Seeds written at a newer opset than the fixtures' for the ops they need.
OPSETS = {"opset20_ops": 20}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/seeds/load_model"
    os.makedirs(out, exist_ok=True)
    for i, (name, (shape, build)) in enumerate(SEEDS.items()):
        net = Net(name, 100 + i, shape)
        model = net.model(build(net, "input"))
        model.producer_name = "se-runtime make_fuzz_seeds.py"
        if name in OPSETS:
            model.opset_import[0].version = OPSETS[name]
        onnx.checker.check_model(model)
        path = os.path.join(out, f"{name}.onnx")
        onnx.save(model, path)
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    sys.exit(main())
