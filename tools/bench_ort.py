"""onnxruntime CPU latency for the benchmark models: the native peer of se-runtime.

usage: bench_ort.py OUT.json --model NAME=PATH [...] --batch 1 8 [--iters K] [--warmup W]
       [--iters-large K]   (runs at batch > 1 of models over 1 G MACs per image)
       [--threads T]       (intra-op threads; default: the CPU cores)

Same ONNX files and batch sizes as the se-runtime run; intra-op threads = CPU cores;
default graph optimisations (what a user gets). Each measurement: warm-up runs, then
timed runs of session.run on a fixed deterministic input; median, p10, p90 (linear
interpolation, as `se-runtime bench` computes them).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort


def percentile(v, q):
    return float(np.percentile(np.asarray(v), q * 100, method="linear"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--model", action="append", required=True, metavar="NAME=PATH")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--iters-large", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--large-macs", type=float, default=1e9)
    ap.add_argument("--macs", action="append", default=[], metavar="NAME=MACS_PER_IMAGE")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    threads = args.threads or os.cpu_count() or 1
    macs = {k: float(v) for k, v in (m.split("=", 1) for m in args.macs)}
    results = []
    for spec in args.model:
        name, path = spec.split("=", 1)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        for batch in args.batch:
            shape = [batch, *[d if isinstance(d, int) else 1 for d in inp.shape[1:]]]
            n = int(np.prod(shape))
            # The same deterministic input in [-1, 1) that `se-runtime bench` feeds.
            x = (((np.arange(n, dtype=np.int64) * 7919) % 2000).astype(np.float32) / 1000.0 - 1.0)
            x = x.reshape(shape)
            iters = args.iters
            if batch > 1 and args.iters_large and macs.get(name, 0) > args.large_macs:
                iters = args.iters_large
            for _ in range(args.warmup):
                sess.run(None, {inp.name: x})
            ms = []
            for _ in range(iters):
                t = time.perf_counter()
                sess.run(None, {inp.name: x})
                ms.append((time.perf_counter() - t) * 1e3)
            s = sorted(ms)
            results.append({
                "model": name, "batch": batch, "runs": iters, "warmup": args.warmup,
                "median": percentile(s, 0.5), "p10": percentile(s, 0.1), "p90": percentile(s, 0.9),
                "all": ms,
            })
            print(f"onnxruntime {name} batch {batch}: median {results[-1]['median']:.2f} ms "
                  f"over {iters} runs", file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump({"onnxruntime": ort.__version__, "provider": "CPUExecutionProvider",
                   "threads": threads, "results": results}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
