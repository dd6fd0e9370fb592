"""The light `polaroid` executable (src/cli/light/full.c): it links no gRPC library and replaces
itself (execv, same process id) with polaroid-full, next to it, for `serve`, `sql --server` and
`help serve`; everything else runs in it. Without polaroid-full those commands fail with a clear
message, the others still work."""
import os
import shutil
import subprocess

import pytest


def _needed(path):
    r = subprocess.run(["readelf", "-d", path], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("readelf not available")
    return [ln for ln in r.stdout.splitlines() if "(NEEDED)" in ln]


def _full(path):
    return os.path.join(os.path.dirname(os.path.abspath(path)), "polaroid-full")


def test_light_links_no_grpc(polaroid):
    if not os.path.exists(_full(polaroid.path)):
        pytest.skip("not the light/full build")
    needed = " ".join(_needed(polaroid.path))
    assert "grpc" not in needed and "gpr" not in needed, needed
    assert "grpc" in " ".join(_needed(_full(polaroid.path)))


def test_light_hands_grpc_commands_over(polaroid):
    if not os.path.exists(_full(polaroid.path)):
        pytest.skip("not the light/full build")
    for args in (["serve", "--help"], ["help", "serve"]):
        r = polaroid.ok(*args)
        assert "usage: polaroid serve" in r.text
    # sql --server: the client's own error (connection refused), not "no gRPC client"
    for args in (["sql", "--server", "127.0.0.1:1", "SELECT 1"],
                 ["sql", "--threads", "1", "--server=127.0.0.1:1", "SELECT 1"]):
        r = polaroid(*args)
        assert r.rc == 1 and "cannot reach the server" in r.err, r.err
    # a query that merely mentions --server after "--" or in its text stays local
    r = polaroid.ok("sql", "--format", "csv", "SELECT '--server' AS s")
    assert "--server" in r.text


def test_light_without_full(polaroid, tmp_path):
    if not os.path.exists(_full(polaroid.path)):
        pytest.skip("not the light/full build")
    lone = tmp_path / "polaroid"
    shutil.copy(polaroid.path, lone)
    p = subprocess.run([str(lone), "serve", "--listen", "127.0.0.1:0"], capture_output=True,
                       timeout=60)
    err = p.stderr.decode()
    assert p.returncode == 1, err
    assert "needs the gRPC build" in err and "polaroid-full" in err, err
    p = subprocess.run([str(lone), "sql", "--format", "csv", "SELECT 6 * 7 AS x"],
                       capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stdout.decode().split() == ["x", "42"], p.stderr.decode()
