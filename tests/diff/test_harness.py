"""Tests of the differential harness itself, with a DuckDB-backed stand-in for polaroid:
.venv/bin/python -m pytest -q tests/diff/test_harness.py"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import gen_queries  # noqa: E402

FAKE = f"{sys.executable} {os.path.join(HERE, 'fake_polaroid.py')}"


def _run(env_extra, seed):
    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, os.path.join(HERE, "run_diff.py"), "--polaroid", FAKE,
                           "--seed", str(seed), "--queries", "12"],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)


def test_equal_results_pass():
    r = _run({}, 11)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 failed" in r.stdout


def test_different_results_fail_with_seed_and_sql():
    r = _run({"FAKE_POLAROID_BUG": "1"}, 11)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAIL seed 11" in r.stdout and "SQL: SELECT" in r.stdout
    assert "result differs" in r.stdout


def test_generator_is_deterministic():
    a = [gen_queries.QueryGen(5).query().sql for _ in range(1)]
    g1, g2 = gen_queries.QueryGen(42), gen_queries.QueryGen(42)
    assert [g1.query().sql for _ in range(50)] == [g2.query().sql for _ in range(50)]
    assert a


def test_limit_queries_order_every_column():
    g = gen_queries.QueryGen(9)
    for _ in range(300):
        q = g.query()
        if re.search(r" LIMIT \d+(?: OFFSET \d+)?$", q.sql):  # the query's (not a subquery's)
            assert q.ordered and "ORDER BY" in q.sql
