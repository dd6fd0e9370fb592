"""Shared fixtures for the interop tests: the polaroid binary (env POLAROID, default build/polaroid)."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def polaroid():
    path = pathlib.Path(os.environ.get("POLAROID", ROOT / "build" / "polaroid"))
    if not path.is_absolute():
        path = ROOT / path
    if not path.exists():
        pytest.fail(f"polaroid binary not found at {path} (build it with `make build`)")
    return str(path)
