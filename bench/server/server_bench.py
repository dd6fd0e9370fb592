#!/usr/bin/env python3
"""The server group of `make bench` (bench/README.md, "Server group"): `polaroid serve` against
the servers a user would run instead, each started here on loopback:

  polaroid       build/polaroid serve (polaroid.v1, gRPC C core)
  polars-aio     bench/server/peer_polars_aio.py: Python grpc.aio over Polars, same protocol
  flight-duckdb  bench/server/peer_flight_duckdb.py: Arrow Flight (pyarrow.flight) over DuckDB

Parts (--parts, default all):
  point   an equality filter on the sorted key of a 1 M-row server-side table (4 rows back) under
          a closed-loop load of C callers over N connections (1/1, 50/50, 500/50, 500/500):
          QPS, p50/p99, server and load-generator CPU per query. The load generator is
          bench/server/loadgen.c (gRPC C core; --loadgen ghz uses ghz instead, both = both).
  stream  the 20 M x 10 table (200 M cells, 1.6 GB as Arrow) streamed into a pyarrow Table in a
          Python client process: GB/s, server and client CPU.
  seed    the 50 tick files read through the server and collected in Python vs Polars reading
          them in-process (pl.read_parquet) (--small: the 5 sample files).

  bench/run.py --group server [--reps N] [--small] [--engines ...] [--server-parts point,stream]
  bench/server/server_bench.py [--reps N] [--parts ...] [--duration S] [--loads 1/1,50/50] ...

Writes build/bench/server.json; prints a table per part, ratios to the peers and the issue's goals.
"""
import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import run as R  # noqa: E402  (run_child, compile helpers, memory guard)

ENGINES = ["polaroid", "polars-aio", "flight-duckdb"]
PEERS = ["polars-aio", "flight-duckdb"]
PARTS = ["point", "stream", "seed"]
LOADS = [(1, 1), (50, 50), (500, 50), (500, 500)]
DATA_ROOT = "data"  # servers' data root (relative to ROOT); data/ is the repository's data dir
SERVER_DATA = "bench/server"  # gen_server.py's output, under the data root
GIB = 1024 ** 3
EXECUTE = "/polaroid.v1.Polaroid/Execute"
DOGET = "/arrow.flight.protocol.FlightService/DoGet"
# The goals (issue 7, "What it must show")
GOALS = {"qps_500_50": 15000, "p99_ms_500_50": 50, "qps_500_500": 8000, "p99_ms_500_500": 100,
         "server_us_per_query": 60, "x_aio": 5.0, "x_flight": 2.0, "stream_gbps": 1.0,
         "shm_gbps": 4.0}


def py():
    return R._python()


