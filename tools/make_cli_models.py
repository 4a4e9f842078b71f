#!/usr/bin/env python3
"""Builds the tiny ONNX models the command-line tests run (tests/data/*.onnx, committed).

They are small (a few KB) so the tests stay quick on a software GPU, and carry the
se_runtime.* preprocessing metadata the CLI reads:
  fashion_tiny.onnx  a 2-block SE-ResNet on 1x28x28 gray images, Fashion-MNIST labels and
                     normalisation, random (calibrated) weights: the embedded default
                     model until the trained one is in models/
  rgb_nometa.onnx    an SE-VGG on 3x16x16 without metadata: preprocessing falls back to
                     the input shape
  flat_input.onnx    a Gemm on a [N, 16] input: not an image model
  unsupported.onnx   a convolution followed by two operators the runtime does not have

usage: make_cli_models.py [OUT_DIR]   (default: tests/data)
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import OPSET, Net, calibrate, se_resnet, se_vgg  # noqa: E402

FASHION_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def save(model, out, name, metadata=None):
    for key, value in (metadata or {}).items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, name))
    print(f"{name}: {os.path.getsize(os.path.join(out, name))} bytes")


def calibrated(name, seed, shape, build):
    net = Net(name, seed, shape)
    logits = build(net, "input")
    calibrate(net, logits, net.rng.normal(0, 1, shape).astype(np.float32))
    return net.model(logits)


def plain(name, nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="se-runtime make_cli_models.py")
    m.ir_version = 8
    return m


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)

    save(calibrated("fashion_tiny", 21, [4, 1, 28, 28],
                    lambda n, x: se_resnet(n, x, [4, 8], [1, 1], base=8, r=4)),
         out, "fashion_tiny.onnx", {
             "se_runtime.input_size": "28,28",
             "se_runtime.channels": "gray",
             "se_runtime.mean": "0.2860",
             "se_runtime.std": "0.3530",
             "se_runtime.scale": "1/255",
             "se_runtime.invert": "false",
             "se_runtime.labels": json.dumps(FASHION_LABELS),
         })

    save(calibrated("rgb_nometa", 22, [4, 3, 16, 16], lambda n, x: se_vgg(n, x, [8, 12], classes=5)),
         out, "rgb_nometa.onnx")

    w = onnx.numpy_helper.from_array(rng.normal(0, 0.25, (16, 4)).astype(np.float32), "w")
    save(plain("flat_input", [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], [w]),
         out, "flat_input.onnx")

    k = onnx.numpy_helper.from_array(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "k")
    save(plain("unsupported", [
        helper.make_node("Conv", ["x", "k"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Einsum", ["c"], ["e"], name="einsum", equation="nchw->nhwc"),
        helper.make_node("Det", ["e"], ["y"], name="det"),
    ], [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])], [k]),
        out, "unsupported.onnx")


if __name__ == "__main__":
    sys.exit(main())
