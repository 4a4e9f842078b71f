#!/usr/bin/env python3
"""onnxruntime's logits for the first 64 Fashion-MNIST test images on the committed
default model, preprocessed as its metadata says (x/255, then (x - mean) / std).
The Rust test compares se-runtime's logits on the same images with these. Also the
class activation maps of the first 8 images' top-1 classes, from the last feature map
(the global average pooling's input, read from onnxruntime) and the linear layer's
weights: cam_input.npy [8, 1, 28, 28], cam_reference.npy [8, h, w], cam_classes.npy.

usage: fashion_reference.py OUT [DATA_DIR]
"""

import gzip
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.path.join(ROOT, "models", "fashion_se_resnet.onnx")


def main():
    out = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    with gzip.open(os.path.join(data, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:64]
    meta = {p.key: p.value for p in onnx.load(MODEL).metadata_props}
    mean, std = float(meta["se_runtime.mean"]), float(meta["se_runtime.std"])
    x = ((images.astype(np.float32) / 255 - mean) / std).astype(np.float32)
    sess = ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {sess.get_inputs()[0].name: x})
    d = os.path.join(out, "test_data_set_0")
    os.makedirs(d, exist_ok=True)
    for name, a in (("input_0.pb", x), ("output_0.pb", y)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(numpy_helper.from_array(a).SerializeToString())
    cam_reference(out, x[:8])
    print(f"fashion reference: {len(x)} images, onnxruntime logits and CAMs in {out}")


def cam_reference(out, x):
    model = onnx.load(MODEL)
    pool = [n for n in model.graph.node if n.op_type == "GlobalAveragePool"][-1]  # the head's
    (fc,) = [n for n in model.graph.node if n.op_type == "Gemm"]
    trans_b = next((a.i for a in fc.attribute if a.name == "transB"), 0)
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    w = weights[fc.input[1]]
    w = w if trans_b else w.T  # [K, C]
    model.graph.output.append(onnx.helper.make_tensor_value_info(pool.input[0], onnx.TensorProto.FLOAT, None))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    logits, features = sess.run(None, {sess.get_inputs()[0].name: x})
    top1 = logits.argmax(axis=1)
    cam = np.einsum("nchw,nc->nhw", features, w[top1]).astype(np.float32)
    np.save(os.path.join(out, "cam_input.npy"), x)
    np.save(os.path.join(out, "cam_reference.npy"), cam)
    np.save(os.path.join(out, "cam_classes.npy"), top1.astype(np.int64))


if __name__ == "__main__":
    main()
