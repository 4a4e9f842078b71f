#!/usr/bin/env python3
"""Writes the tiny ONNX models that seed the `load_model` fuzz target
(fuzz/seeds/load_model/, committed). Each is a few KB, so the fuzzer's mutations stay
fast, and together they cover the compiler's paths: SE blocks (conv and gemm FCs,
avg/max/ReduceMean squeeze, sigmoid and hard-sigmoid gates), BatchNorm folding,
residual adds, grouped and depthwise convolutions, pooling, Concat and Gemm heads.

usage: make_fuzz_seeds.py [OUT_DIR]   (default: fuzz/seeds/load_model)
"""

import os
import sys

import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import (Net, efficientnet, mobilenet_v3, se_inception,  # noqa: E402
                           se_mobilenet, se_resnet, se_vgg)

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
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/seeds/load_model"
    os.makedirs(out, exist_ok=True)
    for i, (name, (shape, build)) in enumerate(SEEDS.items()):
        net = Net(name, 100 + i, shape)
        model = net.model(build(net, "input"))
        model.producer_name = "se-runtime make_fuzz_seeds.py"
        onnx.checker.check_model(model)
        path = os.path.join(out, f"{name}.onnx")
        onnx.save(model, path)
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    sys.exit(main())
