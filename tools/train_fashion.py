#!/usr/bin/env python3
"""Train the small SE-ResNet on Fashion-MNIST that se-runtime embeds as its default model.

Reproducible on CPU: fixed seed, deterministic algorithms, fixed thread count, data read
straight from the IDX gzip files (no dataset library, nothing downloaded). Exports ONNX
(opset 17, BatchNorm kept, SE blocks as GlobalAveragePool -> Conv -> Relu -> Conv ->
Sigmoid -> Mul, the pattern the runtime detects) with preprocessing metadata, checks the
export with onnxruntime on the full test set, and writes metrics and sample PNGs.

Setup and usage: see docs/training/README.md.
"""

import argparse
import gzip
import json
import os
import platform
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
# Normalisation constants: mean/std of the 60,000 training images on the 0..1 scale,
# rounded so that the metadata strings are exactly what training used.
MEAN = 0.2860
STD = 0.3530
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- data


def read_idx(path):
    """Parse an IDX file (optionally gzipped): magic, dims, then big-endian data."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {np.prod(dims)} bytes, got {data.size}")
    return data.reshape(dims)


def load_split(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return images, labels


def to_tensor(images):
    """uint8 [N,28,28] -> normalised float [N,1,28,28] (scale 1/255, then mean/std)."""
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return (x - MEAN) / STD


def augment(x, gen, pad=2):
    """Random crop with zero (background) padding and random horizontal flip, batched."""
    n, _, h, w = x.shape
    background = (0.0 - MEAN) / STD
    padded = F.pad(x, (pad, pad, pad, pad), value=background)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h))[:, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]
    out = padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)
    flip = torch.rand(n, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


# ---------------------------------------------------------------- model


class SEBlock(nn.Module):
    """Squeeze (global pool) -> FC C->C/r -> ReLU -> FC C/r->C -> gate -> channel scale.

    The FCs are 1x1 convolutions so the ONNX graph is GlobalAveragePool -> Conv -> Relu ->
    Conv -> Sigmoid -> Mul with no reshapes in between.
    """

    def __init__(self, channels, reduction, squeeze="avg", gate="sigmoid"):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1) if squeeze == "avg" else nn.AdaptiveMaxPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU(inplace=False)
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.gate = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}[gate]()

    def forward(self, x):
        s = self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))
        return x * s


class BasicBlock(nn.Module):
    """Post-activation ResNet basic block; SE on the residual branch before the add."""

    def __init__(self, cin, cout, stride, se_cfg):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.se = SEBlock(cout, **se_cfg) if se_cfg is not None else None
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.se is not None:
            out = self.se(out)
        identity = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + identity)


class SEResNet(nn.Module):
    def __init__(self, widths=(32, 64, 128), blocks=(1, 1, 1), se_cfg=None, classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, widths[0], 3, 1, 1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        )
        layers, cin = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(BasicBlock(cin, w, stride, se_cfg))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def build_model(cfg):
    se_cfg = None
    if not cfg["no_se"]:
        se_cfg = dict(reduction=cfg["reduction"], squeeze=cfg["squeeze"], gate=cfg["gate"])
    return SEResNet(tuple(cfg["widths"]), tuple(cfg["blocks"]), se_cfg)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, size=28):
    """Multiply-accumulates of one 1x28x28 image: every Conv2d (SE FCs included) and Linear."""
    total = [0]

    def conv_hook(m, inp, out):
        k = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        total[0] += out[0].numel() * k

    def linear_hook(m, inp, out):
        total[0] += m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, size, size))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return total[0]


# ---------------------------------------------------------------- training


def tune_malloc():
    """Keep freed activation buffers in the heap: by default glibc returns blocks over its
    mmap threshold to the kernel on every free, and re-faulting them cost as much system
    time as the convolutions themselves on this 2-core machine. Speed only, not results."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (glibc's maximum)
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
        libc.mallopt(-2, 64 << 20)  # M_TOP_PAD
    except (OSError, AttributeError):
        pass


def setup_determinism(seed, threads):
    tune_malloc()
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


