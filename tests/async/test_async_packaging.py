"""The package's optional dependencies: the extras declared in python/pyproject.toml, and the
message an optional import gives when its package is missing. No server needed."""

from __future__ import annotations

import asyncio
import sys

import pytest

from conftest import REPO

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_extras():
    meta = tomllib.loads((REPO / "python" / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    names = {k: {r.split(">")[0].split("=")[0].split("<")[0] for r in v} for k, v in extras.items()}
    assert names["async"] == {"websockets"}
    assert names["polars"] == {"polars"} and names["pandas"] == {"pandas"}
    # "all" is every runtime extra
    assert names["all"] >= names["async"] | names["polars"] | names["pandas"] | names["numpy"]
    # the asyncio client needs nothing beyond the base dependencies (grpc.aio is in grpcio)
    assert any(d.startswith("grpcio") for d in meta["dependencies"])


def test_websocket_stream_without_websockets_names_the_extra(monkeypatch):
    from polaroid.streaming import WebSocketDataStream

    for m in [m for m in sys.modules if m == "websockets" or m.startswith("websockets.")]:
        monkeypatch.delitem(sys.modules, m)
    monkeypatch.setitem(sys.modules, "websockets", None)  # import websockets -> ImportError

    async def main():
        async for _ in WebSocketDataStream("ws://127.0.0.1:1/feed").stream():
            pass

    with pytest.raises(ImportError, match=r"polaroid\[async\]"):
        asyncio.run(main())
