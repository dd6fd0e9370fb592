"""Dates, times and timestamps written without leading zeros (2024-1-3, 1:2:3), as DuckDB
reads them in casts, INTERVAL literals and CSV files; compared with DuckDB."""
import pytest

CASES = [
    ("time_short", "SELECT '1:2:3'::TIME AS a, '01:2'::TIME AS b, '9:5'::TIME AS c"),
    ("time_frac", "SELECT '1:02:03.5'::TIME AS a, '24:00:00'::TIME::VARCHAR AS b"),
    ("date_short", "SELECT '2024-1-3'::DATE AS a, '2024-12-9'::DATE AS b, '2024-01-3'::DATE AS c"),
    ("timestamp_short", "SELECT '2024-1-2 1:2:3'::TIMESTAMP AS a, '2024-1-2 10:00'::TIMESTAMP AS b, "
                        "'2024-01-02T9:05:00.25'::TIMESTAMP AS c"),
    ("interval_clock", "SELECT INTERVAL '1:2:3' AS a, INTERVAL '1 day 1:2:3' AS b"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_time_text(sql, name, query):
    sql.check(query)


@pytest.mark.parametrize("text", ["12:345", "1:2:3:4", "2024-1-32", "2024-13-1", "1:60:00"])
def test_time_text_errors(sql, text):
    kind = "DATE" if text.startswith("2024") else "TIME"
    sql.error([f"SELECT '{text}'::{kind}"], "convert")
