#!/usr/bin/env bash
# The browser benchmark, one command: se-runtime (WebGPU) vs onnxruntime-web (WebGPU and
# wasm providers) in headless Chromium on its WebGPU adapter (SwiftShader without a GPU).
#   bash bench/web/run.sh [--quick] [--out DIR] [--only KEY,...] [MODELS_DIR]
# MODELS_DIR (or $SE_BENCH_MODELS): tools/make_fixtures.py MODELS_DIR --size full.
# --quick: the demo model only, few runs (a smoke test of the harness).
# Writes bench/results/web.json and web.md (or DIR/). Installs its npm packages and
# builds www/pkg/ when missing; needs Chromium (CHROMIUM, default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -d bench/web/node_modules ] || [ bench/web/package-lock.json -nt bench/web/node_modules ]; then
  (cd bench/web && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -f www/pkg/se_runtime_bg.wasm ] || [ -n "${SE_BENCH_REBUILD:-}" ]; then
  if [ ! -d www/node_modules ]; then (cd www && npm ci --no-audit --no-fund --loglevel=error); fi
  bash www/build.sh
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/se-runtime-xdg}"
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
exec node bench/web/run.mjs "$@"