def clk_tck():
    return os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """utime + stime (seconds) of a process and its threads, or None."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / clk_tck()
    except (OSError, IndexError, ValueError):
        return None


def proc_rss(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# ------------------------------------------------------------------ servers

class Server:
    """A server process started on 127.0.0.1:0; `addr` from its ready line."""

    READY = re.compile(r"((?:\d{1,3}\.){3}\d{1,3}|localhost|\[[0-9a-fA-F:]+\]):(\d+)")

    def __init__(self, engine, argv, env=None, ready_timeout=300.0):
        self.engine = engine
        self.argv = argv
        logdir = os.path.join(ROOT, "build", "bench", "server")
        os.makedirs(logdir, exist_ok=True)
        self.log_path = os.path.join(logdir, engine + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.log,
                                     start_new_session=True, text=True, bufsize=1)
        self.pid = self.proc.pid
        self.addr = None
        self.ready_line = None
        box = {}

        def reader():
            for line in self.proc.stdout:
                self.log.write(line)
                self.log.flush()
                if "addr" not in box:
                    m = self.READY.search(line)
                    if m:
                        box["addr"] = f"{m.group(1)}:{m.group(2)}"
                        box["line"] = line.strip()
                        got.set()
            got.set()

        got = threading.Event()
        self._th = threading.Thread(target=reader, daemon=True)
        self._th.start()
        t0 = time.time()
        while not got.wait(0.2):
            if time.time() - t0 > ready_timeout:
                self.stop()
                raise RuntimeError(f"{engine}: no ready line within {ready_timeout:g}s")
        if "addr" not in box:
            rc = self.proc.wait()
            raise RuntimeError(f"{engine}: exited ({rc}) before it was ready: "
                               f"{R._last_lines(open(self.log_path).read(), 3)}")
        self.addr = box["addr"]
        self.ready_line = box["line"]
        self.start_seconds = time.time() - t0

    def cpu(self):
        return proc_cpu(self.pid)

    def rss(self):
        return proc_rss(self.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.proc.wait()
        self._th.join(5)
        self.log.close()
        return self.proc.returncode


def start_server(engine, tables, a):
    """Starts one engine's server with the given server-side tables {name: path under root}."""
    env = dict(os.environ)
    threads = str(a.threads)
    env["POLARS_MAX_THREADS"] = threads
    if engine == "polaroid":
        exe = os.path.join(ROOT, a.polaroid)
        if not os.path.exists(exe):
            raise RuntimeError(f"{a.polaroid} not found (make build)")
        argv = [exe, "serve", "--listen", "127.0.0.1:0", "--data-root", DATA_ROOT,
                "--threads", threads] + a.polaroid_arg
        s = Server(engine, argv, env)
        s.setup, s.setup_error = {}, None
        if tables and "table" in a.polaroid_sources:
            r = R.run_child([py(), os.path.join(HERE, "client.py"), "create-tables", s.addr] +
                            [f"{n}={p}" for n, p in tables.items()], timeout=900)
            res = R._bench_result(r["stdout"]) if r["rc"] == 0 else None
            if res is None:
                s.setup_error = ("CreateTable failed: " +
                                 (R._last_lines(r["stderr"], 1, 200) or "no output"))
                print(f"  polaroid: {s.setup_error}; only the file source is measured")
            else:
                s.setup = res
        return s
    table_args = []
    for n, p in tables.items():
        table_args += ["--table", f"{n}={p}"]
    if engine == "polars-aio":
        argv = [py(), os.path.join(HERE, "peer_polars_aio.py"), "--listen", "127.0.0.1:0",
                "--data-root", DATA_ROOT] + table_args
    elif engine == "flight-duckdb":
        argv = [py(), os.path.join(HERE, "peer_flight_duckdb.py"), "--listen", "127.0.0.1:0",
                "--data-root", DATA_ROOT, "--threads", threads] + table_args
    else:
        raise RuntimeError(f"unknown engine {engine}")
    s = Server(engine, argv, env)
    s.setup, s.setup_error = {}, None
    return s


def start_all(engines, tables, a):
    servers, errors = {}, {}
    for e in engines:
        try:
            servers[e] = start_server(e, tables, a)
            print(f"  {e}: serving on {servers[e].addr} (ready in {servers[e].start_seconds:.1f}s"
                  f"{', tables ' + json.dumps(servers[e].setup) if servers[e].setup else ''})",
                  flush=True)
        except RuntimeError as ex:
            errors[e] = str(ex)
            print(f"  {e}: cannot start: {ex}", flush=True)
    return servers, errors


def stop_all(servers):
    for e, s in servers.items():
        rc = s.stop()
        if rc not in (0, -signal.SIGTERM, None):
            print(f"  {e}: exited {rc} at shutdown (log: {os.path.relpath(s.log_path, ROOT)})")


# ------------------------------------------------------------------ load generators

def build_loadgen():
    src = os.path.join(HERE, "loadgen.c")
    exe = os.path.join(ROOT, "build", "bench", "loadgen")
    if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
        return exe
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    r = subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", exe, src, "-lgrpc", "-lgpr",
                        "-lpthread"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"bench: cannot build {src}: {R._last_lines(r.stderr, 3)}")
    return exe


def install_ghz():
    r = subprocess.run([os.path.join(HERE, "install_ghz.sh")], cwd=ROOT)
    exe = os.path.join(ROOT, "build", "tools", "ghz")
    return exe if r.returncode == 0 and os.path.exists(exe) else None


def make_requests(a):
    """Request files for loadgen: build/bench/server/req_{polaroid,flight}.bin."""
    out = os.path.join(ROOT, "build", "bench", "server")
    r = R.run_child([py(), os.path.join(HERE, "client.py"), "make-requests", out,
                     str(a.point_keys)], timeout=300)
    if r["rc"] != 0:
        raise SystemExit("bench: making requests failed: " + R._last_lines(r["stderr"], 3))
    return {("polaroid", "table"): os.path.join(out, "req_polaroid_table.bin"),
            ("polaroid", "read"): os.path.join(out, "req_polaroid_read.bin"),
            ("polaroid", "limit"): os.path.join(out, "req_polaroid_limit.bin"),
            ("polars-aio", "table"): os.path.join(out, "req_aio.bin"),
            ("flight-duckdb", "table"): os.path.join(out, "req_flight.bin")}


