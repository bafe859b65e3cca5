#!/usr/bin/env bash
# Fetches the wasm3 interpreter's C sources for the device host (hosts/esp32s3-wasm3) without
# carrying them in this repository: wasm3 v0.5.0 is the `wasm3/` folder of PyPI's pywasm3 0.5.0
# sdist (no registry has a newer wasm3). The sdist is downloaded from PyPI's simple index with curl
# (or with pip where curl is missing), its sha256 checked against the pin below, and its `wasm3/` folder
# extracted into DEST (default build/wasm3, ignored by git):
#
#   DEST/source/*.c, *.h   wasm3's sources (as shipped in the sdist's wasm3/ folder)
#   DEST/LICENSE           wasm3's MIT licence (the sdist's LICENSE)
#   DEST/.fetched          the sha256 of the sdist the folder came from (makes re-runs no-ops)
#
# Usage: scripts/fetch-wasm3.sh [--dest DIR] [--quiet]   (prints DEST/source on stdout)
# The ESP-IDF build (hosts/esp32s3-wasm3/components/wasm3/CMakeLists.txt) runs this same script.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SDIST=pywasm3-0.5.0.tar.gz
SPEC=pywasm3==0.5.0
SHA256=5a47c8a39f7f6ae71b3316b2e5d86c9d0db6e771a65f09a86e4d4aa3a19aefcc
DEST="$ROOT/build/wasm3"
QUIET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) DEST=$2; shift 2 ;;
    --quiet|-q) QUIET=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "fetch-wasm3: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
say() { if [ "$QUIET" = 0 ]; then echo "fetch-wasm3: $*" >&2; fi; }
die() { echo "fetch-wasm3: ERROR: $*" >&2; exit 1; }

if [ -f "$DEST/.fetched" ] && [ "$(cat "$DEST/.fetched")" = "$SHA256" ] && [ -f "$DEST/source/wasm3.h" ]; then
  echo "$DEST/source"
  exit 0
fi

sha_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
  else python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  fi
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# PyPI's simple index names the sdist's URL; pip (which also builds the package's metadata, slower)
# is the fallback where curl is missing or cannot get through.
if command -v curl >/dev/null 2>&1 && url=$(curl -fsSL "https://pypi.org/simple/pywasm3/" 2>/dev/null | grep -o "https://[^\"#]*/$SDIST" | head -n1) && [ -n "$url" ]; then
  say "downloading $url"
  curl -fsSL -o "$TMP/$SDIST" "$url" || die "downloading $url failed"
else
  PY=""
  for p in python3 python; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -m pip --version >/dev/null 2>&1; then PY=$p; break; fi
  done
  [ -n "$PY" ] || die "need curl or pip to download $SDIST from PyPI"
  say "pip download $SPEC (sdist)"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$PY" -m pip download -q --no-binary :all: --no-deps "$SPEC" -d "$TMP" >&2 \
    || die "pip download $SPEC failed (no access to PyPI?)"
fi
[ -f "$TMP/$SDIST" ] || die "the download did not produce $SDIST"
got=$(sha_of "$TMP/$SDIST")
[ "$got" = "$SHA256" ] || die "$SDIST has sha256 $got, expected $SHA256: refusing to use it"

mkdir -p "$TMP/x"
tar -xzf "$TMP/$SDIST" -C "$TMP/x"
SRC="$TMP/x/pywasm3-0.5.0"
[ -f "$SRC/wasm3/wasm3.h" ] || die "$SDIST has no wasm3/wasm3.h"
rm -rf "$DEST"
mkdir -p "$DEST/source"
cp "$SRC"/wasm3/*.c "$SRC"/wasm3/*.h "$DEST/source/"
cp "$SRC/LICENSE" "$DEST/LICENSE"
echo "$SHA256" >"$DEST/.fetched"
say "wasm3 v0.5.0 sources in $DEST/source ($(ls "$DEST/source" | wc -l) files)"
echo "$DEST/source"
