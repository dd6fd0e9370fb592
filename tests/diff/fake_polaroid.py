#!/usr/bin/env python3
"""A stand-in for `polaroid sql --format arrow SQL` backed by DuckDB, to test the differential
harness itself (tests/diff/test_harness.py). FAKE_POLAROID_BUG=1 perturbs results (every integer
column of a result with more than one row gets +1 on its first row) so that the harness must
report mismatches."""
import os
import sys


def main(argv):
    import duckdb
    import pyarrow as pa
    sql = argv[-1]
    try:
        t = duckdb.sql(sql).to_arrow_table()
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(f"polaroid: {e}\n")
        return 1
    if os.environ.get("FAKE_POLAROID_BUG") and t.num_rows > 1:
        cols = []
        for c in t.columns:
            if pa.types.is_integer(c.type):
                v = c.to_pylist()
                if v[0] is not None:
                    v[0] += 1
                c = pa.array(v, c.type)
            cols.append(c)
        t = pa.table(cols, names=t.column_names)
    with pa.ipc.new_stream(sys.stdout.buffer, t.schema) as w:
        w.write_table(t)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
