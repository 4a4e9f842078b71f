#!/usr/bin/env bash
# The benchmarks, one command: se-runtime (native, on the default wgpu adapter) and
# onnxruntime CPU on the same ONNX files and batch sizes, se-runtime's CPU engine
# against onnxruntime CPU at 1 and 2 threads, the browser comparison
# (bench/web/run.sh) when present, and the report docs/benchmarks.md.
#
#   bash tools/bench.sh           full run: SE-ResNet-50, ResNet-50, MobileNetV3-Large,
#                                 EfficientNet-B0 (224x224, seeded random weights from
#                                 tools/make_fixtures.py --size full) and the demo model;
#                                 batch 1 and 8 (about 30-40 minutes on lavapipe, 2 cores)
#   bash tools/bench.sh --quick   the demo model only, few runs (a smoke test, ~2 minutes)
#
# Raw results: bench/results/*.json; the report: docs/benchmarks.md (--quick: both in
# bench/results/quick/, ignored by git).
# SE_BENCH_VENV: a Python venv that already has tools/requirements.txt (else .venv is
# made and filled). CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  *) echo "usage: bash tools/bench.sh [--quick]" >&2; exit 2 ;;
esac

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg-$(id -u)}"
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"

VENV="${SE_BENCH_VENV:-.venv}"
if [ -z "${SE_BENCH_VENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tools/requirements.txt
fi
PY="$VENV/bin/python"

echo "== building se-runtime (release)"
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/se-runtime"

# A quick run writes beside the full run's committed results, never over them.
RESULTS=bench/results
REPORT=docs/benchmarks.md
if [ "$QUICK" = 1 ]; then RESULTS=bench/results/quick; REPORT=$RESULTS/benchmarks.md; fi
rm -rf "$RESULTS/native"
mkdir -p "$RESULTS/native" bench/models

DEMO=models/fashion_se_resnet.onnx
if [ "$QUICK" = 1 ]; then
  MODELS=(fashion_se_resnet="$DEMO")
  ITERS=5; ITERS_LARGE=5; WARMUP=1; PROFILE=2; PROFILE_LARGE=2
else
  echo "== building the full-size models (seeded random weights)"
  for m in se_resnet50 resnet50 mobilenet_v3_large efficientnet_b0; do
    [ -f "bench/models/$m/model.onnx" ] || "$PY" tools/make_fixtures.py bench/models --size full --only "$m"
  done
  MODELS=(
    fashion_se_resnet="$DEMO"
    mobilenet_v3_large=bench/models/mobilenet_v3_large/model.onnx
    efficientnet_b0=bench/models/efficientnet_b0/model.onnx
    se_resnet50=bench/models/se_resnet50/model.onnx
  )
  # >= 20 runs everywhere except the two ResNet-50s at batch 8 (~25 s a run on lavapipe):
  # 5 timed runs, 1 warm-up and 3 profiled runs each there.
  ITERS=20; ITERS_LARGE=5; WARMUP=2; PROFILE=5; PROFILE_LARGE=3
fi

# se-runtime: one process per model and batch; SE-ResNet-50 alternates with ResNet-50.
for spec in "${MODELS[@]}"; do
  name="${spec%%=*}"; path="${spec#*=}"
  for batch in 1 8; do
    iters=$ITERS; warmup=$WARMUP; profile=$PROFILE
    extra=()
    if [ "$name" = se_resnet50 ]; then
      extra=(--compare bench/models/resnet50/model.onnx)
      if [ "$batch" = 8 ]; then iters=$ITERS_LARGE; warmup=1; profile=$PROFILE_LARGE; fi
    fi
    echo "== se-runtime $name batch $batch ($iters runs)"
    "$BIN" --backend gpu bench --model "$path" --batch "$batch" --iters "$iters" --warmup "$warmup" \
      --profile-runs "$profile" --peak --json "${extra[@]}" > "$RESULTS/native/${name}_b$batch.json"
  done
done

if [ "$QUICK" = 0 ]; then
  echo "== SE block kernels (cargo bench --bench se_block)"
  cargo bench --quiet --bench se_block > "$RESULTS/se_block.txt"
fi

echo "== onnxruntime CPU"
ORT_MODELS=()
for spec in "${MODELS[@]}"; do ORT_MODELS+=(--model "$spec"); done
[ "$QUICK" = 1 ] || ORT_MODELS+=(--model resnet50=bench/models/resnet50/model.onnx)
"$PY" tools/bench_ort.py "$RESULTS/ort.json" "${ORT_MODELS[@]}" --batch 1 8 \
  --iters "$ITERS" --warmup "$WARMUP"

echo "== CPU engine vs onnxruntime CPU, 1 and 2 threads"
CPU_MODELS=("${MODELS[@]}")
[ "$QUICK" = 1 ] || CPU_MODELS+=(resnet50=bench/models/resnet50/model.onnx)
bash tools/bench_cpu.sh "$BIN" "$PY" "$RESULTS/cpu" "$ITERS" "$WARMUP" "$PROFILE" "${CPU_MODELS[@]}"

if [ -f bench/web/run.sh ]; then
  echo "== browser (bench/web/run.sh)"
  # Rebuild www/pkg so the browser runs the code measured natively above.
  WEB_ARGS=(bench/models)
  [ "$QUICK" = 1 ] && WEB_ARGS=(--quick --out "$RESULTS")
  SE_BENCH_REBUILD=1 bash bench/web/run.sh "${WEB_ARGS[@]}" || echo "bench/web/run.sh failed: the report keeps the browser section empty" >&2
else
  echo "== browser: bench/web/run.sh is not in this checkout; skipped"
fi

# Machine and versions for the report.
"$PY" - "$RESULTS/machine.json" "$QUICK" <<'PY'
import json, os, platform, re, subprocess, sys, datetime
def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None
cpu = None
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
mem = None
try:
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) * 1024; break
except OSError:
    pass
lock = open("Cargo.lock").read()
wgpu = re.search(r'name = "wgpu"\nversion = "([^"]+)"', lock)
json.dump({
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "quick": sys.argv[2] == "1",
    "cpu": cpu or platform.processor(),
    "cores": os.cpu_count(),
    "memory_bytes": mem,
    "os": platform.platform(),
    "rustc": sh("rustc", "-V"),
    "wgpu": wgpu.group(1) if wgpu else None,
    "mesa": sh("sh", "-c", "dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null"),
    "git": sh("git", "rev-parse", "--short", "HEAD"),
}, open(sys.argv[1], "w"), indent=1)
PY

"$PY" tools/bench_report.py "$RESULTS" "$REPORT"
cat "$RESULTS/cpu/report.md" >> "$REPORT"
echo "== wrote $REPORT"
