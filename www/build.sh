#!/usr/bin/env bash
# Builds the browser package: Rust -> wasm32 (size profile) -> wasm-bindgen (ES module
# + TypeScript types) -> wasm-opt -Oz, into www/pkg/, the npm package directory.
#   www/build.sh           build www/pkg/
#   www/build.sh --pack    also `npm pack` it into www/dist/se-runtime-<version>.tgz
# Needs: rustup target wasm32-unknown-unknown, wasm-bindgen-cli at the version in
# Cargo.lock, and `npm ci` in www/ (binaryen's wasm-opt); tools/test-web.sh installs all.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  echo "error: wasm-bindgen $want is needed (Cargo.lock), found '${have:-none}':" >&2
  echo "  cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi
wasm_opt=www/node_modules/.bin/wasm-opt
if [ ! -x "$wasm_opt" ]; then
  echo "error: $wasm_opt missing (Debian's binaryen breaks the module): run 'npm ci' in www/" >&2
  exit 1
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
cargo build --lib --target wasm32-unknown-unknown --profile wasm-release
raw="$target_dir/wasm32-unknown-unknown/wasm-release/se_runtime.wasm"

out=www/pkg
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --out-dir "$out" --out-name se_runtime "$raw"
# The features Rust enables by default for wasm32-unknown-unknown; wasm-opt must know
# them to keep the module valid.
"$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  -o "$out/se_runtime_bg.wasm" "$out/se_runtime_bg.wasm"

cp www/npm/index.js www/npm/index.d.ts www/npm/README.md "$out/"
version=$(cargo metadata --format-version 1 --no-deps | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).packages[0].version))')
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync("www/npm/package.json", "utf8"));
  p.version = process.argv[1];
  fs.writeFileSync(process.argv[2], JSON.stringify(p, null, 2) + "\n");
' "$version" "$out/package.json"

# The page's sample gallery: a static server cannot list folders, so list them here.
mkdir -p www/gen
node -e '
  const fs = require("fs");
  const samples = {};
  for (const set of fs.existsSync("samples") ? fs.readdirSync("samples") : []) {
    if (!fs.statSync(`samples/${set}`).isDirectory()) continue;
    samples[set] = fs.readdirSync(`samples/${set}`)
      .filter((f) => /\.(png|jpe?g|webp|bmp|gif)$/i.test(f))
      .sort((a, b) => parseInt(a) - parseInt(b) || a.localeCompare(b))
      .map((f) => `samples/${set}/${f}`);
  }
  fs.writeFileSync("www/gen/manifest.json", JSON.stringify({ samples }, null, 1) + "\n");
'

wasm="$out/se_runtime_bg.wasm"
raw_kb=$(( $(stat -c %s "$wasm") / 1024 ))
gz_kb=$(( $(gzip -9 -c "$wasm" | wc -c) / 1024 ))
br_kb=$(node -e 'const z=require("zlib"),f=require("fs");console.log(z.brotliCompressSync(f.readFileSync(process.argv[1])).length>>10)' "$wasm")
echo "www/pkg: se_runtime_bg.wasm ${raw_kb} KiB raw, ${gz_kb} KiB gzipped, ${br_kb} KiB brotli (budget 400 KiB gzipped)"
if [ "$gz_kb" -gt 400 ]; then
  echo "error: the wasm module is over its size budget" >&2
  exit 1
fi

if [ "${1:-}" = "--pack" ]; then
  mkdir -p www/dist
  (cd www/dist && npm pack --silent "$root/$out" >/dev/null)
  echo "www/dist/se-runtime-$version.tgz"
fi
