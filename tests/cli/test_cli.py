"""Tests of the `polaroid` command line (src/cli, docs/cli.md): exit codes, --help texts, error
messages, output formats, globs and several files, --columns/--limit, and convert round trips.

Expected values come from pyarrow (the data is written and read back with pyarrow, never taken
from polaroid's own output); the text rules (CSV: NULL is an empty unquoted field, the empty
string is ""; JSON lines) come from RFC 4180 and the parquet-testing INDEX.md conventions.
Run with POLAROID=<binary> (default build/polaroid); `make cli` uses the ASan build.
"""
import datetime
import json
import math
import os
import re
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

# RFC 4180 rows with NULL as an unquoted empty field: the parser of the conformance runner
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
from run_conformance import parse_csv  # noqa: E402

# ---------------------------------------------------------------- helpers


def cell_matches(cell, value):
    """Does a CSV cell printed by polaroid stand for the Python value pyarrow read?"""
    if value is None:
        return cell is None
    if cell is None:
        return False
    if isinstance(value, bool):
        return cell == ("true" if value else "false")
    if isinstance(value, float):
        if math.isnan(value):
            return cell in ("nan", "-nan")
        return float(cell) == value
    if isinstance(value, datetime.datetime):
        # DuckDB's rendering (parquet-testing INDEX.md): fraction without trailing zeros
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.microsecond:
            text += (".%06d" % value.microsecond).rstrip("0")
        return cell == text
    return cell == str(value)


def assert_csv_equals_table(text, table):
    rows = parse_csv(text)
    assert rows, "no CSV output"
    assert rows[0] == table.column_names
    body = rows[1:]
    assert len(body) == table.num_rows, f"{len(body)} rows, pyarrow reads {table.num_rows}"
    cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
    for r, row in enumerate(body):
        assert len(row) == table.num_columns, f"row {r}: {row}"
        for c, cell in enumerate(row):
            assert cell_matches(cell, cols[c][r]), (
                f"row {r}, column {table.column_names[c]}: polaroid {cell!r}, pyarrow {cols[c][r]!r}")


def sample_table(n=50, offset=0):
    ids = list(range(offset, offset + n))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([None if i % 7 == 3 else ("" if i % 7 == 4 else f"n{i}") for i in ids], pa.string()),
        "price": pa.array([None if i % 5 == 1 else i * 0.25 - 3.5 for i in ids], pa.float64()),
        "flag": pa.array([None if i % 11 == 2 else i % 2 == 0 for i in ids], pa.bool_()),
        "ts": pa.array([datetime.datetime(2024, 1, 2, 9, 30) + datetime.timedelta(microseconds=i * 1000123)
                        for i in ids], pa.timestamp("us")),
        "day": pa.array([datetime.date(2020, 2, 28) + datetime.timedelta(days=i) for i in ids], pa.date32()),
    })


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "sample.parquet"
    t = sample_table()
    pq.write_table(t, path, row_group_size=20)
    return path, t


@pytest.fixture
def parts(tmp_path):
    """Three Parquet files part-0..2 (10, 3 and 20 rows) and the table they make together."""
    sizes = [10, 3, 20]
    tables, off = [], 0
    for k, n in enumerate(sizes):
        t = sample_table(n, off)
        pq.write_table(t, tmp_path / f"part-{k}.parquet")
        tables.append(t)
        off += n
    return tmp_path, pa.concat_tables(tables)


def arrow_built(polaroid, tmp_path):
    src = tmp_path / "probe.parquet"
    pq.write_table(pa.table({"a": [1]}), src)
    r = polaroid("convert", src, tmp_path / "probe.arrow")
    return r.rc == 0 or "not built" not in r.err


def usage_error(r):
    """A usage error: exit 2, nothing on stdout, a message and a one-line hint on stderr."""
    assert r.rc == 2, f"exit {r.rc}, stderr {r.err!r}"
    assert r.out == b""
    lines = r.err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("polaroid"), r.err
    assert "--help" in lines[1]


def runtime_error(r, *needles):
    """An error: exit 1, one `polaroid: ...` line on stderr naming what went wrong."""
    assert r.rc == 1, f"exit {r.rc}, stderr {r.err!r}"
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("polaroid: "), r.err
    for n in needles:
        assert n in r.err, f"{n!r} not in {r.err!r}"


# ---------------------------------------------------------------- top level, help, usage

