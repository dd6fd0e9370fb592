#!/usr/bin/env bash
# Regenerates the Python stubs of the protocol (python/polaroid/_proto/) with grpcio-tools:
#   proto/polaroid/v1/polaroid.proto -> polaroid_pb2.py, polaroid_pb2.pyi, polaroid_pb2_grpc.py
#   proto/grpc/health/v1/health.proto -> health_pb2.py, health_pb2.pyi, health_pb2_grpc.py
# The stubs are committed; run this (or `make proto`) after changing a .proto file. The generated
# absolute imports ("from polaroid.v1 import polaroid_pb2") are rewritten to relative ones so the
# stubs live inside the package without clashing with its name.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=python/polaroid/_proto
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PY" -m grpc_tools.protoc -I proto --python_out="$TMP" --pyi_out="$TMP" --grpc_python_out="$TMP" \
  proto/polaroid/v1/polaroid.proto proto/grpc/health/v1/health.proto
mkdir -p "$OUT"
for f in polaroid_pb2.py polaroid_pb2.pyi polaroid_pb2_grpc.py; do
  cp "$TMP/polaroid/v1/$f" "$OUT/$f"
done
for f in health_pb2.py health_pb2.pyi health_pb2_grpc.py; do
  cp "$TMP/grpc/health/v1/$f" "$OUT/$f"
done
sed -i -e 's/^from polaroid\.v1 import polaroid_pb2 as /from . import polaroid_pb2 as /' \
       -e 's/^from grpc\.health\.v1 import health_pb2 as /from . import health_pb2 as /' \
       "$OUT"/*_pb2_grpc.py
if grep -n '^from \(polaroid\.v1\|grpc\.health\.v1\) import' "$OUT"/*.py; then
  echo "gen_proto_py: unrewritten import left in $OUT" >&2; exit 1
fi
[ -f "$OUT/__init__.py" ] || echo '"""Generated protocol stubs (scripts/gen_proto_py.sh); do not edit."""' > "$OUT/__init__.py"
echo "gen_proto_py: stubs written to $OUT"