@torch.no_grad()
def evaluate(model, x, y, batch=250):
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += (model(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum().item()
    return 100.0 * correct / len(x)


def train(cfg, log=print):
    """Train one model from cfg; returns (model, result dict). Test accuracy is only
    reported, never used to choose anything."""
    setup_determinism(cfg["seed"], cfg["threads"])
    tr_img, tr_lab = load_split(cfg["data_dir"], "train")
    te_img, te_lab = load_split(cfg["data_dir"], "test")
    x_tr, y_tr = to_tensor(tr_img), torch.from_numpy(tr_lab.astype(np.int64))
    x_te, y_te = to_tensor(te_img), torch.from_numpy(te_lab.astype(np.int64))
    if cfg.get("train_limit"):
        x_tr, y_tr = x_tr[: cfg["train_limit"]], y_tr[: cfg["train_limit"]]

    model = build_model(cfg)
    params, macs = count_params(model), count_macs(model)
    log(f"config: {json.dumps(cfg, sort_keys=True)}")
    log(f"params {params}  MACs/image {macs}  torch {torch.__version__}  threads {torch.get_num_threads()}")

    gen = torch.Generator().manual_seed(cfg["seed"])
    bs, epochs = cfg["batch_size"], cfg["epochs"]
    steps_per_epoch = (len(x_tr) + bs - 1) // bs
    if cfg.get("max_batches"):
        steps_per_epoch = min(steps_per_epoch, cfg["max_batches"])
    opt = torch.optim.SGD(
        model.parameters(),
        lr=cfg["lr"],
        momentum=0.9,
        nesterov=True,
        weight_decay=cfg["weight_decay"],
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=cfg["lr"],
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        pct_start=0.25,
        div_factor=10.0,
        final_div_factor=100.0,
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg["label_smoothing"])

    t_start = time.time()
    epoch_times, history = [], []
    for epoch in range(1, epochs + 1):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(x_tr), generator=gen)
        total_loss, seen, correct = 0.0, 0, 0
        for step in range(steps_per_epoch):
            idx = perm[step * bs : (step + 1) * bs]
            xb = augment(x_tr[idx], gen) if cfg["augment"] else x_tr[idx]
            yb = y_tr[idx]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            seen += len(idx)
        train_time = time.time() - t0
        epoch_times.append(train_time)
        test_acc = evaluate(model, x_te, y_te)
        history.append(
            dict(epoch=epoch, loss=total_loss / seen, train_acc=100.0 * correct / seen, test_acc=test_acc)
        )
        log(
            f"epoch {epoch:3d}/{epochs}  loss {total_loss / seen:.4f}  "
            f"train(aug) {100.0 * correct / seen:6.2f}%  test {test_acc:6.2f}%  "
            f"train time {train_time:6.1f}s  images/s {seen / train_time:7.1f}"
        )
    wall = time.time() - t_start
    final = evaluate(model, x_te, y_te)
    log(f"final test accuracy {final:.2f}% on {len(x_te)} test images; wall {wall:.0f}s")
    result = dict(
        test_accuracy=final,
        params=params,
        macs=macs,
        epochs=epochs,
        seed=cfg["seed"],
        epoch_time_s=sum(epoch_times) / len(epoch_times),
        wall_time_s=wall,
        history=history,
    )
    return model, (x_te, y_te), result


# ---------------------------------------------------------------- export


def export_onnx(model, path, metadata):
    import onnx

    model.eval()
    dummy = torch.zeros(2, 1, 28, 28)
    kwargs = dict(
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
        opset_version=17,
        # PRESERVE (with the model in eval mode) skips the exporter's eval peephole pass,
        # which would fold BatchNorm into the convolutions; the runtime wants BN nodes.
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=True,
    )
    try:
        torch.onnx.export(model, (dummy,), path, dynamo=False, **kwargs)
    except TypeError:  # torch without the dynamo switch
        torch.onnx.export(model, (dummy,), path, **kwargs)
    m = onnx.load(path)
    for key, value in metadata.items():
        prop = m.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return m


def check_graph(m, expected_se, expected_bn):
    """The runtime's expectations: BN nodes kept, each SE block as the canonical chain."""
    nodes = list(m.graph.node)
    by_input = {}
    for n in nodes:
        for i in n.input:
            by_input.setdefault(i, []).append(n)

    def only_consumer(node, op):
        users = by_input.get(node.output[0], [])
        return users[0] if len(users) == 1 and users[0].op_type == op else None

    chains = 0
    for n in nodes:
        if n.op_type != "GlobalAveragePool":
            continue
        cur = n
        for op in ("Conv", "Relu", "Conv", "Sigmoid", "Mul"):
            cur = only_consumer(cur, op)
            if cur is None:
                break
        chains += cur is not None
    bn = sum(n.op_type == "BatchNormalization" for n in nodes)
    inp, out = m.graph.input[0], m.graph.output[0]
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    odims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    if chains != expected_se or bn != expected_bn or dims != ["N", 1, 28, 28] or odims != ["N", 10]:
        raise RuntimeError(
            f"ONNX graph not as expected: {chains} SE chains (want {expected_se}), "
            f"{bn} BatchNormalization (want {expected_bn}), input {inp.name}{dims}, output {out.name}{odims}"
        )
    return chains, bn


def onnx_accuracy(path, x, y, batch=1000):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    correct, logits = 0, []
    for i in range(0, len(x), batch):
        out = sess.run(["logits"], {"image": x[i : i + batch].numpy()})[0]
        logits.append(out)
        correct += int((out.argmax(1) == y[i : i + batch].numpy()).sum())
    return 100.0 * correct / len(x), np.concatenate(logits)


# ---------------------------------------------------------------- samples


def write_png_gray(path, img):
    """8-bit grayscale PNG with the standard library only."""
    h, w = img.shape
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9))
    png += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def slug(label):
    return label.lower().replace("-", "_").replace("/", "_").replace(" ", "_")


