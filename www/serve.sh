#!/usr/bin/env bash
# Builds the wasm package and serves the page: `www/serve.sh [port]` (default 8080),
# then open the printed URL in Chrome or Edge (WebGPU), or any browser (CPU fallback).
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund
bash build.sh
exec node serve.mjs "${1:-8080}"
