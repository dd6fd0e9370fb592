"""Error paths: every failure raises the PolaroidError subclass of its status with the server's
what/where/why, and the server stays healthy afterwards."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import polaroid as pd
from conftest import TOKEN, start_server


def test_missing_file(client):
    with pytest.raises(pd.NotFoundError) as ei:
        client.read_parquet("no/such/file.parquet").collect()
    e = ei.value
    assert e.code.name == "NOT_FOUND"
    assert "file.parquet" in str(e)
    assert e.what
    with pytest.raises(pd.NotFoundError):
        client.read_parquet("nothing_matches_*.parquet").collect()
    with pytest.raises(pd.NotFoundError):
        client.read_csv("missing.csv").schema


@pytest.mark.parametrize("path", ["corrupt.parquet", "truncated.parquet", "garbage.arrow"])
def test_corrupt_file(client, path):
    with pytest.raises(pd.PolaroidError) as ei:
        client.scan(path).collect()
    e = ei.value
    assert isinstance(e, (pd.DataLossError, pd.InvalidArgumentError)), repr(e)
    assert path in str(e) or (e.path or "").endswith(path)
    assert e.detail is not None and e.where


def test_plan_error_location_fields(client):
    """A bad plan's place in the plan is a field of the error (not only the message's prefix)."""
    with pytest.raises(pd.InvalidArgumentError) as ei:
        client.read_parquet("trades.parquet").filter(pd.col("pricee") > 1).collect()
    e = ei.value
    assert e.plan_path == "root.filter"
    assert e.detail.plan_path == "root.filter"
    assert e.what.startswith('column "pricee" not found'), e.what
    assert "plan root.filter" in e.where
    assert str(e).startswith("root.filter: ")  # the status message keeps the prefix
    # deeper: a literal without a value inside a select's first expression
    from polaroid._proto import polaroid_pb2 as pb
    rel = client.read_parquet("trades.parquet").relation
    plan = pb.Plan(root=pb.Relation(select=pb.Select(input=rel, exprs=[pb.NamedExpr(expr=pb.Expr(literal=pb.Literal()))])))
    with pytest.raises(pd.InvalidArgumentError) as ei:
        client.execute(plan).read_all()
    assert ei.value.plan_path.startswith("root.select.exprs[0]"), ei.value.plan_path
    # errors without a plan place have none
    with pytest.raises(pd.NotFoundError) as ei:
        client.read_parquet("no/such.parquet").collect()
    assert ei.value.plan_path in (None, "root.read")


def test_client_request_id_in_errors_and_logs(server, client):
    """The request id the client gives names the query in the error and the server's log."""
    with pytest.raises(pd.NotFoundError) as ei:
        client.execute(client.read_parquet("no/such.parquet"), request_id="my-query-42").read_all()
    assert ei.value.request_id == "my-query-42"
    import time
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "my-query-42" not in server.stderr_text:
        time.sleep(0.05)
    assert "request_id=my-query-42" in server.stderr_text


def test_bad_expression(client):
    df = client.read_parquet("trades.parquet")
    with pytest.raises(pd.InvalidArgumentError) as ei:
        df.filter("x >>> 1 AND").collect()
    e = ei.value
    assert e.sql_position is not None and 0 <= e.sql_position <= len("x >>> 1 AND")
    with pytest.raises(pd.InvalidArgumentError):
        client.sql("SELEKT 1").collect()
    with pytest.raises(pd.InvalidArgumentError):
        df.filter(pd.col("g") + 1 > "x").collect()  # string + int
    with pytest.raises(pd.InvalidArgumentError):
        df.select(pd.col("x").agg("no_such_aggregate")).collect()
    with pytest.raises(pd.InvalidArgumentError):
        df.filter(pd.col("x")).collect()  # not a boolean


def test_unknown_column(client):
    df = client.read_parquet("trades.parquet")
    for bad in (lambda: df.select("nope"), lambda: df.filter(pd.col("nope") > 1),
                lambda: df.filter("nope > 1"), lambda: df.sort("nope"),
                lambda: df.group_by("nope").agg(pd.len_())):
        with pytest.raises((pd.InvalidArgumentError, pd.NotFoundError)) as ei:
            bad().collect()
        assert "nope" in str(ei.value)
    with pytest.raises((pd.InvalidArgumentError, pd.NotFoundError)):
        df.select("nope").schema


@pytest.mark.parametrize("path", ["../outside.parquet", "trades/../../x.parquet", "/etc/passwd",
                                  "link_out.parquet", "linkdir/secret.parquet", "linkdir/*.parquet"])
