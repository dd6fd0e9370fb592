"""CSV type inference against DuckDB's sniffer: for a one-column file of the given values, the
inferred type (DuckDB's name; DECIMAL(38,0) stands for DuckDB's HUGEINT) and every value read
back as text must equal DuckDB's. Differences kept by design are in test_csv_infer_differences."""
import subprocess
import json

import duckdb
import pytest

from conftest import polaroid_bin

CASES = {
    "true_false": ["true", "false"], "t_f": ["t", "f"], "T_F": ["T", "F"], "yes_no": ["yes", "no"],
    "Yes_NO": ["Yes", "NO"], "mixed_bool_words": ["True", "F", "no", ""], "y_n": ["y", "n"],
    "one_zero": ["1", "0"], "t_and_one": ["t", "1"], "plus_int": ["+3", "4"],
    "plus_float": ["+3.5", "1"], "plus_zero": ["+0", "1"], "padded_spaces": [" 3", "4 "],
    "space_plus": [" +3", "2"], "minus_zero": ["-0", "1"], "leading_zeros": ["007", "8"],
    "leading_zeros_neg": ["-007", "1"], "leading_zeros_float": ["00.5", "1"],
    "zero_point": ["0.5", "0", "0e1"], "dot_forms": [".5", "1."], "exp": ["1e5", "2"],
    "nan": ["nan", "1.5"], "NaN": ["NaN", "-nan"], "inf": ["inf", "2.0"],
    "minus_inf": ["-inf", "1.0"], "infinity": ["Infinity", "1"], "i64_max": ["9223372036854775807", "1"],
    "i64_min": ["-9223372036854775808", "1"], "dates": ["2024-01-02", "2024-1-3", "2024-12-9"],
    "timestamps": ["2024-01-02 10:00:00", "2024-01-02T10:00:00.5", "2024-1-2 1:2:3"],
    "times": ["10:00:00", "23:59:59.123", "1:2:3"], "thousands": ["1,000", "2"],
    "percent": ["5%", "1"], "underscore": ["1_000", "2"], "exp_only": ["1.5e", "1"],
    "dot_only": [".", "2"], "two_dots": ["1.2.3", "2"], "inner_space": ["1 000", "2"],
    "suffix_d": ["1d", "2"], "blank_and_int": ["", "5"],
}
HUGE = {"i64_over": ["9223372036854775808", "1"], "u64_max": ["18446744073709551615", "1"],
        "digits_21": ["123456789012345678901", "-5"],
        "digits_38": ["99999999999999999999999999999999999999", "0"]}


def _write(path, values):
    with open(path, "w") as f:
        f.write("x\n" + "\n".join('"' + v + '"' if "," in v else v for v in values) + "\n")


def _polaroid(query):
    r = subprocess.run([polaroid_bin(), "sql", "--format", "json", query], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [tuple(json.loads(line).values()) for line in r.stdout.splitlines() if line.strip()]


def _both(path):
    q = f"SELECT typeof(x), x::VARCHAR FROM '{path}'"
    return duckdb.sql(q).fetchall(), _polaroid(q)


@pytest.mark.parametrize("name", list(CASES))
def test_csv_infer(tmp_path, name):
    p = tmp_path / f"{name}.csv"
    _write(p, CASES[name])
    want, got = _both(p)
    assert got == [tuple(r) for r in want]


@pytest.mark.parametrize("name", list(HUGE))
def test_csv_infer_huge_int(tmp_path, name):
    """Integers beyond BIGINT: DuckDB's HUGEINT, polaroid's DECIMAL(38,0), the same digits."""
    p = tmp_path / f"{name}.csv"
    _write(p, HUGE[name])
    want, got = _both(p)
    assert [t for t, _ in want] == ["HUGEINT"] * len(want)
    assert [t for t, _ in got] == ["DECIMAL(38,0)"] * len(got)
    assert [v for _, v in got] == [v for _, v in want]


def test_csv_infer_differences(tmp_path):
    """Kept by design (docs/sql.md): hex/binary literals stay text (DuckDB reads "0x10" as 16),
    integers of more than 38 digits are DOUBLE (DuckDB: BIGNUM)."""
    p = tmp_path / "hex.csv"
    _write(p, ["0x10", "1"])
    assert _polaroid(f"SELECT typeof(x), x FROM '{p}'") == [("VARCHAR", "0x10"), ("VARCHAR", "1")]
    p = tmp_path / "big.csv"
    _write(p, ["1" + "0" * 40, "2"])
    assert _polaroid(f"SELECT typeof(x), x FROM '{p}'") == [("DOUBLE", 1e40), ("DOUBLE", 2.0)]


def test_csv_bool_words_parse_with_explicit_type(tmp_path):
    """A BOOLEAN column reads the words inference accepts, plus y/n and 1/0 (as DuckDB does)."""
    p = tmp_path / "b.csv"
    _write(p, ["yes", "No", "t", "F", "y", "0", "1", "TRUE"])
    script = (f"CREATE TABLE b (x BOOLEAN); COPY b FROM '{p}' (HEADER); "
              "SELECT x FROM b")
    con = duckdb.connect()
    for stmt in script.split("; ")[:-1]:
        con.execute(stmt)
    want = con.execute("SELECT x FROM b").fetchall()
    assert _polaroid(script) == [tuple(r) for r in want]


def test_csv_decimal_38_digits(tmp_path):
    """DECIMAL(38, 0) columns keep 38 digits (tests/unit/io/test_csv.c checks that 39 are
    refused)."""
    p = tmp_path / "d.csv"
    _write(p, ["99999999999999999999999999999999999999", "-12345678901234567890123456789012345678"])
    script = f"CREATE TABLE d (x DECIMAL(38, 0)); COPY d FROM '{p}' (HEADER); SELECT x::VARCHAR FROM d"
    con = duckdb.connect()
    for stmt in script.split("; ")[:-1]:
        con.execute(stmt)
    want = con.execute("SELECT x::VARCHAR FROM d").fetchall()
    assert _polaroid(script) == [tuple(r) for r in want]
