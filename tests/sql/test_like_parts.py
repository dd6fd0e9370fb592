"""LIKE / ILIKE with several '%'-separated literal parts (like_general in
src/expr/kernels_core.c finds plain parts with memmem) give DuckDB's answers: partial
repeats before a match, multi-byte UTF-8 around and inside the parts, '_' mixed in, anchors."""
import pytest

WORDS = ["special", "spe", "cial", "requests", "req", "spespecial", "re", "ü", "éé", "x",
         "naïve", "日本", "requestsspecial", "%", "_", " "]
SRC = ("SELECT i, CASE WHEN i % 17 = 0 THEN NULL ELSE "
       + " || ".join(f"(list_value({', '.join(repr(w) for w in WORDS)}))[((i * {m} + {a}) % {len(WORDS)}) + 1]"
                     for m, a in ((7, 1), (13, 5), (3, 2), (11, 7), (5, 3)))
       + " END AS s FROM range(4000) t(i)")
SETUP = [f"CREATE TABLE t AS {SRC}"]

PATTERNS = ["%special%requests%", "%spe%cial%", "special%requests", "%requests%special",
            "%ü%日本%", "%é%é%", "%re%q%u%", "%spe_ial%req%", "sp%re%s", "%naïve%%x%",
            "%special%requests%special%", "%日%本", "%x%x%x%x%"]


@pytest.mark.parametrize("k", range(len(PATTERNS)))
def test_like_parts(sql, k):
    p = PATTERNS[k].replace("'", "''")
    sql.check(f"SELECT count(*) FILTER (WHERE s LIKE '{p}') AS a, "
              f"count(*) FILTER (WHERE s NOT LIKE '{p}') AS b, "
              f"count(*) FILTER (WHERE s ILIKE upper('{p}')) AS c, "
              f"sum(i) FILTER (WHERE s LIKE '{p}') AS d FROM t", setup=SETUP)