def test_path_escape(client, data, path):
    with pytest.raises(pd.PermissionDeniedError) as ei:
        client.read_parquet(path).collect()
    assert ei.value.code.name == "PERMISSION_DENIED"
    # writes too
    with pytest.raises(pd.PermissionDeniedError):
        client.read_parquet("groups.parquet").write_parquet(path if path != "linkdir/*.parquet" else "linkdir/w.parquet")
    assert not (data.root.parent / "x.parquet").exists()


def test_errors_leave_the_server_healthy(client):
    for _ in range(20):
        with pytest.raises(pd.PolaroidError):
            client.read_parquet("corrupt.parquet").collect()
    assert client.health() == "SERVING"
    assert len(client.read_parquet("groups.parquet")) == 5


@pytest.fixture(scope="module")
def token_server(data):
    tf = data.root.parent / "token.txt"
    tf.write_text(TOKEN + "\n")
    s = start_server(data.root, "--token-file", str(tf))
    yield s
    assert s.terminate() == 0


def test_token(token_server):
    with pd.Client(token_server.address, token=TOKEN) as ok:
        assert len(ok.read_parquet("groups.parquet")) == 5
    with pd.Client(token_server.address) as none:
        with pytest.raises(pd.UnauthenticatedError):
            none.read_parquet("groups.parquet").collect()
        with pytest.raises(pd.UnauthenticatedError):
            none.server_info()
    with pd.Client(token_server.address, token="wrong") as wrong:
        with pytest.raises(pd.UnauthenticatedError):
            wrong.read_parquet("groups.parquet").collect()
        with pytest.raises(pd.UnauthenticatedError):
            wrong.create_table("x", {"a": "BIGINT"})


def test_message_too_large(client):
    limit = client.server_info().limits.max_message_bytes
    if limit <= 0 or limit > 512 << 20:
        pytest.skip(f"the server's message limit is {limit}")
    n = limit // 8 + (1 << 17)
    big = pa.table({"a": np.zeros(n, dtype=np.int64)})
    with pytest.raises(pd.ResourceExhaustedError):
        client.from_arrow(big).collect()
    # a client-side send limit fails before sending
    with pd.Client(client.target, max_send_message_bytes=1024) as small:
        with pytest.raises(pd.ResourceExhaustedError):
            small.from_arrow(pa.table({"a": np.zeros(1000, dtype=np.int64)})).collect()
    assert client.health() == "SERVING"


def test_request_timeout(client):
    k = client.read_parquet("k20k.parquet")
    slow = k.join(k.rename({"k": "k2"}), how="cross").filter("CAST(k + k2 AS VARCHAR) = 'x'")
    with pytest.raises(pd.DeadlineExceededError):
        slow.collect(timeout=0.3)
    assert client.health() == "SERVING"


def test_server_query_timeout(data):
    s = start_server(data.root, "--query-timeout", "1")
    try:
        with pd.Client(s.address) as c:
            assert c.server_info().limits.query_timeout_ms == 1000
            k = c.read_parquet("k20k.parquet")
            slow = k.join(k.rename({"k": "k2"}), how="cross").filter("CAST(k + k2 AS VARCHAR) = 'x'")
            import time

            t0 = time.monotonic()
            with pytest.raises(pd.DeadlineExceededError):
                slow.collect()
            assert time.monotonic() - t0 < 10
            assert len(c.read_parquet("groups.parquet")) == 5
    finally:
        assert s.terminate() == 0


def test_closed_client(server):
    c = pd.Client(server.address)
    c.close()
    with pytest.raises(pd.PolaroidError):
        c.read_parquet("groups.parquet").collect()


@pytest.fixture(scope="module")
def tls_files(data):
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    d = data.root.parent / "tls"
    d.mkdir(exist_ok=True)
    key, cert = d / "key.pem", d / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_tls(data, tls_files):
    cert, key = tls_files
    tf = data.root.parent / "token-tls.txt"
    tf.write_text(TOKEN + "\n")
    s = start_server(data.root, "--tls-cert", str(cert), "--tls-key", str(key), "--token-file", str(tf))
    try:
        with pd.Client(s.address, root_certificates=str(cert), token=TOKEN) as c:
            assert len(c.read_parquet("groups.parquet")) == 5
            assert c.health() == "SERVING"
        with pd.Client(s.address, root_certificates=cert.read_bytes(), token="wrong") as c:
            with pytest.raises(pd.UnauthenticatedError):
                c.read_parquet("groups.parquet").collect()
        # a plaintext client cannot talk to a TLS server
        with pd.Client(s.address, token=TOKEN, timeout=3) as c:
            with pytest.raises((pd.UnavailableError, pd.DeadlineExceededError)):
                c.server_info()
    finally:
        assert s.terminate() == 0
