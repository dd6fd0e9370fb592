"""PRIMARY KEY / UNIQUE tables and upserts (INSERT OR REPLACE / OR IGNORE, ON CONFLICT DO
NOTHING / DO UPDATE) in the server's SQL scripts (src/server/sql_session.c, catalog.c),
compared with the same statements in DuckDB: the keys live in the server's catalog (later
requests and other clients are checked against them), an INSERT into a keyed table runs under
the table's gate, so concurrent clients upserting into one table end as a serial run does."""
from __future__ import annotations

import threading

import pyarrow as pa
import pytest

import polaroid as pd
from helpers import assert_same
from test_sql_change import both
from test_sql_session import Duck, run

SETUP = [
    "CREATE TABLE sk_t (k INTEGER PRIMARY KEY, v VARCHAR, n BIGINT)",
    "CREATE TABLE sk_u (a INTEGER, b VARCHAR, c DOUBLE, UNIQUE (a, b))",
    "INSERT INTO sk_t VALUES (1, 'one', 10), (2, 'two', 20), (3, 'three', 30)",
    "INSERT INTO sk_u VALUES (1, 'x', 1.5), (1, 'y', 2.5), (NULL, 'x', 0.5)",
]
T = "SELECT * FROM sk_t ORDER BY k"
U = "SELECT * FROM sk_u ORDER BY a NULLS FIRST, b"


@pytest.fixture()
def keyed(client, data):
    d = Duck(data.root)
    for s in SETUP:
        run(client, s)
        d.run(s)
    yield d
    client.execute_sql("DROP TABLE IF EXISTS sk_t; DROP TABLE IF EXISTS sk_u; "
                       "DROP TABLE IF EXISTS sk_t2")


def test_upserts_as_duckdb(client, keyed):
    d = keyed
    both(client, d,
         "INSERT OR REPLACE INTO sk_t VALUES (2, 'TWO', 21), (4, 'four', 40)", T,
         "INSERT OR IGNORE INTO sk_t VALUES (3, 'no', 0), (5, 'five', 50)", T,
         "INSERT INTO sk_t VALUES (1, 'uno', 1) ON CONFLICT DO NOTHING", T,
         "INSERT INTO sk_t VALUES (1, 'uno', 1), (6, 'six', 6) "
         "ON CONFLICT (k) DO UPDATE SET n = sk_t.n + excluded.n, v = excluded.v", T,
         "INSERT INTO sk_t SELECT k + 2, v || '!', n * 2 FROM sk_t WHERE k > 4 "
         "ON CONFLICT DO UPDATE SET v = excluded.v", T,
         "INSERT INTO sk_u VALUES (1, 'x', 9.5), (NULL, 'x', 7.5), (2, 'x', 1.0) "
         "ON CONFLICT (a, b) DO UPDATE SET c = excluded.c", U,
         "INSERT OR REPLACE INTO sk_u VALUES (1, 'y', -1.0)", U,
         "INSERT INTO sk_t VALUES (9, 'nine', 90) RETURNING *")
    # UPDATE, DELETE and ALTER keep the keys
    both(client, d, "UPDATE sk_t SET n = n + 1 WHERE k < 3", "DELETE FROM sk_t WHERE k = 9",
         "ALTER TABLE sk_t ADD COLUMN w DOUBLE",
         "INSERT OR REPLACE INTO sk_t VALUES (1, 'ONE', 100, 0.5)", T)


def test_key_violations_as_duckdb(server, client, keyed):
    d = keyed
    before = run(client, T)
    bad = ["INSERT INTO sk_t VALUES (1, 'dup', 0)",
           "INSERT INTO sk_t VALUES (7, 'a', 0), (7, 'b', 0)",
           "INSERT INTO sk_t VALUES (NULL, 'null key', 0)",
           "UPDATE sk_t SET k = 1 WHERE k = 2",
           "INSERT INTO sk_u VALUES (1, 'x', 0.0)"]
    for s in bad:
        with pytest.raises(Exception):
            d.run(s)
        with pytest.raises(pd.PolaroidError):
            run(client, s)
    assert run(client, T) == before
    # a later request of another client is checked against the keys the catalog keeps
    other = pd.connect(server.address, timeout=60)
    try:
        with pytest.raises(pd.PolaroidError, match="(?i)key"):
            other.execute_sql("INSERT INTO sk_t VALUES (3, 'again', 0)")
    finally:
        other.close()
    # a NULL in a UNIQUE column never conflicts
    both(client, d, "INSERT INTO sk_u VALUES (NULL, 'x', 3.0)", U)
    # appends do not check keys: refused on a keyed table, with the way that does
    with pytest.raises(pd.PolaroidError, match="PRIMARY KEY or UNIQUE"):
        client.append("sk_t", pa.table({"k": pa.array([1], pa.int32()), "v": ["dup"],
                                        "n": pa.array([0], pa.int64())}))
    assert run(client, T) == before


