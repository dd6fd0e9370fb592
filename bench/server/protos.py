"""Python stubs of polaroid.v1 for the server benchmark (peer_polars_aio.py, the clients).

Uses python/polaroid/_proto when the package provides it (the "polaroid" Python package);
otherwise generates top-level modules polaroid_pb2 / polaroid_pb2_grpc (not a package named
polaroid, which would shadow the real one) with grpcio-tools from proto/polaroid/v1/polaroid.proto
into build/bench-proto (ignored; regenerated when the .proto is
newer). `load()` returns (pb2, pb2_grpc).
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO = os.path.join(ROOT, "proto", "polaroid", "v1", "polaroid.proto")
OUT = os.path.join(ROOT, "build", "bench-proto")


def generate():
    target = os.path.join(OUT, "polaroid_pb2.py")
    if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(PROTO):
        return
    os.makedirs(OUT, exist_ok=True)
    r = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.dirname(PROTO),
                        f"--python_out={OUT}", f"--grpc_python_out={OUT}", PROTO],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"bench: generating Python stubs failed: {r.stderr}")


def load(prefer_package=True):
    """The package's stubs when `polaroid._proto` imports (one process must not load both: the
    message names would clash in protobuf's descriptor pool), else ours."""
    if prefer_package:
        try:
            from polaroid._proto import polaroid_pb2, polaroid_pb2_grpc  # noqa: F401
            return polaroid_pb2, polaroid_pb2_grpc
        except ImportError:
            pass
    generate()
    if OUT not in sys.path:
        sys.path.insert(0, OUT)
    import polaroid_pb2  # noqa: E402
    import polaroid_pb2_grpc  # noqa: E402
    return polaroid_pb2, polaroid_pb2_grpc
