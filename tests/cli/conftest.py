"""Fixtures for the CLI tests: the polaroid binary (env POLAROID, default build/polaroid) and a
runner that fails the test on any sanitizer report or signal."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr.decode("utf-8", "replace")

    @property
    def text(self):
        return self.out.decode("utf-8")


class Polaroid:
    def __init__(self, path):
        self.path = path

    def __call__(self, *args, stdin=None, timeout=120, env=None):
        p = subprocess.run([self.path, *map(str, args)], capture_output=True, timeout=timeout,
                           stdin=stdin, env=env)
        r = Result(p)
        assert r.rc >= 0, f"polaroid {args} killed by signal {-r.rc}: {r.err}"
        assert not any(m in r.err for m in SANITIZER_MARKERS), f"sanitizer report for {args}:\n{r.err}"
        return r

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.rc == 0, f"polaroid {args} exited {r.rc}: {r.err}"
        return r


@pytest.fixture(scope="session")
def polaroid():
    path = pathlib.Path(os.environ.get("POLAROID", ROOT / "build" / "polaroid"))
    if not path.is_absolute():
        path = ROOT / path
    if not path.exists():
        pytest.fail(f"polaroid binary not found at {path} (build it with `make build`)")
    return Polaroid(str(path))
