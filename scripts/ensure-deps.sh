#!/usr/bin/env bash
# Ensure the machine has what the test suites need, installing only what is missing:
#   - Debian packages: redis-server + redis-tools (Redis 7.0.15, the reference server), wabt
#     (wasm-objdump / wasm-validate) and gcc (the generated C header of the ABI is compiled; on amd64
#     gcc-N-multilib too, to compile it for 32-bit like the device); for the device host's builds
#     gcc-arm-linux-gnueabihf + qemu-user (armhf, run under qemu-arm), valgrind (callgrind) and
#     gcc-xtensa-lx106 + picolibc (a compile-only Xtensa check of the portable core);
#   - Python 3 with pywasm3 0.5.0 (wasm3 v0.5.0), for test/wasm3/. If the `python3` on PATH already
#     imports wasm3 it is used as is; otherwise pywasm3 goes into a project venv at .venv-wasm3/
#     (never into the system or user site, so PEP 668 "externally managed" never bites). pywasm3 is
#     an sdist: gcc and the Python headers are installed first when missing.
#   - Debian's chromium (the browser tests in test/browser/ drive /usr/bin/chromium through the npm
#     package playwright-core, which downloads no browser of its own); `--chromium` is accepted for
#     old callers and does nothing more.
#
# Idempotent; when everything is present it only queries (well under a second) and prints nothing
# unless --verbose. Prints each install it performs. Exits non-zero with a clear message when it
# cannot install something.
#
# Which Python to run test/wasm3/*.py with: `scripts/ensure-deps.sh --print-python` prints it
# (the venv's interpreter when .venv-wasm3/ exists and works, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv-wasm3"
PYWASM3_SPEC="pywasm3==0.5.0"

VERBOSE=0
PRINT_PYTHON=0
for arg in "$@"; do
  case "$arg" in
    --chromium) ;;
    --verbose|-v) VERBOSE=1 ;;
    --print-python) PRINT_PYTHON=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "ensure-deps: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

say() { echo "ensure-deps: $*" >&2; }
die() { echo "ensure-deps: ERROR: $*" >&2; exit 1; }
note() { if [ "$VERBOSE" = 1 ]; then say "$*"; fi; }

# ---------------------------------------------------------------- python selection (shared)
# A python "works" when it imports wasm3.
py_has_wasm3() { "$1" -c 'import wasm3' >/dev/null 2>&1; }
pick_python() {
  if [ -x "$VENV/bin/python" ] && py_has_wasm3 "$VENV/bin/python"; then echo "$VENV/bin/python"; return 0; fi
  if command -v python3 >/dev/null 2>&1 && py_has_wasm3 python3; then command -v python3; return 0; fi
  return 1
}
if [ "$PRINT_PYTHON" = 1 ]; then
  if p=$(pick_python); then echo "$p"; exit 0; fi
  die "no python with pywasm3 found; run scripts/ensure-deps.sh"
fi

# ---------------------------------------------------------------- apt helpers
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    if [ -t 0 ]; then SUDO=(sudo); else SUDO=(sudo -n); fi
  fi
fi
APT_UPDATED=0
have_apt() { command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; }
# prints the packages (of the arguments) that are not installed
missing_pkgs() {
  local out
  out=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null || true)
  local p
  for p in "$@"; do
    if ! grep -qE "^${p} ii" <<<"$out"; then echo "$p"; fi
  done
}
# apt_install [--with-recommends] pkg...
apt_install() {
  local rec=(--no-install-recommends)
  if [ "${1:-}" = --with-recommends ]; then rec=(); shift; fi
  [ "$#" -gt 0 ] || return 0
  have_apt || die "need Debian packages [$*] but apt-get is not available; install them by hand"
  if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    die "need Debian packages [$*]: not root and no sudo; run: apt-get install -y $*"
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
      || die "apt-get update failed (no network / no permission?)"
    APT_UPDATED=1
  fi
  say "installing Debian packages: $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${rec[@]}" "$@" >&2 \
    || die "apt-get install $* failed"
}