def export_samples(data_dir, out_dir, per_class=2):
    """The first `per_class` test images of each class, named <test index>_<label>.png."""
    images, labels = load_split(data_dir, "test")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for c in range(10):
        for idx in np.nonzero(labels == c)[0][:per_class]:
            name = f"{idx}_{slug(LABELS[c])}.png"
            write_png_gray(os.path.join(out_dir, name), images[idx])
            written.append(name)
    return sorted(written, key=lambda s: int(s.split("_")[0]))


# ---------------------------------------------------------------- CLI


def default_cfg():
    return dict(
        data_dir=DEFAULT_DATA,
        widths=[32, 64, 128],
        blocks=[1, 1, 1],
        no_se=False,
        reduction=16,
        squeeze="avg",
        gate="sigmoid",
        epochs=15,
        batch_size=128,
        lr=0.1,
        weight_decay=5e-4,
        label_smoothing=0.1,
        augment=True,
        seed=0,
        threads=1,
        max_batches=0,
        train_limit=0,
    )


def add_model_args(p, d):
    p.add_argument("--data-dir", default=d["data_dir"])
    p.add_argument("--widths", type=int, nargs=3, default=d["widths"])
    p.add_argument("--blocks", type=int, nargs=3, default=d["blocks"])
    p.add_argument("--no-se", action="store_true")
    p.add_argument("--reduction", type=int, default=d["reduction"])
    p.add_argument("--squeeze", choices=["avg", "max"], default=d["squeeze"])
    p.add_argument("--gate", choices=["sigmoid", "relu", "tanh"], default=d["gate"])
    p.add_argument("--epochs", type=int, default=d["epochs"])
    p.add_argument("--batch-size", type=int, default=d["batch_size"])
    p.add_argument("--lr", type=float, default=d["lr"])
    p.add_argument("--weight-decay", type=float, default=d["weight_decay"])
    p.add_argument("--label-smoothing", type=float, default=d["label_smoothing"])
    p.add_argument("--no-augment", dest="augment", action="store_false")
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--threads", type=int, default=d["threads"])
    p.add_argument("--max-batches", type=int, default=0, help="cap batches per epoch (timing runs)")
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training images")


def cfg_from_args(a):
    cfg = default_cfg()
    for k in cfg:
        cfg[k] = getattr(a, k)
    return cfg


