#!/usr/bin/env bash
# se-runtime's CPU engine against onnxruntime CPU at 1 and 2 threads: for each model,
# batch size and thread count, `se-runtime --backend cpu --threads T bench --json`
# then tools/bench_ort.py with T intra-op threads, back to back, and a Markdown table
# of the ratios (tools/bench_cpu_report.py). tools/bench.sh runs it; alone:
#
#   bash tools/bench_cpu.sh BIN PYTHON OUT_DIR ITERS WARMUP PROFILE NAME=MODEL.onnx...
#
# writes OUT_DIR/NAME_bB_tT.json, OUT_DIR/ort_NAME_bB_tT.json and OUT_DIR/report.md.
# SE_BENCH_BATCHES overrides the batch sizes (default "1 8").
set -euo pipefail
BIN="$1"; PY="$2"; OUT="$3"; ITERS="$4"; WARMUP="$5"; PROFILE="$6"; shift 6
rm -rf "$OUT"; mkdir -p "$OUT"
for spec in "$@"; do
  name="${spec%%=*}"; path="${spec#*=}"
  for batch in ${SE_BENCH_BATCHES:-1 8}; do
    for threads in 1 2; do
      echo "   $name batch $batch, $threads threads"
      "$BIN" --backend cpu --threads "$threads" bench --model "$path" --batch "$batch" \
        --iters "$ITERS" --warmup "$WARMUP" --profile-runs "$PROFILE" --json \
        > "$OUT/${name}_b${batch}_t${threads}.json"
      "$PY" tools/bench_ort.py "$OUT/ort_${name}_b${batch}_t${threads}.json" \
        --model "$name=$path" --batch "$batch" --iters "$ITERS" --warmup "$WARMUP" \
        --threads "$threads"
    done
  done
done
"$PY" tools/bench_cpu_report.py "$OUT" > "$OUT/report.md"
# Other work on the machine moves both sides' times: say how busy it was.
echo "Load average at the end of the run (1, 5, 15 min; $(nproc) cores): $(cut -d' ' -f1-3 /proc/loadavg)." >> "$OUT/report.md"
cat "$OUT/report.md"
