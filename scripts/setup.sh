#!/usr/bin/env bash
# Installs everything polaroid's build, tests and benchmarks need, idempotently:
#   - Debian packages (compiler, codec libraries, cmocka, clang + libFuzzer runtime);
#   - a Python virtualenv in .venv with the oracles (pyarrow, polars, duckdb) and pytest.
# Runs as root, or through sudo when available. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake pkg-config git
  libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev libbrotli-dev libdeflate-dev
  libcmocka-dev clang libclang-rt-14-dev
  libpg-query-dev libprotobuf-c-dev libedit-dev tzdata
  libgrpc-dev protobuf-c-compiler)

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else echo "setup: need root or sudo for apt" >&2; fi
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
REQ=scripts/requirements.txt
STAMP=.venv/.requirements.stamp
if [ ! -f "$STAMP" ] || ! cmp -s "$REQ" "$STAMP"; then
  echo "setup: installing Python packages from $REQ"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r "$REQ"
  cp "$REQ" "$STAMP"
fi

# The Python package (python/), installed (not editable: .venv may be shared between checkouts)
# and refreshed whenever its files change. Tests put the checkout's python/ first on sys.path.
PKG_HASH=$(find python -name '*.py' -o -name '*.pyi' -o -name 'pyproject.toml' -o -name 'py.typed' |
           LC_ALL=C sort | xargs cat | sha1sum | cut -d' ' -f1)
PKG_STAMP=.venv/.polaroid-python.stamp
if [ ! -f "$PKG_STAMP" ] || [ "$(cat "$PKG_STAMP")" != "$PKG_HASH" ]; then
  echo "setup: installing the polaroid Python package (python/)"
  .venv/bin/pip install -q --no-deps --no-build-isolation ./python >/dev/null
  rm -rf python/build python/*.egg-info
  echo "$PKG_HASH" > "$PKG_STAMP"
fi