def perf_start(server, name, seconds):
    """perf record (call graphs) of the server process for `seconds`, or None."""
    base = os.path.join(ROOT, "build", "bench", "server",
                        "perf-" + re.sub(r"[^A-Za-z0-9]+", "_", name))
    try:
        p = subprocess.Popen(["perf", "record", "-F", "997", "-g", "-p", str(server.pid), "-o",
                              base + ".data", "--", "sleep", f"{seconds:g}"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as e:
        print(f"  perf: {e}")
        return None
    return (p, base)


def perf_finish(handle):
    if handle is None:
        return None
    p, base = handle
    _, err = p.communicate()
    if p.returncode != 0:
        print(f"  perf record failed: {R._last_lines(err.decode(errors='replace'), 2)}")
        return None
    with open(base + ".txt", "w") as fh:
        for args in (["--no-children", "--sort", "dso,sym", "-g", "none"],
                     ["--no-children", "--sort", "dso", "-g", "none"]):
            r = subprocess.run(["perf", "report", "-i", base + ".data", "--stdio"] + args,
                               capture_output=True, text=True)
            lines = [ln for ln in r.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
            fh.write("\n".join(lines[:80]) + "\n\n")
    print(f"  perf profile of the server: {os.path.relpath(base + '.txt', ROOT)} "
          f"(perf report -i {os.path.relpath(base + '.data', ROOT)})")
    return os.path.relpath(base + ".txt", ROOT)


def run_loadgen(exe, server, reqfile, callers, conns, a, perf_name=None):
    method = DOGET if server.engine == "flight-duckdb" else EXECUTE
    argv = [exe, "--target", server.addr, "--method", method, "--requests", reqfile,
            "--callers", str(callers), "--connections", str(conns), "--threads",
            str(a.loadgen_threads), "--duration", str(a.duration), "--warmup", str(a.warmup),
            "--server-pid", str(server.pid)]
    prof = None
    if perf_name:
        # starts with the load; the warm-up is profiled too
        prof = perf_start(server, perf_name, a.duration + a.warmup)
    r = R.run_child(argv, timeout=a.duration + a.warmup + 120)
    prof_txt = perf_finish(prof)
    for line in r["stdout"].splitlines():
        if line.startswith("LOADGEN "):
            res = json.loads(line[len("LOADGEN "):])
            res["tool"] = "loadgen"
            if prof_txt:
                res["perf"] = prof_txt
            return res
    return {"error": f"loadgen exit {r['rc']}: " + (R._last_lines(r["stderr"], 2) or
                                                    R._last_lines(r["stdout"], 2))}


GHZ_DATA = ('{"plan":{"root":{"filter":{"input":%s,"predicate":{"call":{"function":"eq","args":'
            '[{"column":{"name":"key"}},{"literal":{"int64Value":"{{randomInt 0 %d}}"}}]}}}}}}')


def ghz_client_cpu(argv):
    """Runs argv, returns (stdout bytes, stderr bytes, client CPU seconds from wait4)."""
    p = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = [], []
    t1 = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
    t2 = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
    t1.start()
    t2.start()
    _, status, ru = os.wait4(p.pid, 0)
    t1.join()
    t2.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    return out[0], err[0], ru.ru_utime + ru.ru_stime


# ------------------------------------------------------------------ the parts

def _client(argv, a):
    r = R.run_child([py(), os.path.join(HERE, "client.py")] + argv, timeout=a.timeout,
                    guard_bytes=int(a.mem_guard * GIB))
    if r["killed"]:
        return {"error": "killed: " + r["killed"]}
    res = R._bench_result(r["stdout"]) if r["rc"] == 0 else None
    if res is None:
        return {"error": f"exit {r['rc']}: " + (R._last_lines(r["stderr"], 1, 200) or
                                                "no output")}
    return res


def point_name(engine, source):
    return {"table": engine, "read": f"{engine} (file)",
            "limit": f"{engine} (floor: limit 4)"}[source]


def part_point(engines, a, out):
    print("bench server: point queries (1 M-row server-side table, equality on the sorted key)",
          flush=True)
    tables = {"points": f"{SERVER_DATA}/points.parquet"}
    servers, errors = start_all(engines, tables, a)
    rows = out.setdefault("point", [])
    try:
        reqs = make_requests(a)
        lg = build_loadgen() if a.loadgen in ("c", "both") else None
        ghz = install_ghz() if a.loadgen in ("ghz", "both") else None
        if a.loadgen in ("ghz", "both") and not ghz:
            print("  ghz: not available (bench/server/install_ghz.sh failed)")
        # the measured targets: polaroid once per source (a live table, the Parquet file)
        targets = []
        for e in engines:
            s = servers.get(e)
            if s is None:
                continue
            for src in (a.polaroid_sources if e == "polaroid" else ["table"]):
                name = point_name(e, src)
                if e == "polaroid" and src in ("table", "limit") and s.setup_error:
                    rows.append({"engine": name, "error": s.setup_error})
                    continue
                targets.append({"name": name, "engine": e, "server": s, "source": src,
                                "reqs": reqs[(e, src)]})
        # same answer from every target (3 keys)
        verify = {}
        for t in targets:
            if t["source"] == "limit":
                continue
            got = []
            for k in (0, 123457, 249999):
                res = _client(["fetch", t["engine"], t["server"].addr, f"point:{k}", "--source",
                               t["source"]], a)
                got.append(res.get("checks", res.get("error")))
            verify[t["name"]] = got
        ref_name = next((e for e in PEERS if e in verify), next(iter(verify), None))
        ref = verify.get(ref_name)
        for n in verify:
            verify[n] = ("reference" if n == ref_name else "ok" if verify[n] == ref else
                         f"MISMATCH {verify[n]} != {ref_name}'s {ref}")
            if verify[n].startswith("MISMATCH"):
                print(f"  !!! {n}: point results differ: {verify[n]}")
        tools = [t for t, x in (("loadgen", lg), ("ghz", ghz)) if x]
        for rep in range(a.reps):
            for callers, conns in a.loads:
                for tool in tools:
                    for t in targets:
                        s, e = t["server"], t["name"]
                        if not s.alive():
                            rows.append({"engine": e, "callers": callers, "connections": conns,
                                         "tool": tool, "rep": rep,
                                         "error": "server died (log: "
                                                  f"{os.path.relpath(s.log_path, ROOT)})"})
                            continue
                        if tool == "loadgen":
                            prof = (f"{e}-{callers}-{conns}" if a.perf and rep == 0 and
                                    t["engine"] in a.perf else None)
                            m = run_loadgen(lg, s, t["reqs"], callers, conns, a, prof)
                        else:
                            m = run_ghz_measured(ghz, s, t["source"], callers, conns, a)
                        m.update(engine=e, callers=callers, connections=conns, rep=rep,
                                 check=verify.get(e))
                        rows.append(m)
                        tag = (f"{m['qps']:.0f} QPS p50 {m['p50_us'] / 1e3:.2f} ms p99 "
                               f"{m['p99_us'] / 1e3:.2f} ms, server "
                               f"{_per_call(m, 'server_cpu_s')} us/q, client "
                               f"{_per_call(m, 'client_cpu_s')} us/q"
                               + (f", {m['errors']} errors ({m.get('first_error', '')})"
                                  if m.get("errors") else "")
                               if "error" not in m else m["error"])
                        print(f"  point {callers}/{conns} {tool} rep {rep + 1}/{a.reps} {e}: "
                              f"{tag}", flush=True)
        for e, s in servers.items():
            out.setdefault("server_rss", {})[e] = s.rss()
    finally:
        stop_all(servers)
    for e, msg in errors.items():
        rows.append({"engine": e, "error": msg})


def run_ghz_measured(exe, server, source, callers, conns, a):
    if server.engine == "flight-duckdb":
        import base64
        proto = os.path.join(HERE, "flight_min.proto")
        call = "arrow.flight.protocol.FlightService/DoGet"
        data = json.dumps({"ticket": base64.b64encode(
            b"SELECT * FROM points WHERE key = 123457").decode()})
    else:
        proto = os.path.join(ROOT, "proto", "polaroid", "v1", "polaroid.proto")
        call = "polaroid.v1.Polaroid/Execute"
        src = ('{"table":{"name":"points"}}' if source == "table" else
               '{"read":{"paths":["%s/points.parquet"]}}' % SERVER_DATA)
        data = GHZ_DATA % (src, 249999)
    argv = [exe, "--insecure", "--proto", proto, "--call", call, "-d", data, "-c", str(callers),
            "--connections", str(conns), "-z", f"{a.duration}s", "-O", "json", server.addr]
    s0 = server.cpu()
    t0 = time.perf_counter()
    out_b, err_b, ccpu = ghz_client_cpu(argv)
    wall = time.perf_counter() - t0
    s1 = server.cpu()
    try:
        d = json.loads(out_b)
    except ValueError:
        return {"error": "ghz: " + R._last_lines(err_b.decode(errors="replace"), 2)}
    lat = {x["percentage"]: x["latency"] / 1e3 for x in d.get("latencyDistribution") or []}
    codes = d.get("statusCodeDistribution") or {}
    ok = codes.get("OK", 0)
    # ghz cancels the calls in flight when its time is up: those are not errors of the server
    errs = {k: v for k, v in codes.items() if k not in ("OK", "Canceled", "Unavailable")}
    return {"tool": "ghz", "calls": d["count"], "ok": ok, "errors": sum(errs.values()),
            "qps": ok / max(d["total"] / 1e9, 1e-9), "p50_us": lat.get(50) or 0,
            "p99_us": lat.get(99) or 0, "window_s": wall,
            "server_cpu_s": (s1 - s0) if s0 is not None and s1 is not None else -1,
            "client_cpu_s": ccpu, "status_codes": codes,
            "note": "ghz: CPU figures cover the whole run (start-up and connections included)"}


def _per_call(m, key):
    v = m.get(key)
    n = m.get("ok") or m.get("calls")
    if v is None or v < 0 or not n:
        return "-"
    if m.get("tool") == "loadgen":
        # loadgen's CPU window and its count of calls are the same window
        return f"{v / n * 1e6:.0f}"
    return f"{v / n * 1e6:.0f}"


VIA_NAMES = {"raw": "grpcio", "shm": "same-host shm", "pkg": "package, gRPC",
             "pkg-shm": "package, default (same-host shm)"}


def part_fetch(part, engines, a, out):
    """stream (the wide table) or seed (the tick files)."""
    if part == "stream":
        print("bench server: streaming 20 M x 10 (200 M cells) into a pyarrow Table", flush=True)
        tables = {"wide": f"{SERVER_DATA}/wide.parquet"}
        what = "wide"
    else:
        ticks = "sample/ticks" if a.small else "bench/ticks"
        print(f"bench server: the seed's case: data/{ticks}/*.parquet through the server into "
              f"pyarrow vs Polars in-process", flush=True)
        tables = {}
        what = f"ticks:{ticks}/*.parquet"
        engines = [e for e in engines if e != "polars-aio" or a.small]  # 15 GiB+ otherwise
    servers, errors = start_all(engines, tables, a)
    rows = out.setdefault(part, [])
    reps = a.reps if part == "stream" else min(a.reps, a.seed_reps)
    vias = (["raw"] + (["shm"] if a.shm else []) + (["pkg"] if a.via_pkg else []) +
            (["pkg-shm"] if a.via_pkg and a.shm else []))
    try:
        for rep in range(reps):
            jobs = []
            for e in engines:
                if e not in servers:
                    continue
                for via in (vias if e == "polaroid" else ["raw"]):
                    jobs.append((e, via))
            if part == "seed":
                jobs.append(("polars-in-process", "-"))
            for e, via in jobs:
                s = servers.get(e)
                if e == "polars-in-process":
                    argv = ["polars-read", os.path.join(DATA_ROOT, what[len("ticks:"):])]
                else:
                    argv = ["fetch", e, s.addr, what, "--via", via]
                    if e == "polaroid":
                        src = ("table" if "table" in a.polaroid_sources and not s.setup_error
                               else "read")
                        argv += ["--source", src]
                s0 = s.cpu() if s else None
                m = _client(argv, a)
                s1 = s.cpu() if s else None
                if s0 is not None and s1 is not None:
                    m["server_cpu_s"] = s1 - s0
                if s is not None:
                    m["server_rss"] = s.rss()
                name = e + (f" ({VIA_NAMES[via]})" if e == "polaroid" else "")
                m.update(engine=name, rep=rep)
                rows.append(m)
                if m.get("shared_memory") is False:
                    m["note"] = "the server answered over gRPC (no same-host file)"
                if "error" in m:
                    tag = m["error"]
                else:
                    tag = (f"{m['seconds']:.3f}s {m['nbytes'] / m['seconds'] / 1e9:.2f} GB/s, "
                           f"client CPU {m['cpu_s']:.2f}s" +
                           (f", server CPU {m['server_cpu_s']:.2f}s" if "server_cpu_s" in m
                            else ""))
                print(f"  {part} rep {rep + 1}/{reps} {name}: {tag}", flush=True)
    finally:
        stop_all(servers)
    for e, msg in errors.items():
        rows.append({"engine": e, "error": msg})


# ------------------------------------------------------------------ summary

def summarise(out, a):
    lines = []
    pt = [r for r in out.get("point", []) if "error" not in r]
    summary = {}
    if pt:
        keys = sorted({(r["tool"], r["callers"], r["connections"]) for r in pt},
                      key=lambda k: (k[0] != "loadgen", k[0], k[1], k[2]))
        table = []
        names = list(dict.fromkeys(r["engine"] for r in pt))
        for tool, c, n in keys:
            qps_by = {}
            for e in names:
                ms = [r for r in pt if (r["tool"], r["callers"], r["connections"], r["engine"]) ==
                      (tool, c, n, e)]
                if not ms:
                    continue
                med = lambda k: statistics.median(m[k] for m in ms)  # noqa: E731
                qps = med("qps")
                qps_by[e] = qps
                calls = sum(m.get("ok") or m["calls"] for m in ms)
                scpu = sum(m["server_cpu_s"] for m in ms if m.get("server_cpu_s", -1) >= 0)
                ccpu = sum(m["client_cpu_s"] for m in ms if m.get("client_cpu_s") is not None)
                errs = sum(m.get("errors", 0) for m in ms)
                row = {"tool": tool, "callers": c, "connections": n, "engine": e, "qps": qps,
                       "p50_ms": med("p50_us") / 1e3, "p99_ms": med("p99_us") / 1e3,
                       "server_us_per_query": scpu / calls * 1e6 if calls else None,
                       "client_us_per_query": (ccpu / calls * 1e6
                                               if calls and tool == "loadgen" or
                                               any(m.get("client_cpu_s") for m in ms) else None),
                       "errors": errs, "check": ms[0].get("check")}
                table.append(row)
            for row in table[-len(qps_by):]:
                if row["engine"].startswith("polaroid"):
                    for p in PEERS:
                        if qps_by.get(p):
                            row[f"x_{p}"] = row["qps"] / qps_by[p]
        summary["point"] = table
        hdr = ["load (callers/conns)", "engine", "QPS", "p50 ms", "p99 ms", "server us/q",
               "client us/q", "x aio", "x flight", "errors", "check"]
        body = []
        for r in table:
            body.append([f"{r['callers']}/{r['connections']}" +
                         (f" {r['tool']}" if r["tool"] != "loadgen" else ""), r["engine"],
                         f"{r['qps']:.0f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
                         f"{r['server_us_per_query']:.0f}" if r["server_us_per_query"] else "-",
                         f"{r['client_us_per_query']:.0f}" if r["client_us_per_query"] else "-",
                         f"{r['x_polars-aio']:.2f}" if "x_polars-aio" in r else "",
                         f"{r['x_flight-duckdb']:.2f}" if "x_flight-duckdb" in r else "",
                         str(r["errors"]), r["check"] or "-"])
        lines += ["", "point queries (median of reps; CPU per query over all reps):",
                  R.fmt_table(body, hdr)]
    for r in out.get("point", []):
        if "error" in r and "callers" not in r:
            lines.append(f"point {r['engine']}: error: {r['error']}")
    for part in ("stream", "seed"):
        rs = [r for r in out.get(part, []) if "error" not in r]
        errs = [r for r in out.get(part, []) if "error" in r]
        if not rs and not errs:
            continue
        table = []
        names = list(dict.fromkeys(r["engine"] for r in out.get(part, [])))
        for e in names:
            ms = [r for r in rs if r["engine"] == e]
            if not ms:
                err = next(r["error"] for r in errs if r["engine"] == e)
                table.append({"engine": e, "error": err})
                continue
            sec = statistics.median(m["seconds"] for m in ms)
            row = {"engine": e, "seconds": sec, "min_seconds": min(m["seconds"] for m in ms),
                   "gbps": ms[0]["nbytes"] / sec / 1e9, "nbytes": ms[0]["nbytes"],
                   "rows": ms[0]["rows"], "checks": ms[0]["checks"],
                   "client_cpu_s": statistics.median(m["cpu_s"] for m in ms),
                   "server_cpu_s": (statistics.median(m["server_cpu_s"] for m in ms)
                                    if all("server_cpu_s" in m for m in ms) else None)}
            if "shared_memory" in ms[0]:
                row["shared_memory"] = ms[0]["shared_memory"]
            table.append(row)
        ok = [r for r in table if "error" not in r]
        ref = next((r for r in ok if not r["engine"].startswith("polaroid")), None)
        best = min((r["seconds"] for r in ok if not r["engine"].startswith("polaroid")),
                   default=None)
        for r in ok:
            r["check"] = ("reference" if r is ref else
                          "ok" if ref is None or r["checks"] == ref["checks"] else
                          f"MISMATCH {r['checks']} != {ref['checks']}")
            # the same data in every engine's Arrow layout differs (dictionary strings, string
            # views): GB/s counts the reference's bytes for all
            if ref is not None:
                r["gbps"] = ref["nbytes"] / r["seconds"] / 1e9
            if best:
                r["x_fastest_peer"] = r["seconds"] / best
        summary[part] = table
        hdr = ["engine", "median s", "min s", "GB/s", "x fastest peer", "client CPU s",
               "server CPU s", "rows", "check"]
        body = [[r["engine"], "", "", "", "", "", "", "", "error: " + r["error"]] if "error" in r else
                [r["engine"] + (" (fell back to gRPC)" if r.get("shared_memory") is False else ""),
                 f"{r['seconds']:.3f}", f"{r['min_seconds']:.3f}", f"{r['gbps']:.2f}",
                 f"{r['x_fastest_peer']:.2f}" if "x_fastest_peer" in r else "-",
                 f"{r['client_cpu_s']:.2f}",
                 f"{r['server_cpu_s']:.2f}" if r["server_cpu_s"] is not None else "-",
                 str(r["rows"]), r["check"]] for r in table]
        title = ("stream: 20 M x 10 into a pyarrow Table" if part == "stream" else
                 "seed: tick files collected in Python") + (
            " (GB/s: the reference's Arrow bytes / seconds; x fastest peer: seconds / the "
            "fastest peer's)")
        lines += ["", title + ":", R.fmt_table(body, hdr)]
    summary["goals"] = goals(summary)
    if summary["goals"]:
        lines += ["", "issue 7 goals (polaroid):"]
        for g in summary["goals"]:
            lines.append(f"  {'ok  ' if g['met'] else 'MISS'} {g['what']}: {g['got']}")
    return summary, "\n".join(lines)


def goals(summary):
    res = []

    def pt(c, n, e="polaroid"):
        return next((r for r in summary.get("point", []) if r["tool"] == "loadgen" and
                     (r["callers"], r["connections"], r["engine"]) == (c, n, e)), None)

    r = pt(500, 50)
    if r:
        res.append({"what": "500 callers / 50 connections: >= 15000 QPS, p99 <= 50 ms",
                    "got": f"{r['qps']:.0f} QPS, p99 {r['p99_ms']:.1f} ms",
                    "met": r["qps"] >= GOALS["qps_500_50"] and r["p99_ms"] <= GOALS["p99_ms_500_50"]})
        if r.get("server_us_per_query"):
            res.append({"what": "server CPU <= 60 us per query (500/50)",
                        "got": f"{r['server_us_per_query']:.0f} us",
                        "met": r["server_us_per_query"] <= GOALS["server_us_per_query"]})
        if "x_polars-aio" in r:
            res.append({"what": ">= 5x the grpc.aio + Polars peer's QPS (500/50)",
                        "got": f"{r['x_polars-aio']:.2f}x", "met": r["x_polars-aio"] >= 5})
        if "x_flight-duckdb" in r:
            res.append({"what": ">= 2x the Flight + DuckDB peer's QPS (500/50)",
                        "got": f"{r['x_flight-duckdb']:.2f}x", "met": r["x_flight-duckdb"] >= 2})
    r = pt(500, 500)
    if r:
        res.append({"what": "500 connections: >= 8000 QPS, p99 <= 100 ms",
                    "got": f"{r['qps']:.0f} QPS, p99 {r['p99_ms']:.1f} ms",
                    "met": r["qps"] >= GOALS["qps_500_500"] and
                    r["p99_ms"] <= GOALS["p99_ms_500_500"]})
    for r in summary.get("stream", []):
        if r["engine"].startswith("polaroid") and "gbps" in r:
            shm = "shm" in r["engine"]
            goal = GOALS["shm_gbps"] if shm else GOALS["stream_gbps"]
            res.append({"what": f"streaming >= {goal:.1f} GB/s into pyarrow ({r['engine']})",
                        "got": f"{r['gbps']:.2f} GB/s" + (
                            " (answered over gRPC, no same-host file)"
                            if r.get("shared_memory") is False else ""),
                        "met": r["gbps"] >= goal and r.get("shared_memory", True)})
    return res


def load_average():
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "?"


def parse_loads(s):
    out = []
    for item in s.split(","):
        c, _, n = item.partition("/")
        out.append((int(c), int(n or c)))
    return out


def add_args(ap, standalone):
    if standalone:
        ap.add_argument("--reps", type=int, default=3)
        ap.add_argument("--small", action="store_true",
                        help="the seed part on the 5 sample tick files")
        ap.add_argument("--engines", default=",".join(ENGINES))
        ap.add_argument("--threads", type=int, default=2)
        ap.add_argument("--polaroid", default="build/polaroid")
        ap.add_argument("--timeout", type=float, default=900.0)
        ap.add_argument("--mem-guard", type=float, default=1.5)
    ap.add_argument("--server-parts", "--parts", dest="parts", default=",".join(PARTS),
                    help="server group parts: point, stream, seed (default: all)")
    ap.add_argument("--seed-reps", type=int, default=1,
                    help="repetitions of the seed part (at most --reps; default 1: each takes "
                         "minutes and 8 GB)")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per load point (5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per load point")
    ap.add_argument("--loads", type=parse_loads, default=LOADS,
                    help="callers/connections list, e.g. 1/1,50/50,500/50,500/500")
    ap.add_argument("--loadgen", choices=["c", "ghz", "both"], default="c",
                    help="load generator: bench/server/loadgen.c (c), ghz, or both")
    ap.add_argument("--loadgen-threads", type=int, default=1)
    ap.add_argument("--point-keys", type=int, default=4096,
                    help="distinct random keys cycled by the load generator")
    ap.add_argument("--polaroid-source", dest="polaroid_sources", default="table,read",
                    type=lambda v: v.split(","),
                    help="polaroid's point-query sources, measured one after the other: "
                         "table (a live table made by CreateTable from the Parquet file; also "
                         "the stream part's source), read (the Parquet file read in every "
                         "plan, statistics skipping row groups), limit (diagnostic: 4 rows of "
                         "the table without a filter, the cost of serving itself); default "
                         "table,read")
    ap.add_argument("--via-pkg", action="store_true", default=None,
                    help="also fetch through the polaroid Python package (import polaroid; the "
                         "default when it is installed)")
    ap.add_argument("--no-via-pkg", dest="via_pkg", action="store_false")
    ap.add_argument("--no-shm", dest="shm", action="store_false",
                    help="skip polaroid's same-host shared-memory path in stream and seed")
    ap.add_argument("--polaroid-arg", action="append", default=[],
                    help="extra argument for polaroid serve (repeatable)")
    ap.add_argument("--perf", nargs="?", const="polaroid", default=None,
                    type=lambda v: v.split(","),
                    help="record a perf profile of these engines' servers (default polaroid) "
                         "during each point load of the first repetition: "
                         "build/bench/server/perf-*.txt")
    ap.add_argument("--server-json", default="build/bench/server.json")


def run(a):
    """Runs the server group with the options of add_args (+ reps, small, engines, threads,
    polaroid, timeout, mem_guard). Returns the summary dict."""
    if isinstance(a.engines, str):
        a.engines = a.engines.split(",")
    a.engines = [e for e in a.engines if e in ENGINES] or list(ENGINES)
    a.threads = a.threads or os.cpu_count()
    if a.via_pkg is None:
        import importlib.util
        a.via_pkg = (os.path.exists(os.path.join(ROOT, "python", "polaroid", "__init__.py")) or
                     importlib.util.find_spec("polaroid") is not None)
    parts = a.parts.split(",")
    for p in parts:
        if p not in PARTS:
            raise SystemExit(f"bench: unknown server part {p!r} (known: {', '.join(PARTS)})")
    r = R.run_child([py(), os.path.join(HERE, "gen_server.py")], timeout=1800)
    sys.stdout.write(r["stdout"])
    if r["rc"] != 0:
        raise SystemExit("bench: gen_server.py failed: " + R._last_lines(r["stderr"], 3))
    R.warm_cache(os.path.join(DATA_ROOT, SERVER_DATA))
    if "seed" in parts:
        ds = R.queries.DATASETS["ticks"]
        R.ensure_data(ds, a.small, py())
        R.warm_cache(ds.directory(a.small))
    print(f"bench server: {platform.node()}, {os.cpu_count()} cores; engines "
          f"{', '.join(a.engines)}; threads {a.threads}; reps {a.reps}; load average "
          f"{load_average()} (other processes on this machine make the numbers noisy)",
          flush=True)
    out = {"meta": {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "host": platform.node(), "cores": os.cpu_count(),
        "load_average_start": load_average(), "threads": a.threads, "reps": a.reps,
        "duration": a.duration, "warmup": a.warmup, "loads": a.loads, "loadgen": a.loadgen,
        "loadgen_threads": a.loadgen_threads, "polaroid_sources": a.polaroid_sources}}
    for p in parts:
        if p == "point":
            part_point(a.engines, a, out)
        else:
            part_fetch(p, a.engines, a, out)
    out["meta"]["load_average_end"] = load_average()
    summary, text = summarise(out, a)
    out["summary"] = summary
    print(text)
    print(f"\nload average at start {out['meta']['load_average_start']}, at end "
          f"{out['meta']['load_average_end']}")
    path = os.path.join(ROOT, a.server_json)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print(f"bench: wrote {os.path.relpath(path, ROOT)}")
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_args(ap, standalone=True)
    a = ap.parse_args(argv)
    run(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
