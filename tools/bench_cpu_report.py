"""The CPU engine against onnxruntime CPU: a Markdown table from the JSON files
tools/bench.sh writes into DIR (`se-runtime --backend cpu --threads T bench --json`
as NAME_bB_tT.json, tools/bench_ort.py as ort_NAME_bB_tT.json, each pair measured
back to back).

usage: bench_cpu_report.py DIR > report.md
"""

import json
import pathlib
import re
import sys


def main():
    d = pathlib.Path(sys.argv[1])
    rows = []
    for f in sorted(d.glob("*_b*_t*.json")):
        if f.name.startswith("ort_"):
            continue
        m = re.fullmatch(r"(.+)_b(\d+)_t(\d+)\.json", f.name)
        ort_file = d / f"ort_{f.name}"
        if not m or not ort_file.exists():
            continue
        name, batch, threads = m.group(1), int(m.group(2)), int(m.group(3))
        ours = json.loads(f.read_text())["models"][0]
        ort = json.loads(ort_file.read_text())["results"][0]
        engine_ms, ort_ms = ours["latency_ms"]["median"], ort["median"]
        gflops = 2 * ours["macs"] / (engine_ms * 1e6)
        rows.append((name, batch, threads, engine_ms, ort_ms, engine_ms / ort_ms, gflops,
                     ours["fast_steps"], ours["steps"]))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    out = sys.stdout.write
    out("\n## CPU engine vs onnxruntime CPU\n\n")
    out("`se-runtime --backend cpu --threads T bench` and onnxruntime's CPUExecutionProvider "
        "with T intra-op threads, run back to back on the same input; medians. "
        "Ratio = engine / onnxruntime (below 1: the engine is faster). "
        "Per-layer wall times are in the engine's JSON files.\n\n")
    out("| model | batch | threads | engine ms | onnxruntime ms | ratio | engine GFLOP/s | steps on engine kernels |\n")
    out("|---|---|---|---|---|---|---|---|\n")
    for name, batch, threads, e, o, r, g, fast, steps in rows:
        out(f"| {name} | {batch} | {threads} | {e:.2f} | {o:.2f} | {r:.2f}x | {g:.1f} | {fast}/{steps} |\n")


if __name__ == "__main__":
    sys.exit(main())
