"""Tests of `polaroid sql --server` (src/cli/sql.c over src/server/client.c) and of the server's
observability (--metrics-listen, --log-format): a real `polaroid serve` on a free loopback port
over generated data; every query's output through the server is compared byte for byte with the
local `polaroid sql` run in the data root (itself tested against DuckDB in test_sql_cli.py), and
Parquet output is compared with pyarrow. Errors keep their message, exit code and caret.

Run with POLAROID=<binary> (default build/polaroid); `make cli` uses the ASan build.
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import time
import urllib.request

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from conftest import SANITIZER_MARKERS

READY_RE = re.compile(r"listening on (\S+?), data root")
TOKEN = "t0ken-for-cli-tests"


def make_data(root):
    rng = np.random.default_rng(11)
    n = 5000
    t = pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "g": pa.array(np.array(["a", "b", "c", "d"], dtype=object)[rng.integers(0, 4, n)],
                      mask=rng.random(n) < 0.05, type=pa.string()),
        "x": pa.array(np.round(rng.normal(10, 3, n), 4), mask=rng.random(n) < 0.1),
        "q": pa.array(rng.integers(-50, 50, n).astype(np.int32)),
        "name": pa.array([f"n\"{i % 13},é" for i in range(n)]),
    })
    # plain (not dictionary) strings: the server sends dictionary columns decoded, which the
    # table format's type line would show
    (root / "parts").mkdir()
    for i in range(3):
        pq.write_table(t.slice(i * 1700, 1700), root / "parts" / f"p{i}.parquet",
                       use_dictionary=False)
    pq.write_table(t, root / "t.parquet", row_group_size=1000, use_dictionary=False)
    pacsv.write_csv(t, root / "t.csv")
    return t


class Serve:
    def __init__(self, binary, root, *args):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.log = root.parent / f"serve-{os.getpid()}-{time.monotonic_ns()}.log"
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-root",
                                      str(root), "--threads", "2", *args],
                                     stdout=subprocess.PIPE, stderr=self._log, env=env)
        self.address = None
        buf = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and b"\n" not in buf:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        m = READY_RE.search(buf.decode(errors="replace"))
        if not m:
            self.stop()
            raise RuntimeError(f"polaroid serve did not start: {buf!r} {self.stderr}")
        self.address = m.group(1)

    @property
    def stderr(self):
        return self.log.read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        rc = self.proc.returncode
        err = self.stderr
        assert not any(m in err for m in SANITIZER_MARKERS), f"sanitizer report in serve:\n{err}"
        return rc


def serve_missing(binary):
    r = subprocess.run([binary, "serve", "--help"], capture_output=True, timeout=60)
    return r.returncode != 0 and b"unknown command" in (r.stdout + r.stderr)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("sqlroot")
    make_data(root)
    return root


@pytest.fixture(scope="module")
def server(polaroid, root):
    if serve_missing(polaroid.path):
        pytest.skip("this binary has no serve command yet")
    s = Serve(polaroid.path, root)
    yield s
    assert s.stop() == 0


def local(polaroid, root, *args):
    """`polaroid sql` run in the data root (relative paths mean the same files)."""
    p = subprocess.run([polaroid.path, "sql", *args], capture_output=True, timeout=120, cwd=root)
    err = p.stderr.decode(errors="replace")
    assert not any(m in err for m in SANITIZER_MARKERS), err
    return p.returncode, p.stdout, err


def remote(polaroid, server, *args):
    r = polaroid("sql", "--server", server.address, *args)
    return r.rc, r.out, r.err


QUERIES = [
    "SELECT * FROM 't.parquet' ORDER BY id LIMIT 20",
    "SELECT g, count(*) AS n, sum(q) AS s, round(avg(x), 6) AS ax FROM 'parts/*.parquet' "
    "GROUP BY g ORDER BY g NULLS LAST",
    "SELECT id, name, x * 2 AS x2 FROM read_parquet('t.parquet') WHERE q > 40 ORDER BY id",
    "SELECT count(*) FROM read_csv('t.csv')",
    "SELECT 1 AS one, 'two' AS two, NULL::int AS three",
    "SELECT * FROM 't.parquet' WHERE id < 0",  # no rows: the schema alone
]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
@pytest.mark.parametrize("sql", QUERIES)
def test_same_output_as_local(polaroid, root, server, sql, fmt):
    lrc, lout, lerr = local(polaroid, root, "--format", fmt, sql)
    assert lrc == 0, lerr
    rrc, rout, rerr = remote(polaroid, server, "--format", fmt, sql)
    assert rrc == 0, rerr
    assert rout == lout


def test_big_result_many_messages(polaroid, root, server, tmp_path):
    """A result larger than one response message (1 MiB) arrives whole and in order."""
    sql = "SELECT a.id, a.name, b.id AS id2 FROM 't.parquet' a, (SELECT id FROM 't.parquet' " \
          "WHERE id < 60) b ORDER BY a.id, id2"
    lrc, lout, lerr = local(polaroid, root, "--format", "csv", sql)
    assert lrc == 0, lerr
    rrc, rout, rerr = remote(polaroid, server, "--format", "csv", sql)
    assert rrc == 0, rerr
    assert len(rout) > 4 << 20
    assert rout == lout


def test_parquet_output_and_count(polaroid, root, server, tmp_path):
    out = tmp_path / "r.parquet"
    sql = "SELECT id, g, x FROM 't.parquet' WHERE q BETWEEN -5 AND 5 ORDER BY id"
    rrc, _, rerr = remote(polaroid, server, "-o", out, sql)
    assert rrc == 0, rerr
    t = pq.read_table(root / "t.parquet")
    keep = pc.and_(pc.greater_equal(t["q"], -5), pc.less_equal(t["q"], 5))
    want = t.filter(keep).select(["id", "g", "x"]).sort_by("id").to_pylist()
    got = pq.read_table(out).to_pylist()  # dictionary columns decode to plain values
    assert got == want
    rrc, rout, rerr = remote(polaroid, server, "--format", "none", sql)
    assert rrc == 0, rerr
    assert rout.decode() == f"{len(want)} rows\n"


def test_sql_from_stdin_and_file(polaroid, root, server, tmp_path):
    f = tmp_path / "q.sql"
    f.write_text("-- a comment\nSELECT count(*) AS n FROM 't.parquet';\n")
    rrc, rout, rerr = remote(polaroid, server, "--format", "csv", "-f", f)
    assert rrc == 0, rerr
    assert rout == b"n\n5000\n"
    with open(f, "rb") as fh:
        r = polaroid("sql", "--server", server.address, "--format", "csv", stdin=fh)
    assert r.rc == 0, r.err
    assert r.out == b"n\n5000\n"
    # nothing but comments: nothing to do, like the local run
    f.write_text("-- nothing\n")
    rrc, rout, rerr = remote(polaroid, server, "-f", f)
    assert (rrc, rout) == (0, b"")


@pytest.mark.parametrize("sql", [
    "SELECT * FROM 'missing.parquet'",
    "SELECT nope FROM 't.parquet'",
    "SELECT * FRM 't.parquet'",
    "SELECT id FROM 't.parquet'\nWHERE id = 'x' + ",
])
def test_errors_as_local(polaroid, root, server, sql):
    """The server's error reaches the user as the local one would: exit 1, same message (paths
    relative to the data root), the caret under the same position."""
    lrc, lout, lerr = local(polaroid, root, sql)
    rrc, rout, rerr = remote(polaroid, server, sql)
    assert lrc == 1 and rrc == 1, (lerr, rerr)
    assert rout == b""
    assert rerr == lerr


SCRIPT_A = """CREATE TABLE cli_t (id BIGINT, g VARCHAR, x DOUBLE);
INSERT INTO cli_t SELECT id, g, x FROM 't.parquet' WHERE id % 37 = 0;
INSERT INTO cli_t VALUES (100000, 'z', 1.25), (100001, NULL, NULL);
CREATE VIEW cli_v AS SELECT g, count(*) AS n, round(sum(x), 4) AS sx FROM cli_t GROUP BY g;
SELECT * FROM cli_v ORDER BY g NULLS LAST;
"""
SCRIPT_B = """SHOW TABLES; DESCRIBE cli_t ; -- forms rewritten before parsing
INSERT INTO cli_t SELECT id + 200000, g, x FROM cli_t WHERE g = 'a';
SELECT count(*) AS n, max(id) AS hi FROM cli_t;
FROM cli_v WHERE n > 10 ORDER BY g;
DROP VIEW cli_v;
DROP TABLE cli_t;
"""


def test_script_changes_server_tables(polaroid, root, server, tmp_path):
    """A script of DDL, INSERT and queries through the server prints what the local run
    prints; the tables and views it makes stay on the server for the next run."""
    (tmp_path / "all.sql").write_text(SCRIPT_A + SCRIPT_B)
    lrc, lout, lerr = local(polaroid, root, "--format", "csv", "-f", tmp_path / "all.sql")
    assert lrc == 0, lerr
    (tmp_path / "a.sql").write_text(SCRIPT_A)
    (tmp_path / "b.sql").write_text(SCRIPT_B)
    rrc, rout_a, rerr = remote(polaroid, server, "--format", "csv", "-f", tmp_path / "a.sql")
    assert rrc == 0, rerr
    rrc, rout_b, rerr = remote(polaroid, server, "--format", "csv", "-f", tmp_path / "b.sql")
    assert rrc == 0, rerr
    assert rout_a + rout_b == lout
    # dropped: gone for the next request
    rrc, _, rerr = remote(polaroid, server, "SELECT * FROM cli_t")
    assert rrc == 1 and "cli_t" in rerr


def test_script_error_position(polaroid, root, server, tmp_path):
    """An error in the third statement points into the whole script, as locally; the
    statements before it are done."""
    script = ("CREATE TABLE cli_e (a INTEGER);\nINSERT INTO cli_e VALUES (1);\n"
              "INSERT INTO cli_e VALUES (nosuch);\n")
    f = tmp_path / "e.sql"
    f.write_text(script)
    lrc, _, lerr = local(polaroid, root, "-f", f)
    rrc, rout, rerr = remote(polaroid, server, "-f", f)
    assert lrc == 1 and rrc == 1, (lerr, rerr)
    assert rerr == lerr
    rrc, rout, rerr = remote(polaroid, server, "--format", "csv",
                             "SELECT count(*) AS n FROM cli_e; DROP TABLE cli_e")
    assert rrc == 0, rerr
    assert rout == b"n\n1\n"


def test_path_escape_is_refused(polaroid, root, server):
    rrc, _, rerr = remote(polaroid, server, "SELECT * FROM '../secret.parquet'")
    assert rrc == 1
    assert "polaroid: " in rerr
    assert "data root" in rerr or "outside" in rerr or "permission" in rerr.lower(), rerr


def test_server_down(polaroid):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = polaroid("sql", "--server", f"127.0.0.1:{port}", "SELECT 1")
    assert r.rc == 1
    assert r.out == b""
    assert f'cannot reach the server at "127.0.0.1:{port}"' in r.err


def test_usage(polaroid, tmp_path):
    r = polaroid("sql", "--token-file", tmp_path / "tok", "SELECT 1")
    assert r.rc == 2 and "go with --server" in r.err
    r = polaroid("sql", "--server", "", "SELECT 1")
    assert r.rc == 2


def test_tokens(polaroid, root, tmp_path):
    if serve_missing(polaroid.path):
        pytest.skip("this binary has no serve command yet")
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKEN + "\n")
    s = Serve(polaroid.path, root, "--token-file", tokens)
    try:
        good = tmp_path / "good"
        good.write_text(f"  {TOKEN}  \nignored second line\n")
        r = polaroid("sql", "--server", s.address, "--token-file", good, "--format", "csv",
                     "SELECT count(*) AS n FROM 't.parquet'")
        assert r.rc == 0, r.err
        assert r.out == b"n\n5000\n"
        r = polaroid("sql", "--server", s.address, "SELECT 1")
        assert r.rc == 1 and r.out == b""
        assert "token" in r.err.lower(), r.err
        bad = tmp_path / "bad"
        bad.write_text("wrong\n")
        r = polaroid("sql", "--server", s.address, "--token-file", bad, "SELECT 1")
        assert r.rc == 1 and "token" in r.err.lower(), r.err
        empty = tmp_path / "empty"
        empty.write_text("\n")
        r = polaroid("sql", "--server", s.address, "--token-file", empty, "SELECT 1")
        assert r.rc == 1 and "first line is empty" in r.err
        r = polaroid("sql", "--server", s.address, "--token-file", tmp_path / "none", "SELECT 1")
        assert r.rc == 1 and "cannot read the token file" in r.err
    finally:
        assert s.stop() == 0


# ---------------------------------------------------------------- observability


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return resp.read().decode()


def samples(text):
    """name{labels} -> value, checking every line's shape."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)', line)
        assert m, line
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def test_grpc_core_lines_are_json_lines_too(polaroid, root, monkeypatch):
    """gRPC core's own log lines (here its API trace) come out through polaroid's logger: with
    --log-format json every line of the server's standard error is a JSON object."""
    if serve_missing(polaroid.path):
        pytest.skip("this binary has no serve command yet")
    monkeypatch.setenv("GRPC_VERBOSITY", "info")
    monkeypatch.setenv("GRPC_TRACE", "api")
    s = Serve(polaroid.path, root, "--log-format", "json")
    try:
        r = polaroid("sql", "--server", s.address, "--format", "csv", "SELECT 1 AS x")
        assert r.rc == 0, r.err
    finally:
        assert s.stop() == 0
    lines = [ln for ln in s.stderr.splitlines() if ln.strip()]
    objs = [json.loads(ln) for ln in lines]  # raises on any line that is not JSON
    grpc_lines = [o for o in objs if o.get("source") == "grpc"]
    assert grpc_lines, s.stderr[:2000]
    assert all(o["level"] in ("info", "error", "debug") and o["file"] and o["line"] > 0
               and "msg" in o for o in grpc_lines)
    assert any(o.get("method") == "Execute" and o.get("status") == "OK" for o in objs)


