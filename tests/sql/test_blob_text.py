"""Text <-> BLOB casts as DuckDB does them: a VARCHAR becomes a BLOB with `\\xHH` escapes decoded
(`'\\xC5\\x01'::BLOB` is the two bytes C5 01, not 8 characters), other backslashes and bytes
outside ASCII are errors (NULL under TRY_CAST); a BLOB becomes text with the bytes outside
printable ASCII (and \\, ', ") written as `\\xHH`. The same cast serves comparisons of BLOB
columns with string constants, so filters on a binary Parquet column (row-group and page
pruning included) match DuckDB's."""
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

CASTS = [
    ("escapes", "SELECT '\\xC5\\x01'::BLOB AS a, octet_length('\\xC5\\x01'::BLOB) AS n, "
                "'a\\x5Cb'::BLOB AS b, 'A\\x41\\x7e'::BLOB AS c, ''::BLOB AS d"),
    ("to_text", "SELECT ('a\\x5Cb'::BLOB)::VARCHAR AS a, ('\\x00\\x1F\\x7F\\xFF~'::BLOB)::VARCHAR AS b, "
                "('\\x22\\x27 x'::BLOB)::VARCHAR AS c, CAST('plain'::BLOB AS VARCHAR) AS d"),
    ("compare", "SELECT 'a'::BLOB < '\\xC5'::BLOB AS a, '\\x7F'::BLOB < '\\x80'::BLOB AS b, "
                "'\\x41'::BLOB = 'A'::BLOB AS c, '\\xff'::BLOB > 'zzz'::BLOB AS d"),
    ("try_cast", "SELECT try_cast('\\x5' AS BLOB) AS a, try_cast('\\y00' AS BLOB) AS b, "
                 "try_cast('caf\u00e9' AS BLOB) AS c, try_cast('\\X41' AS BLOB) AS d, "
                 "try_cast('ok\\x21' AS BLOB) AS e"),
]


@pytest.mark.parametrize("name,query", CASTS, ids=[n for n, _ in CASTS])
def test_blob_text_cast(sql, name, query):
    sql.check(query)


@pytest.mark.parametrize("text", ["\\x5", "\\", "a\\yb", "caf\u00e9", "\\X41"])
def test_blob_cast_errors(sql, text):
    sql.error([f"SELECT '{text}'::BLOB"], "BLOB")


def test_blob_column_filters(sql, tmp_path):
    """Binary Parquet column with many row groups and pages (so statistics prune) filtered by
    BLOB constants written with \\xHH escapes, against DuckDB's answer."""
    rnd = random.Random(16)
    vals = [None if rnd.random() < 0.1 else bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 6)))
            for _ in range(3000)]
    path = tmp_path / "blobs.parquet"
    pq.write_table(pa.table({"c": pa.array(vals, pa.binary()), "i": pa.array(range(3000), pa.int64())}),
                   path, row_group_size=100, data_page_size=64, write_page_index=True,
                   use_dictionary=False)
    def lit(b):
        return "'" + "".join("\\x%02X" % x for x in b) + "'::BLOB"
    probes = [v for v in vals if v][:4] + [b"\x80", b"\x7f\xff", b"a"]
    for p in probes:
        for op in ["<", ">=", "="]:
            sql.check(f"SELECT i FROM read_parquet('{path}') WHERE c {op} {lit(p)} ORDER BY i",
                      ordered=True)
    sql.check(f"SELECT i, c::VARCHAR AS t FROM read_parquet('{path}') WHERE i < 50 ORDER BY i",
              ordered=True)


def test_fixed_binary_column_compares_as_blob(sql, tmp_path):
    """A FIXED_LEN_BYTE_ARRAY column (fixed_size_binary) is a BLOB to DuckDB: it compares with
    BLOB and text constants, IN lists and other BLOB columns (was "cannot compare
    fixed_binary[3] with binary")."""
    rnd = random.Random(103)
    vals = [None if rnd.random() < 0.1 else bytes(rnd.randrange(256) for _ in range(3))
            for _ in range(2000)]
    path = tmp_path / "flba.parquet"
    pq.write_table(pa.table({"c": pa.array(vals, pa.binary(3)),
                             "b": pa.array([v[:2] if v else None for v in vals], pa.binary()),
                             "i": pa.array(range(2000), pa.int64())}),
                   path, row_group_size=100, data_page_size=64, write_page_index=True)
    f = f"read_parquet('{path}')"
    probes = [v for v in vals if v][:3]
    for p in probes:
        lit = "'" + "".join("\\x%02X" % x for x in p) + "'::BLOB"
        for op in ["<", ">=", "=", "<>"]:
            sql.check(f"SELECT i FROM {f} WHERE c {op} {lit} ORDER BY i", ordered=True)
    in_list = ", ".join("'" + "".join("\\x%02X" % x for x in p) + "'::BLOB" for p in probes)
    sql.check(f"SELECT i FROM {f} WHERE c IN ({in_list}) ORDER BY i", ordered=True)
    sql.check(f"SELECT i FROM {f} WHERE c > b OR c = 'abc' ORDER BY i", ordered=True)