def test_keys_through_create_as_rename_and_transactions(client, keyed):
    d = keyed
    # CREATE TABLE AS has no keys; RENAME keeps them
    both(client, d, "CREATE TABLE sk_t2 AS SELECT * FROM sk_t", "INSERT INTO sk_t2 VALUES (1, 'dup', 0)",
         "SELECT count(*) AS c FROM sk_t2")
    run(client, "DROP TABLE sk_t2")
    d.run("DROP TABLE sk_t2")
    both(client, d, "ALTER TABLE sk_t RENAME TO sk_t2")
    with pytest.raises(pd.PolaroidError):
        run(client, "INSERT INTO sk_t2 VALUES (1, 'dup', 0)")
    both(client, d, "ALTER TABLE sk_t2 RENAME TO sk_t")
    # upserts in a transaction: applied at COMMIT, none at ROLLBACK
    client.execute_sql("BEGIN; INSERT OR REPLACE INTO sk_t VALUES (1, 'tx', 1); "
                       "INSERT INTO sk_t VALUES (2, 'tx', 2) ON CONFLICT DO UPDATE SET n = 0; "
                       "ROLLBACK")
    assert_same(run(client, T), d.run(T))
    script = ("BEGIN; INSERT OR REPLACE INTO sk_t VALUES (1, 'tx', 1); "
              "INSERT INTO sk_t VALUES (2, 'tx', 2), (8, 'eight', 8) ON CONFLICT DO UPDATE SET n = 0; "
              "COMMIT")
    client.execute_sql(script)
    d.run(*[s for s in script.split("; ")])
    assert_same(run(client, T), d.run(T))
    with pytest.raises(pd.PolaroidError):
        client.execute_sql("BEGIN; INSERT INTO sk_t VALUES (8, 'dup', 0); COMMIT")
    assert_same(run(client, T), d.run(T))