def test_version(polaroid):
    r = polaroid.ok("--version")
    assert re.fullmatch(r"polaroid \d+\.\d+\.\d+\n", r.text)


def test_no_arguments_is_a_usage_error(polaroid):
    r = polaroid()
    assert r.rc == 2 and r.out == b""
    assert "usage: polaroid" in r.err


def test_top_level_help(polaroid):
    for args in (["--help"], ["-h"], ["help"]):
        r = polaroid.ok(*args)
        assert r.text.startswith("usage: polaroid <command>")
        for cmd in ("cat", "schema", "convert", "help"):
            assert f"  {cmd} " in r.text


def test_unknown_command(polaroid):
    r = polaroid("frobnicate")
    assert r.rc == 2 and r.out == b""
    assert '"frobnicate"' in r.err and "--help" in r.err


@pytest.mark.parametrize("cmd", ["cat", "schema", "convert"])
def test_command_help(polaroid, cmd):
    a = polaroid.ok(cmd, "--help")
    assert a.text.startswith(f"usage: polaroid {cmd} ")
    assert polaroid.ok(cmd, "-h").out == a.out
    assert polaroid.ok("help", cmd).out == a.out
    assert a.err == ""


@pytest.mark.parametrize("cmd", ["cat", "schema", "convert"])
def test_help_lists_only_real_options(polaroid, cmd, sample, tmp_path):
    """Every option the help text names is accepted by the parser (the help stays true)."""
    path, _ = sample
    help_text = polaroid.ok(cmd, "--help").text
    opts = set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)", help_text, re.M))
    assert opts, help_text
    values = {"--columns": "id", "--limit": "1", "--format": "csv", "--to": "csv", "--from": "parquet",
              "--output": str(tmp_path / "o.csv"), "--compression": "zstd", "--row-group-size": "10",
              "--threads": "2", "--delimiter": ","}
    for opt in sorted(opts - {"--help"}):
        args = [cmd, path] + ([tmp_path / "x.csv"] if cmd == "convert" and opt not in ("--output",) else [])
        args += [opt] + ([values[opt]] if opt in values else [])
        r = polaroid(*args)
        assert "unknown option" not in r.err, f"{opt} is in the help but refused: {r.err}"


def test_help_of_unknown_command(polaroid):
    assert polaroid("help", "nope").rc == 2


@pytest.mark.parametrize("args", [
    ["cat"],                                          # no input
    ["cat", "x.parquet", "--bogus"],                  # unknown option
    ["cat", "x.parquet", "--limit"],                  # missing value
    ["cat", "x.parquet", "--limit", "ten"],
    ["cat", "x.parquet", "--limit", "-3"],
    ["cat", "x.parquet", "--threads", "0"],
    ["cat", "x.parquet", "--format", "xml"],
    ["cat", "x.parquet", "--compression", "lzo"],
    ["cat", "x.parquet", "--columns", ","],
    ["cat", "x.parquet", "--row-group-size", "0"],
    ["cat", "x.parquet", "--delimiter", "ab"],
    ["cat", "x.parquet", "--from", "table"],
    ["schema"],
    ["schema", "x.parquet", "--nope"],
    ["convert", "x.parquet"],                         # no output
    ["convert", "x.parquet", "out.unknownext"],       # cannot tell the output format
    ["convert", "x.parquet", "out.csv", "--to", "none"],
    ["convert", "x.parquet", "out.arrow", "--compression", "snappy"],  # not an Arrow IPC codec
])
def test_usage_errors(polaroid, args):
    usage_error(polaroid(*args))


def test_option_equals_form(polaroid, sample):
    path, t = sample
    a = polaroid.ok("cat", path, "--limit=3", "--format=csv", "--columns=id,name")
    b = polaroid.ok("cat", path, "--limit", "3", "--format", "csv", "--columns", "id,name")
    assert a.out == b.out
    assert_csv_equals_table(a.text, t.select(["id", "name"]).slice(0, 3))


# ---------------------------------------------------------------- errors

def test_missing_file(polaroid, tmp_path):
    missing = tmp_path / "missing.parquet"
    runtime_error(polaroid("cat", missing), f'"{missing}"')
    runtime_error(polaroid("schema", missing), f'"{missing}"')
    runtime_error(polaroid("convert", missing, tmp_path / "o.csv"), f'"{missing}"')
    assert not (tmp_path / "o.csv").exists()


