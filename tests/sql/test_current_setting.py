"""current_setting('name'): the session's settings (SET ...) as constants of DuckDB's types
(threads BIGINT, memory_limit VARCHAR in DuckDB's rendering, TimeZone VARCHAR), compared with
DuckDB. Not compared: memory_limit when none is SET (DuckDB: 80% of RAM, polaroid: NULL, no
limit) and TimeZone when none is SET (DuckDB: the system's zone name, polaroid: UTC)."""
import pytest

CASES = [
    ("threads", ["SET threads = 3"], "SELECT current_setting('threads') AS v"),
    ("threads_type", ["SET threads = 1"], "SELECT typeof(current_setting('threads')) AS t, "
                                          "current_setting('threads') + 1 AS n"),
    ("worker_threads", ["SET worker_threads = 2"], "SELECT current_setting('WORKER_THREADS') AS v"),
    # unset: one thread per core in both (the machine's core count)
    ("threads_reset", ["SET threads = 1", "RESET threads"], "SELECT current_setting('threads') AS v"),
    ("memory_gb", ["SET memory_limit = '1GB'"], "SELECT current_setting('memory_limit') AS v"),
    ("memory_mib", ["SET memory_limit = '512MiB'"], "SELECT current_setting('Memory_Limit') AS v"),
    ("memory_kb", ["SET memory_limit = '100KB'"], "SELECT current_setting('memory_limit') AS v"),
    ("memory_frac", ["SET memory_limit = '1.5GiB'"], "SELECT current_setting('memory_limit') AS v"),
    ("memory_tb", ["SET memory_limit = '3TB'"], "SELECT current_setting('memory_limit') AS v"),
    ("memory_trunc", ["SET memory_limit = '1048575KiB'"], "SELECT current_setting('memory_limit') AS v"),
    ("max_memory", ["SET max_memory = '2000KiB'"], "SELECT current_setting('max_memory') AS v"),
    ("timezone", ["SET TimeZone = 'America/New_York'"], "SELECT current_setting('timezone') AS v"),
    ("in_query", ["SET threads = 2"],
     "SELECT x, x * current_setting('threads') AS y FROM range(3) t(x) ORDER BY x"),
]


@pytest.mark.parametrize("name,stmts,query", CASES, ids=[c[0] for c in CASES])
def test_current_setting(sql, name, stmts, query):
    sql.check(query, setup=stmts)


ERRORS = [
    ("unknown", ["SELECT current_setting('no_such_setting')"], ["no_such_setting"]),
    ("not_constant", ["SELECT current_setting(x) FROM (VALUES ('threads')) t(x)"], ["current_setting"]),
    ("null_name", ["SELECT current_setting(NULL)"], ["current_setting"]),
]


@pytest.mark.parametrize("name,stmts,needles", ERRORS, ids=[c[0] for c in ERRORS])
def test_current_setting_error(sql, name, stmts, needles):
    sql.error(stmts, *needles)
