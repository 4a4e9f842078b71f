#!/usr/bin/env bash
# Runs every test of se-runtime, installing what the tests need first.
# This is the README's test command; .ci/run calls it unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: a software Vulkan driver (lavapipe) so the GPU tests run on CPU-only
# machines.
need_apt=()
# The Fashion-MNIST test set checks the default model's accuracy.
for pkg in mesa-vulkan-drivers libvulkan1 libegl1 libegl-mesa0 libgl1-mesa-dri dataset-fashion-mnist; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# wgpu/Mesa complain on stderr without it.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/se-runtime-xdg}"
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"

# Python reference tooling (onnx, onnxruntime) in a local venv, and the fixtures it makes.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r tools/requirements.txt
.venv/bin/python tools/make_fixtures.py fixtures
.venv/bin/python tools/fetch_real_models.py fixtures/real
.venv/bin/python tools/fashion_reference.py fixtures/fashion
SE_FIXTURES="$PWD/fixtures"
ONNX_NODE_TESTS="$(.venv/bin/python -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/node"))')"
export SE_FIXTURES ONNX_NODE_TESTS

cargo test --all-targets

# Browser tests: wasm kernels and the whole model in headless Chromium, the npm
# package in a Vite app, and the page end to end (installs Chromium and wasm tools).
bash tools/test-web.sh