def test_glob_matching_nothing(polaroid, tmp_path):
    runtime_error(polaroid("cat", str(tmp_path / "nothing-*.parquet")), "no file matches")


def test_unknown_column(polaroid, sample):
    path, _ = sample
    runtime_error(polaroid("cat", path, "--columns", "id,nosuch"), '"nosuch"')


def test_garbage_and_truncated_parquet(polaroid, sample, tmp_path):
    path, _ = sample
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"this is not parquet at all" * 10)
    runtime_error(polaroid("cat", garbage), f'"{garbage}"')
    runtime_error(polaroid("schema", garbage), f'"{garbage}"')
    data = path.read_bytes()
    for cut in (0, 4, 12, len(data) // 2, len(data) - 9, len(data) - 1):
        trunc = tmp_path / f"trunc{cut}.parquet"
        trunc.write_bytes(data[:cut])
        runtime_error(polaroid("cat", trunc, "--format", "csv"), f'"{trunc}"')


def test_corrupt_page_names_column_and_row_group(polaroid, tmp_path):
    """A page header overwritten with junk: the error says which file, column and row group."""
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": list(range(1000)), "price": [i * 1.5 for i in range(1000)]}), path,
                   compression="none", use_dictionary=False, row_group_size=400)
    md = pq.ParquetFile(path).metadata
    off = md.row_group(1).column(1).data_page_offset
    data = bytearray(path.read_bytes())
    data[off:off + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    r = polaroid("cat", path, "--format", "csv")
    runtime_error(r, f'"{path}"', 'column "price"', "row group 1")
    # the first row group converts before the error: the half-written output is removed
    for ext in ("csv", "parquet"):
        out = tmp_path / f"half.{ext}"
        runtime_error(polaroid("convert", path, out, "--threads", "1"), 'column "price"')
        assert not out.exists()


def test_write_error_on_full_device(polaroid, sample):
    path, _ = sample
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb") as full:
        import subprocess
        p = subprocess.run([polaroid.path, "cat", str(path), "--format", "csv"], stdout=full,
                           stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 1, p.stderr
    assert p.stderr.decode().startswith("polaroid: ")


def test_convert_refuses_to_overwrite_its_input(polaroid, sample):
    path, _ = sample
    before = path.read_bytes()
    runtime_error(polaroid("convert", path, path), "also an input")
    assert path.read_bytes() == before


def test_failed_convert_leaves_no_output(polaroid, tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1" + b"\0" * 64 + b"PAR1")
    out = tmp_path / "out.parquet"
    runtime_error(polaroid("convert", bad, out))
    assert not out.exists()


# ---------------------------------------------------------------- output formats

def test_csv_nulls_and_quoting(polaroid, tmp_path):
    strings = [None, "", "plain", "a,b", 'say "hi"', "two\nlines", " padded ", "NULL", "x\r\ny"]
    t = pa.table({"s": pa.array(strings, pa.string()),
                  "i": pa.array([None if k % 3 == 0 else k for k in range(len(strings))], pa.int32())})
    path = tmp_path / "s.parquet"
    pq.write_table(t, path)
    text = polaroid.ok("cat", path, "--format", "csv").text
    assert_csv_equals_table(text, t)
    lines = text.split("\n")
    assert lines[0] == "s,i"
    assert lines[1] == ","          # NULL string, NULL int: two empty unquoted fields
    assert lines[2] == '"",1'       # the empty string is quoted
    # pyarrow's CSV reader (only unquoted empty fields as NULL) reads the same values back
    opts = pacsv.ConvertOptions(column_types={"s": pa.string(), "i": pa.int32()}, null_values=[""],
                                strings_can_be_null=True, quoted_strings_can_be_null=False)
    back = pacsv.read_csv(pa.BufferReader(text.encode()), convert_options=opts)
    assert back.equals(t)


def test_json_lines(polaroid, tmp_path):
    t = pa.table({
        "i": pa.array([1, None, -3], pa.int64()),
        "f": pa.array([0.5, None, -1e300], pa.float64()),
        "s": pa.array(["a\"b\\c\n", None, "\u00e9\u65e5"], pa.string()),
        "b": pa.array([True, False, None], pa.bool_()),
        "l": pa.array([[1, 2], None, []], pa.list_(pa.int32())),
        "st": pa.array([{"x": 1, "y": "u"}, None, {"x": None, "y": "w"}],
                       pa.struct([("x", pa.int32()), ("y", pa.string())])),
    })
    path = tmp_path / "j.parquet"
    pq.write_table(t, path)
    text = polaroid.ok("cat", path, "--format", "json").text
    lines = text.strip("\n").split("\n")
    assert len(lines) == 3
    got = [json.loads(l) for l in lines]
    assert got == t.to_pylist()
    assert all(list(o.keys()) == t.column_names for o in got)


def test_json_input(polaroid, tmp_path):
    """cat / convert / schema read JSON (newline-delimited, an array, standard input with
    --from json); expected values from pyarrow's JSON reader."""
    import pyarrow.json as pajson
    rows = [{"i": 1, "f": 0.5, "s": "a\"b\u00e9", "b": True, "l": [1, 2], "st": {"x": 1, "y": "u"}},
            {"i": None, "f": -1e300, "s": None, "b": False, "l": [], "st": None},
            {"i": -3, "f": 2.25, "s": "\u65e5", "b": None, "l": None, "st": {"x": None, "y": "w"}}]
    nd = tmp_path / "t.jsonl"
    nd.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ref = pajson.read_json(nd)
    out = tmp_path / "t.parquet"
    polaroid.ok("convert", nd, out)
    assert pq.read_table(out).to_pylist() == ref.to_pylist()
    arr = tmp_path / "t.json"
    arr.write_text(json.dumps(rows, indent=2))
    got = [json.loads(l) for l in polaroid.ok("cat", arr, "--format", "json").text.splitlines()]
    assert got == ref.to_pylist()
    with open(nd, "rb") as fh:
        text = polaroid.ok("cat", "-", "--from", "json", "--format", "json", stdin=fh).text
    assert [json.loads(l) for l in text.splitlines()] == ref.to_pylist()
    schema = polaroid.ok("schema", nd).text
    assert "format: json" in schema and "list<int64>" in schema
    bad = tmp_path / "bad.json"
    bad.write_text('{"i": 1}\n{"i": 2,\n')
    r = polaroid("cat", bad)
    assert r.rc == 1 and "bad.json" in r.err and "row 3" in r.err, r.err


def test_table_output_is_default(polaroid, sample):
    path, t = sample
    r = polaroid.ok("cat", path, "--limit", "5", "--columns", "id,name")
    text = r.text
    header = text.splitlines()[1]
    assert "id" in header and "name" in header
    for i in range(5):
        assert re.search(rf"\b{i}\b", text)
    assert "n0" in text and "NULL" in text  # row 3's name is NULL
    assert "n5" not in text
    assert polaroid.ok("cat", path, "--limit", "5", "--columns", "id,name", "--format", "table").out == r.out


def test_format_none_prints_row_count(polaroid, parts):
    d, t = parts
    r = polaroid.ok("cat", str(d / "part-*.parquet"), "--format", "none")
    assert r.text.strip() == f"{t.num_rows} rows"
    r = polaroid.ok("cat", str(d / "part-*.parquet"), "--format", "none", "--limit", "7")
    assert r.text.strip() == "7 rows"


# ---------------------------------------------------------------- selection, globs, several files

def test_columns_in_given_order(polaroid, sample):
    path, t = sample
    text = polaroid.ok("cat", path, "--columns", "price, id,ts", "--format", "csv").text
    assert_csv_equals_table(text, t.select(["price", "id", "ts"]))


def test_limit(polaroid, sample):
    path, t = sample
    for n in (0, 1, 19, 20, 21, 50, 1000):
        text = polaroid.ok("cat", path, "--limit", n, "--format", "csv").text
        assert_csv_equals_table(text, t.slice(0, n))


def test_glob_and_file_list(polaroid, parts):
    d, t = parts
    by_glob = polaroid.ok("cat", str(d / "part-*.parquet"), "--format", "csv").text
    assert_csv_equals_table(by_glob, t)
    listed = polaroid.ok("cat", d / "part-0.parquet", d / "part-1.parquet", d / "part-2.parquet",
                         "--format", "csv").text
    assert listed == by_glob
    # limit across file boundaries, with projection
    text = polaroid.ok("cat", str(d / "part-?.parquet"), "--limit", "12", "--columns", "name,id",
                       "--format", "csv").text
    assert_csv_equals_table(text, t.select(["name", "id"]).slice(0, 12))


def test_mismatched_schemas_are_an_error(polaroid, tmp_path):
    pq.write_table(pa.table({"a": [1]}), tmp_path / "m-0.parquet")
    pq.write_table(pa.table({"b": ["x"]}), tmp_path / "m-1.parquet")
    runtime_error(polaroid("cat", str(tmp_path / "m-*.parquet")))


def test_threads_do_not_change_output(polaroid, parts):
    d, _ = parts
    one = polaroid.ok("cat", str(d / "*.parquet"), "--format", "csv", "--threads", "1").out
    two = polaroid.ok("cat", str(d / "*.parquet"), "--format", "csv", "--threads", "2").out
    assert one == two


def test_format_sniffed_when_extension_unknown(polaroid, sample, tmp_path):
    path, t = sample
    odd = tmp_path / "data.bin"
    odd.write_bytes(path.read_bytes())
    assert_csv_equals_table(polaroid.ok("cat", odd, "--format", "csv").text, t)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("a,b\n1,2\n")
    r = polaroid("cat", text_file)
    runtime_error(r, "--from")
    assert_csv_equals_table(polaroid.ok("cat", text_file, "--from", "csv", "--format", "csv").text,
                            pa.table({"a": [1], "b": [2]}))


def test_csv_input_options(polaroid, tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("1;x\n2;y\n")
    text = polaroid.ok("cat", p, "--delimiter", ";", "--no-header", "--format", "csv").text
    rows = parse_csv(text)
    assert rows[1:] == [["1", "x"], ["2", "y"]]


# ---------------------------------------------------------------- -o and convert round trips

def test_output_file_takes_format_from_extension(polaroid, sample, tmp_path):
    path, t = sample
    out = tmp_path / "o.csv"
    r = polaroid.ok("cat", path, "-o", out)
    assert r.out == b""
    assert_csv_equals_table(out.read_text(), t)
    assert polaroid.ok("cat", path, "-o", "-", "--format", "csv").text == out.read_text()
    outp = tmp_path / "o.parquet"
    polaroid.ok("cat", path, "--output", outp, "--columns", "id,price")
    assert pq.read_table(outp).equals(t.select(["id", "price"]))


def test_convert_parquet_csv_parquet(polaroid, sample, tmp_path):
    path, t = sample
    csv_path, back = tmp_path / "t.csv", tmp_path / "back.parquet"
    polaroid.ok("convert", path, csv_path)
    assert_csv_equals_table(csv_path.read_text(), t)
    polaroid.ok("convert", csv_path, back)
    got = pq.read_table(back)
    assert got.column_names == t.column_names
    for name in ("id", "price", "flag", "ts", "day"):
        assert got.column(name).to_pylist() == t.column(name).to_pylist(), name
    # the CSV reader keeps "" and NULL apart
    assert got.column("name").to_pylist() == t.column("name").to_pylist()


@pytest.mark.parametrize("codec,pa_name", [("zstd", "ZSTD"), ("snappy", "SNAPPY"), ("gzip", "GZIP"),
                                           ("lz4", "LZ4"), ("none", "UNCOMPRESSED"), ("brotli", "BROTLI")])
def test_convert_compression_and_row_groups(polaroid, sample, tmp_path, codec, pa_name):
    path, t = sample
    out = tmp_path / f"o-{codec}.parquet"
    polaroid.ok("convert", path, out, "--compression", codec, "--row-group-size", "16")
    f = pq.ParquetFile(out)
    assert f.metadata.num_row_groups == 4  # 50 rows / 16
    assert [f.metadata.row_group(i).num_rows for i in range(4)] == [16, 16, 16, 2]
    assert f.metadata.row_group(0).column(0).compression == pa_name
    assert f.read().equals(t)


def test_convert_default_compression_is_zstd(polaroid, sample, tmp_path):
    path, t = sample
    out = tmp_path / "d.parquet"
    polaroid.ok("convert", path, out)
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "ZSTD"


def test_convert_several_inputs_and_to_override(polaroid, parts, tmp_path):
    d, t = parts
    out = tmp_path / "all.data"
    polaroid.ok("convert", d / "part-0.parquet", d / "part-1.parquet", d / "part-2.parquet", out,
                "--to", "parquet")
    assert pq.read_table(out).equals(t)
    out2 = tmp_path / "all2.parquet"
    polaroid.ok("convert", str(d / "part-*.parquet"), "-o", out2, "--limit", "11", "--columns", "id")
    assert pq.read_table(out2).equals(t.select(["id"]).slice(0, 11))


def test_convert_to_json_lines(polaroid, sample, tmp_path):
    path, t = sample
    out = tmp_path / "o.jsonl"
    polaroid.ok("convert", path, out, "--columns", "id,name,price,flag")
    got = [json.loads(l) for l in out.read_text().splitlines()]
    assert got == t.select(["id", "name", "price", "flag"]).to_pylist()


def test_convert_to_stdout(polaroid, sample):
    path, t = sample
    assert_csv_equals_table(polaroid.ok("convert", path, "-", "--to", "csv").text, t)


def test_arrow_round_trip(polaroid, sample, tmp_path):
    path, t = sample
    if not arrow_built(polaroid, tmp_path):
        pytest.skip("the Arrow IPC format is not built yet")
    out = tmp_path / "o.arrow"
    polaroid.ok("convert", path, out)
    with open(out, "rb") as f:
        data = f.read()
    reader = ipc.open_stream(data) if not data.startswith(b"ARROW1") else ipc.open_file(data)
    got = reader.read_all()
    assert got.equals(t)
    back = tmp_path / "back.parquet"
    polaroid.ok("convert", out, back)
    assert pq.read_table(back).equals(t)
    assert_csv_equals_table(polaroid.ok("cat", out, "--format", "csv").text, t)
    for codec in ("zstd", "lz4"):
        comp = tmp_path / f"o-{codec}.arrow"
        polaroid.ok("cat", path, "-o", comp, "--compression", codec)
        data = comp.read_bytes()
        reader = ipc.open_stream(data) if not data.startswith(b"ARROW1") else ipc.open_file(data)
        assert reader.read_all().equals(t), codec


# ---------------------------------------------------------------- schema

def test_schema_parquet(polaroid, sample):
    path, t = sample
    text = polaroid.ok("schema", path).text
    md = pq.ParquetFile(path).metadata
    for name in t.column_names:
        assert re.search(rf"^\s+{name}\s", text, re.M), name
    assert f"rows: {md.num_rows}" in text
    assert f"row groups: {md.num_row_groups}" in text
    for rg in range(md.num_row_groups):
        assert f"row group {rg}: {md.row_group(rg).num_rows} rows" in text
    assert md.row_group(0).column(0).compression in text
    # statistics of the first row group's id chunk, as pyarrow reads them
    st = md.row_group(0).column(0).statistics
    assert re.search(rf"min {st.min} max {st.max} nulls {st.null_count}", text)
    # doubles in their shortest round-trip form (Python's repr is one too)
    st = md.row_group(1).column(2).statistics
    assert f"min {st.min!r} max {st.max!r} nulls {st.null_count}" in text
    brief = polaroid.ok("schema", path, "--brief").text
    assert "row group 0:" not in brief and re.search(r"^\s+id\s+int64", brief, re.M)


def test_schema_csv_and_several_files(polaroid, parts, tmp_path):
    d, _ = parts
    text = polaroid.ok("schema", str(d / "part-*.parquet"), "--brief").text
    assert text.count("file: ") == 3
    p = tmp_path / "c.csv"
    p.write_text("a,b,c\n1,x,2.5\n2,y,\n")
    text = polaroid.ok("schema", p).text
    assert re.search(r"^\s+a\s+int64", text, re.M)
    assert re.search(r"^\s+b\s+utf8", text, re.M)
    assert re.search(r"^\s+c\s+float64", text, re.M)


def test_standard_input(polaroid, sample, tmp_path):
    path, t = sample
    with open(path, "rb") as f:
        assert_csv_equals_table(polaroid.ok("cat", "-", "--format", "csv", stdin=f).text, t)
    csv_path = tmp_path / "in.csv"
    csv_path.write_text("a,b\n1,x\n2,\n")
    with open(csv_path, "rb") as f:
        r = polaroid("cat", "-", stdin=f)
    runtime_error(r, '"-"', "--from")
    with open(csv_path, "rb") as f:
        text = polaroid.ok("cat", "-", "--from", "csv", "--format", "csv", stdin=f).text
    assert parse_csv(text) == [["a", "b"], ["1", "x"], ["2", None]]
    out = tmp_path / "from-stdin.parquet"
    with open(path, "rb") as f:
        polaroid.ok("convert", "-", out, stdin=f)
    assert pq.read_table(out).equals(t)
    with open(path, "rb") as f:
        usage_error(polaroid("cat", "-", "-", stdin=f))