def test_metrics_and_json_logs(polaroid, root):
    if serve_missing(polaroid.path):
        pytest.skip("this binary has no serve command yet")
    s = Serve(polaroid.path, root, "--metrics-listen", "127.0.0.1:0", "--log-format", "json")
    try:
        m = None
        for _ in range(100):
            m = re.search(r'metrics endpoint listening on http://(\S+?)/metrics', s.stderr)
            if m:
                break
            time.sleep(0.05)
        assert m, s.stderr
        url = f"http://{m.group(1)}/metrics"
        before = samples(scrape(url))
        assert before['polaroid_build_info{version="0.1.0"}'] == 1
        r = polaroid("sql", "--server", s.address, "--format", "csv",
                     "SELECT id FROM 't.parquet' ORDER BY id LIMIT 7")
        assert r.rc == 0, r.err
        r = polaroid("sql", "--server", s.address, "SELECT * FROM 'missing.parquet'")
        assert r.rc == 1
        # the server counts a call just after its status went out: wait for the second one
        for _ in range(100):
            after = samples(scrape(url))
            if after.get('polaroid_call_duration_seconds_count{method="Execute"}', 0) >= 2:
                break
            time.sleep(0.05)
        assert after.get('polaroid_calls_total{method="Execute",code="OK"}', 0) == 1
        assert after.get('polaroid_calls_total{method="Execute",code="NOT_FOUND"}', 0) == 1
        assert after['polaroid_call_duration_seconds_count{method="Execute"}'] == 2
        assert after['polaroid_rows_streamed_total'] == 7
        assert after['polaroid_bytes_streamed_total'] > 0
        assert after['polaroid_connected_clients'] >= 1
        assert after['polaroid_running_queries'] == 0
        assert after['polaroid_queue_depth'] == 0
        # other paths 404
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url.replace("/metrics", "/other"), timeout=10)
        assert e.value.code == 404
    finally:
        assert s.stop() == 0
    # one JSON object per call in the log, with a request id
    calls = []
    for line in s.stderr.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            if obj.get("method") == "Execute":
                calls.append(obj)
    assert [c["status"] for c in calls] == ["OK", "NOT_FOUND"], s.stderr
    assert calls[0]["rows"] == 7 and calls[0]["level"] == "info"
    assert re.fullmatch(r"[0-9a-zA-Z_-]{8,40}", calls[0]["request_id"])
    assert calls[0]["request_id"] != calls[1]["request_id"]
    assert "missing.parquet" in calls[1]["msg"]
    assert calls[0]["peer"].startswith("ipv4:127.0.0.1:")
