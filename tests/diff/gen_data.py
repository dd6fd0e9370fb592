"""Random tables for the differential tests (tests/diff/README.md), written as Parquet.

Three tables, deterministic from the seed:

  t1  ~3000 rows: id BIGINT unique, k INTEGER 0..9, j INTEGER 0..499 (join key), a BIGINT
      -1000..1000, b DOUBLE -1000..1000 (3 decimals), c DOUBLE 0..1 (no NULLs), s VARCHAR (a small
      vocabulary incl. '' and mixed case), ts TIMESTAMP (60 days, microseconds), dt DATE,
      flag BOOLEAN, d DECIMAL(9,2) -9999.99..9999.99
  t2  ~2000 rows: id BIGINT unique, j INTEGER 0..599 (some keys unmatched in t1), k INTEGER,
      x BIGINT, y DOUBLE, name VARCHAR, ts2 TIMESTAMP
  t3  12 rows: k INTEGER 0..11 unique (two keys unmatched in t1), label VARCHAR, weight DOUBLE

Every column but the ids and t1.c has ~10 % NULLs. Row counts vary with the seed. Values are small
enough that no generated expression overflows (the generator keeps arithmetic shallow).
"""
import datetime
import decimal
import os
import random

WORDS = ["apple", "Banana", "cherry", "date", "elder", "fig", "grape", "", "kiwi", "lemon",
         "mango", "Nectar", "olive", "peach", "pear", "plum", "quince", "a_b", "x%y", "zeta",
         "Apple", "apple pie", "éclair", "über", "  pad  ", "UPPER", "lower", "MiXeD", "b", "ab"]
NAMES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon"]
LABELS = ["north", "south", "east", "west", "up", "down", "left", "right", "in", "out",
          "top", "bottom"]

# column name -> SQL type kind used by the query generator
SCHEMAS = {
    "t1": {"id": "int", "k": "int", "j": "int", "a": "int", "b": "double", "c": "double",
           "s": "str", "ts": "ts", "dt": "date", "flag": "bool", "d": "dec"},
    "t2": {"id": "int", "j": "int", "k": "int", "x": "int", "y": "double", "name": "str",
           "ts2": "ts"},
    "t3": {"k": "int", "label": "str", "weight": "double"},
}
NOT_NULL = {("t1", "id"), ("t1", "c"), ("t2", "id"), ("t3", "k")}
UNIQUE = {("t1", "id"), ("t2", "id"), ("t3", "k")}


def _maybe_null(rng, v, p=0.1):
    return None if rng.random() < p else v


def make_tables(seed):
    """dict name -> pyarrow.Table."""
    import pyarrow as pa
    rng = random.Random(seed * 7919 + 17)
    n1 = rng.randint(2500, 3500)
    n2 = rng.randint(1500, 2500)
    base = datetime.datetime(2024, 1, 1)
    span_us = 60 * 86_400 * 1_000_000

    def ts():
        return base + datetime.timedelta(microseconds=rng.randrange(span_us))

    ids1 = rng.sample(range(1, 10 * n1), n1)
    t1 = {
        "id": pa.array(ids1, pa.int64()),
        "k": pa.array([_maybe_null(rng, rng.randint(0, 9)) for _ in range(n1)], pa.int32()),
        "j": pa.array([_maybe_null(rng, rng.randint(0, 499)) for _ in range(n1)], pa.int32()),
        "a": pa.array([_maybe_null(rng, rng.randint(-1000, 1000)) for _ in range(n1)], pa.int64()),
        "b": pa.array([_maybe_null(rng, round(rng.uniform(-1000, 1000), 3)) for _ in range(n1)],
                      pa.float64()),
        "c": pa.array([rng.random() for _ in range(n1)], pa.float64()),
        "s": pa.array([_maybe_null(rng, rng.choice(WORDS)) for _ in range(n1)], pa.string()),
        "ts": pa.array([_maybe_null(rng, ts()) for _ in range(n1)], pa.timestamp("us")),
        "dt": pa.array([_maybe_null(rng, (base + datetime.timedelta(days=rng.randint(0, 400))).date())
                        for _ in range(n1)], pa.date32()),
        "flag": pa.array([_maybe_null(rng, rng.random() < 0.5) for _ in range(n1)], pa.bool_()),
    }
    # drawn from a generator of its own so that the other columns stay what they were
    drng = random.Random(seed * 104729 + 3)
    t1["d"] = pa.array([_maybe_null(drng, decimal.Decimal(drng.randint(-999999, 999999)) / 100)
                        for _ in range(n1)], pa.decimal128(9, 2))
    ids2 = rng.sample(range(1, 10 * n2), n2)
    t2 = {
        "id": pa.array(ids2, pa.int64()),
        "j": pa.array([_maybe_null(rng, rng.randint(0, 599)) for _ in range(n2)], pa.int32()),
        "k": pa.array([_maybe_null(rng, rng.randint(0, 11)) for _ in range(n2)], pa.int32()),
        "x": pa.array([_maybe_null(rng, rng.randint(-500, 500)) for _ in range(n2)], pa.int64()),
        "y": pa.array([_maybe_null(rng, round(rng.uniform(0, 100), 2)) for _ in range(n2)],
                      pa.float64()),
        "name": pa.array([_maybe_null(rng, rng.choice(NAMES)) for _ in range(n2)], pa.string()),
        "ts2": pa.array([_maybe_null(rng, ts()) for _ in range(n2)], pa.timestamp("us")),
    }
    t3 = {
        "k": pa.array(list(range(12)), pa.int32()),
        "label": pa.array([_maybe_null(rng, LABELS[i]) for i in range(12)], pa.string()),
        "weight": pa.array([_maybe_null(rng, round(rng.uniform(0.5, 2.0), 2)) for _ in range(12)],
                           pa.float64()),
    }
    return {"t1": pa.table(t1), "t2": pa.table(t2), "t3": pa.table(t3)}


def write_tables(seed, outdir):
    """Writes t1..t3 as Parquet under outdir (several row groups for t1); returns name -> path."""
    import pyarrow.parquet as pq
    os.makedirs(outdir, exist_ok=True)
    paths = {}
    for name, t in make_tables(seed).items():
        path = os.path.join(outdir, name + ".parquet")
        pq.write_table(t, path, row_group_size=1000)
        paths[name] = path
    return paths