class Logger:
    def __init__(self, path):
        self.f = open(path, "w") if path else None

    def __call__(self, msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        if self.f:
            self.f.write(line + "\n")
            self.f.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(p, default_cfg())
    p.add_argument("--onnx", default=os.path.join(REPO, "models/fashion_se_resnet.onnx"))
    p.add_argument("--metrics", default=os.path.join(REPO, "models/fashion_se_resnet.metrics.json"))
    p.add_argument("--log", default=os.path.join(REPO, "docs/training/fashion_se_resnet.log"))
    p.add_argument("--samples", default=os.path.join(REPO, "samples/fashion"))
    p.add_argument("--no-export", action="store_true", help="train and report only (timing runs)")
    a = p.parse_args()
    cfg = cfg_from_args(a)
    if a.no_export:
        a.log = None
    else:
        for path in (a.onnx, a.metrics, a.log):
            os.makedirs(os.path.dirname(path), exist_ok=True)
    log = Logger(a.log)
    log(f"command: {' '.join(sys.argv)}")
    log(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    model, (x_te, y_te), res = train(cfg, log)
    if a.no_export:
        return

    metadata = {
        "se_runtime.input_size": "28,28",
        "se_runtime.channels": "gray",
        "se_runtime.mean": f"{MEAN:.4f}",
        "se_runtime.std": f"{STD:.4f}",
        "se_runtime.scale": "1/255",
        "se_runtime.invert": "false",
        "se_runtime.labels": json.dumps(LABELS),
        "se_runtime.dataset": "Fashion-MNIST (Zalando Research, MIT license); trained on the 60,000 training images",
        "se_runtime.test_accuracy": f"{res['test_accuracy']:.2f}",
    }
    n_blocks = sum(cfg["blocks"])
    n_bn = 1 + 2 * n_blocks + sum(
        1 for b in model.layers if b.shortcut is not None
    )
    m = export_onnx(model, a.onnx, metadata)
    chains, bn = check_graph(m, 0 if cfg["no_se"] or cfg["squeeze"] != "avg" or cfg["gate"] != "sigmoid" else n_blocks, n_bn)
    ort_acc, ort_logits = onnx_accuracy(a.onnx, x_te, y_te)
    with torch.no_grad():
        model.eval()
        torch_logits = torch.cat([model(x_te[i : i + 1000]) for i in range(0, len(x_te), 1000)]).numpy()
    max_diff = float(np.abs(torch_logits - ort_logits).max())
    log(f"ONNX: {chains} SE chains, {bn} BatchNormalization nodes; onnxruntime accuracy {ort_acc:.2f}% "
        f"(torch {res['test_accuracy']:.2f}%), max |logit diff| {max_diff:.2e}")
    if abs(ort_acc - res["test_accuracy"]) > 0.05:
        raise RuntimeError("onnxruntime accuracy differs from torch by more than 0.05 points")

    import onnx
    import onnxruntime

    metrics = dict(
        model="models/fashion_se_resnet.onnx",
        test_accuracy=round(res["test_accuracy"], 2),
        onnxruntime_test_accuracy=round(ort_acc, 2),
        max_abs_logit_diff_onnx_vs_torch=max_diff,
        test_images=len(x_te),
        params=res["params"],
        macs_per_image=res["macs"],
        model_bytes=os.path.getsize(a.onnx),
        epochs=res["epochs"],
        seed=res["seed"],
        mean_epoch_train_time_s=round(res["epoch_time_s"], 1),
        wall_time_s=round(res["wall_time_s"], 1),
        threads=cfg["threads"],
        torch_version=torch.__version__,
        onnx_version=onnx.__version__,
        onnxruntime_version=onnxruntime.__version__,
        numpy_version=np.__version__,
        python_version=platform.python_version(),
        config={k: v for k, v in cfg.items() if k != "data_dir"},
        normalization=dict(scale="1/255", mean=MEAN, std=STD),
        history=res["history"],
    )
    with open(a.metrics, "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")
    names = export_samples(cfg["data_dir"], a.samples)
    log(f"wrote {a.onnx} ({metrics['model_bytes']} bytes), {a.metrics}, {len(names)} samples in {a.samples}")


if __name__ == "__main__":
    main()
