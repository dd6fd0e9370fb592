"""read_json numbers beyond BIGINT, as DuckDB infers them: integers within UBIGINT's range make
the column HUGEINT (DECIMAL(38, 0) here: values compared, not type names), larger integers and
any fraction or exponent DOUBLE, mixed kinds JSON text; DECIMAL columns given. Expected values
from DuckDB at run time."""
import pytest

from conftest import fill_paths, write_text_files

FILES = {
    "big": ('{"a": 1, "b": 9223372036854775807, "c": 1}\n'
            '{"a": 99999999999999999999, "b": 9223372036854775808, "c": 1.5}\n'
            '{"a": -99999999999999999999, "b": 18446744073709551615, "c": 3}\n'),
    "ubig": '{"u": 18446744073709551615}\n{"u": 1}\n{"u": null}\n{"u": -5}\n',
    "huge": '{"x": 123456789012345678901234567890}\n{"x": 2}\n',
    "neg": '{"n": -9223372036854775808}\n{"n": -9223372036854775809}\n',
    "mixed": '{"m": 1}\n{"m": "s"}\n{"m": 99999999999999999999}\n',
    "ubig_dbl": '{"v": 18446744073709551615}\n{"v": 0.5}\n',
    "nested": '{"s": {"k": 18446744073709551615}, "l": [1, 9223372036854775808]}\n',
}


@pytest.fixture
def files(tmp_path):
    return write_text_files(tmp_path, FILES, "json")


CASES = [
    ("big", "SELECT a, b::VARCHAR AS b, c FROM read_json('<big>')"),
    ("big_types", "SELECT typeof(a), typeof(c) FROM read_json('<big>') LIMIT 1"),
    ("ubig", "SELECT u::VARCHAR AS u FROM read_json('<ubig>')"),
    ("ubig_sum", "SELECT sum(u)::VARCHAR FROM read_json('<ubig>')"),
    ("huge", "SELECT typeof(x), x FROM read_json('<huge>')"),
    ("neg", "SELECT typeof(n), n FROM read_json('<neg>')"),
    ("mixed", "SELECT m::VARCHAR AS m FROM read_json('<mixed>')"),
    ("ubig_dbl", "SELECT typeof(v), v FROM read_json('<ubig_dbl>')"),
    ("nested", "SELECT s.k::VARCHAR AS k, l[2]::VARCHAR AS l2 FROM read_json('<nested>')"),
    ("decimal_given", "SELECT a::VARCHAR AS a, c::VARCHAR AS c FROM read_json('<big>', columns={{a: 'DECIMAL(38,0)', c: 'DECIMAL(10,2)'}})"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_read_json_bigint(sql, files, name, query):
    sql.check(fill_paths(query, files))