# ---------------------------------------------------------------- 1. Debian packages
PKGS=(redis-server redis-tools wabt python3-redis gcc libc6-dev)
if have_apt; then
  # the device host (hosts/esp32s3-wasm3): an armhf build run under qemu-arm, instruction counts
  PKGS+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user valgrind gcc-xtensa-lx106 picolibc-xtensa-lx106-elf)
  mapfile -t MISSING < <(missing_pkgs "${PKGS[@]}")
  if [ "${#MISSING[@]}" -gt 0 ]; then apt_install "${MISSING[@]}"; fi
  # -m32 on amd64: the versioned gcc-N-multilib (the gcc-multilib metapackage conflicts with the
  # cross compilers above, so installing one would remove the other on every run)
  if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
    ML="gcc-$(gcc -dumpversion | cut -d. -f1)-multilib"
    mapfile -t MISSING < <(missing_pkgs "$ML")
    if [ "${#MISSING[@]}" -gt 0 ]; then apt_install "${MISSING[@]}"; fi
  fi
  # with recommends: the fonts etc. that headless pages and screenshots need
  mapfile -t MISSING < <(missing_pkgs chromium)
  if [ "${#MISSING[@]}" -gt 0 ]; then apt_install --with-recommends "${MISSING[@]}"; fi
  # A different Redis would make the differential tests compare against the wrong reference.
  rv=$(dpkg-query -W -f='${Version}' redis-server 2>/dev/null || true)
  case "$rv" in
    *:7.0.15-*|7.0.15-*) note "redis-server $rv" ;;
    *) say "WARNING: redis-server is $rv, the reference is 7.0.15 (Debian bookworm); differential results may differ" ;;
  esac
else
  for c in redis-server redis-cli wasm-objdump wasm-validate gcc; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' not found and apt-get is not available: install redis 7.0.15 and wabt"
  done
  [ -x "${RIVULET_CHROMIUM:-/usr/bin/chromium}" ] \
    || die "no chromium at ${RIVULET_CHROMIUM:-/usr/bin/chromium} and apt-get is not available: install Chromium and set RIVULET_CHROMIUM to its binary"
fi
# A redis-server running as a system service is not needed (tests start their own); leave it alone.

# ---------------------------------------------------------------- 2. python3 + pywasm3
if PY=$(pick_python); then
  note "python with pywasm3: $PY"
else
  if ! command -v python3 >/dev/null 2>&1; then apt_install python3; fi
  command -v python3 >/dev/null 2>&1 || die "python3 still not found after installing it"
  BASE_PY=$(command -v python3)
  # Resolve pyenv shims etc. to the real interpreter, so the venv does not depend on a shim.
  BASE_PY=$("$BASE_PY" -c 'import os, sys; print(os.path.realpath(sys.executable))')
  say "pywasm3 missing: building it into $VENV (base $BASE_PY)"

  # C compiler and headers for the sdist.
  if ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then apt_install gcc libc6-dev; fi
  INC=$("$BASE_PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  if [ ! -f "$INC/Python.h" ]; then
    case "$BASE_PY" in
      /usr/bin/*) apt_install python3-dev ;;
      *) die "Python headers missing for $BASE_PY ($INC/Python.h); install that interpreter's dev files" ;;
    esac
    [ -f "$INC/Python.h" ] || die "Python.h still missing in $INC"
  fi

  # venv (Debian's python needs python3-venv for ensurepip).
  rm -rf "$VENV"
  if ! "$BASE_PY" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    case "$BASE_PY" in
      /usr/bin/*) apt_install python3-venv ;;
      *) die "'$BASE_PY -m venv' failed; install the venv/ensurepip module for it" ;;
    esac
    "$BASE_PY" -m venv "$VENV" || die "creating venv $VENV failed"
  fi
  VPY="$VENV/bin/python"
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
  say "pip install $PYWASM3_SPEC (compiles wasm3 from the sdist, ~30 s)"
  if ! "$VPY" -m pip install -q --use-pep517 "$PYWASM3_SPEC" >&2; then
    # Offline-ish fallback: build without isolation with the venv's own setuptools + wheel.
    say "retrying with setuptools + wheel in the venv and --no-build-isolation"
    "$VPY" -m pip install -q setuptools wheel >&2 || die "pip could not install setuptools/wheel (no PyPI access?)"
    "$VPY" -m pip install -q --no-build-isolation "$PYWASM3_SPEC" >&2 \
      || die "pip install $PYWASM3_SPEC failed (see above): needs gcc, Python headers and PyPI access"
  fi
  py_has_wasm3 "$VPY" || die "pywasm3 installed but 'import wasm3' fails in $VPY"
  say "pywasm3 ready in $VENV"
fi

note "all dependencies present"
exit 0