def test_concurrent_upserts_equal_a_serial_run(server, client, data):
    """Clients upserting into one keyed table at once (counters, so the order does not
    matter; OR IGNORE into another, compared by keys): the tables end as the same statements
    run one after the other in DuckDB, no key twice."""
    d = Duck(data.root)
    for s in ("CREATE TABLE sk_c (k BIGINT PRIMARY KEY, n BIGINT, s DOUBLE)",
              "CREATE TABLE sk_i (k BIGINT, w VARCHAR, UNIQUE (k))"):
        run(client, s)
        d.run(s)
    n_threads, rounds, n_keys = 4, 40, 25
    stmts = {w: [] for w in range(n_threads)}
    for w in range(n_threads):
        for i in range(rounds):
            ks = sorted({(w * 7 + i * 3 + j * 5) % n_keys for j in range(3)})
            vals = ", ".join(f"({k}, 1, {w + i / 8})" for k in ks)
            stmts[w].append(f"INSERT INTO sk_c VALUES {vals} "
                            "ON CONFLICT (k) DO UPDATE SET n = sk_c.n + excluded.n, s = sk_c.s + excluded.s")
            if i % 4 == 0:
                stmts[w].append("INSERT OR IGNORE INTO sk_i VALUES " +
                                ", ".join(f"({k * 3}, 'w{w}')" for k in ks))
    errs = []

    def worker(w):
        c = pd.connect(server.address, timeout=120)
        try:
            for s in stmts[w]:
                c.execute_sql(s)
        except Exception as e:  # pragma: no cover
            errs.append(e)
        finally:
            c.close()

    ts = [threading.Thread(target=worker, args=(w,)) for w in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errs, errs
    for w in range(n_threads):
        d.run(*stmts[w])
    both(client, d, "SELECT k, n, round(s, 6) AS s FROM sk_c ORDER BY k",
         "SELECT k FROM sk_i ORDER BY k",
         "SELECT count(*) = count(DISTINCT k) AS ok FROM sk_i")
    run(client, "DROP TABLE sk_c", "DROP TABLE sk_i")


def test_long_run_reuses_the_key_index(client, data):
    """Many requests of single-row INSERTs, upserts, a DELETE and key-changing UPDATEs into a
    keyed table of several batches: the catalog keeps the table's key index between requests
    (extended by each INSERT, put back after a failed one, dropped by a DELETE or an UPDATE of a
    key) and the table ends as DuckDB's; violations are still found through the kept index."""
    d = Duck(data.root)
    setup = ["CREATE TABLE sk_r (k BIGINT PRIMARY KEY, u INTEGER UNIQUE, v DOUBLE)",
             "INSERT INTO sk_r SELECT range, CASE WHEN range % 5 = 0 THEN NULL ELSE range END, "
             "CAST(range AS DOUBLE) / 4 FROM range(20000)"]
    for s in setup:
        run(client, s)
        d.run(s)

    def bad(s):
        with pytest.raises(Exception):
            d.run(s)
        with pytest.raises(pd.PolaroidError, match="(?i)duplicate key|constraint"):
            run(client, s)

    try:
        for i in range(120):
            k = 100000 + i
            both(client, d, f"INSERT INTO sk_r VALUES ({k}, {k}, {i}.5)")
            if i % 10 == 3:  # an upsert of a new row's key, setting no key column
                both(client, d, f"INSERT INTO sk_r VALUES ({k - 2}, NULL, -1) "
                                "ON CONFLICT (k) DO UPDATE SET v = excluded.v")
                both(client, d, f"INSERT OR IGNORE INTO sk_r VALUES ({k - 1}, {-k}, -2), "
                                f"({k + 500000}, {-k - 500000}, -3), ({k + 600000}, {k - 3}, -4)")
            if i % 15 == 7:  # clashes with rows the last requests added, then with old ones
                bad(f"INSERT INTO sk_r VALUES ({k - 5}, {10 * k}, 0)")
                bad(f"INSERT INTO sk_r VALUES ({10 * k}, {k - 4}, 0)")
                bad(f"INSERT INTO sk_r VALUES ({10 * k}, {10 * k}, 0), ({k + 1000000}, {10 * k}, 0)")
                bad(f"INSERT INTO sk_r VALUES ({i * 7 + 1}, NULL, 0)")
            if i == 50:  # the DELETE drops the index: the next INSERT builds it again
                both(client, d, "DELETE FROM sk_r WHERE k % 3 = 0 AND k < 100040")
                both(client, d, "INSERT INTO sk_r VALUES (3, 3, 3), (100002, NULL, 2)")
                bad("INSERT INTO sk_r VALUES (4, NULL, 4)")
            if i == 80:  # an UPDATE of a key: the old value is free, the new one taken
                both(client, d, "UPDATE sk_r SET k = k + 2000000 WHERE k = 100070")
                both(client, d, "INSERT INTO sk_r VALUES (100070, NULL, 70)")
                bad("INSERT INTO sk_r VALUES (2100070, NULL, 70)")
            if i % 20 == 9:  # several statements in one request
                client.execute_sql(f"INSERT INTO sk_r VALUES ({k + 700000}, NULL, 1); "
                                   f"INSERT INTO sk_r VALUES ({k + 800000}, NULL, 1)")
                d.run(f"INSERT INTO sk_r VALUES ({k + 700000}, NULL, 1)",
                      f"INSERT INTO sk_r VALUES ({k + 800000}, NULL, 1)")
                # the second fails, the first stays done
                with pytest.raises(pd.PolaroidError, match="(?i)duplicate key"):
                    client.execute_sql(f"INSERT INTO sk_r VALUES ({k + 900000}, NULL, 1); "
                                       f"INSERT INTO sk_r VALUES ({k + 700000}, NULL, 1)")
                d.run(f"INSERT INTO sk_r VALUES ({k + 900000}, NULL, 1)")
                with pytest.raises(Exception):
                    d.run(f"INSERT INTO sk_r VALUES ({k + 700000}, NULL, 1)")
        both(client, d, "SELECT * FROM sk_r ORDER BY k",
             "SELECT count(*) AS n, count(DISTINCT k) AS dk, count(u) AS nu, "
             "count(DISTINCT u) AS du FROM sk_r")
    finally:
        run(client, "DROP TABLE IF EXISTS sk_r")
