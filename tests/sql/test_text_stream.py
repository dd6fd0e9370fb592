"""Compressed CSV and JSON read a window at a time (src/io/text/text_src.c), compared with DuckDB.
PL_TEXT_WINDOW_BYTES (the environment, inherited by `polaroid sql`) makes the windows small, so
rows, quoted multi-line fields, JSON values and array separators are cut by window ends
everywhere; some files put a quoted multi-line field or a JSON object across the first window's
end on purpose. Also: a file of one row, an empty .gz, the line number of a bad row past many
windows, a truncated stream naming the file and the compressed offset."""
import gzip
import json
import re
import subprocess

import pyarrow as pa
import pytest

from conftest import polaroid_bin

WINDOWS = ["1", "100", "4096", "default"]


def _rows_csv(n):
    out = ["id,txt,v,d\n"]
    for i in range(n):
        txt = (f'"multi\nline {i}, ""q""\r\nend"' if i % 5 == 0 else
               '"x,y"' if i % 7 == 0 else f"plain {i}" if i % 3 else "")
        out.append(f"{i},{txt},{i * 0.5},2024-01-{i % 28 + 1:02d}\n")
    return "".join(out)


def _across(window, prefix_rows):
    """CSV whose quoted multi-line field holds byte `window` (the first window's end)."""
    head = "id,txt\n" + "".join(f"{i},row{i}\n" for i in range(prefix_rows))
    pad = max(window - len(head) - 8, 0)
    head += "".join(f"{prefix_rows},{'x' * pad}\n")
    return head + f'{prefix_rows + 1},"a\nlong, ""quoted""\nfield {"y" * 50}"\n' + "7,last\n"


def _json_lines(n, pretty):
    rows = [{"id": i, "s": f"q\"\n\u00e9 \u20ac {i}", "l": [i, {"k": None}], "b": i % 2 == 0,
             "v": i / 4} for i in range(n)]
    if pretty:
        return "".join(json.dumps(r, indent=2) + "\n" for r in rows)
    return "".join(json.dumps(r) + "\n" for r in rows)


def _zstd(data):
    return pa.compress(data, codec="zstd", asbytes=True)


def _write(tmp_path, name, text):
    raw = text.encode()
    p = tmp_path / name
    blob = _zstd(raw) if name.endswith(".zst") else gzip.compress(raw[:len(raw) // 3]) + \
        gzip.compress(raw[len(raw) // 3:])
    p.write_bytes(blob)
    return str(p).replace("'", "''")


def _window(monkeypatch, w):
    if w != "default":
        monkeypatch.setenv("PL_TEXT_WINDOW_BYTES", w)


CSV_CASES = {
    "rows.csv.gz": lambda: _rows_csv(3000),
    "rows.csv.zst": lambda: _rows_csv(3000),
    "across.csv.gz": lambda: _across(4096, 20),
    "one_row.csv.gz": lambda: "a,b\n1,x",
    "one_value.csv.zst": lambda: "7",
    # a byte order mark is skipped even when a window end cuts it
    "bom.csv.gz": lambda: "\ufeffa,b\n1,x\n2,y\n",
}


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("name", list(CSV_CASES))
def test_csv_windows(sql, tmp_path, monkeypatch, name, window):
    p = _write(tmp_path, name, CSV_CASES[name]())
    _window(monkeypatch, window)
    sql.check(f"SELECT * FROM read_csv('{p}')")


JSON_CASES = {
    "lines.json.gz": lambda: _json_lines(1500, False),
    "pretty.json.zst": lambda: _json_lines(800, True),
    "array.json.gz": lambda: json.dumps([{"id": i, "s": f"v{i}", "l": [i]} for i in range(1500)],
                                        indent=1),
    "one.json.gz": lambda: '{"a": 1, "b": "x"}',
    "bom.json.gz": lambda: '\ufeff{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}',
    # an object across the first window's end (4096 bytes)
    "across.json.gz": lambda: "".join(json.dumps({"id": i, "s": "x" * 30}) + "\n" for i in range(80))
    + json.dumps({"id": 99, "s": "y" * 300, "n": None}) + "\n",
}


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("name", list(JSON_CASES))
def test_json_windows(sql, tmp_path, monkeypatch, name, window):
    p = _write(tmp_path, name, JSON_CASES[name]())
    _window(monkeypatch, window)
    sql.check(f"SELECT * FROM read_json('{p}')")


def test_empty_gz(sql, tmp_path):
    p = tmp_path / "empty.csv.gz"
    p.write_bytes(gzip.compress(b""))
    sql.check(f"SELECT * FROM read_csv('{p}')")
    p = tmp_path / "empty.json.gz"
    p.write_bytes(gzip.compress(b""))
    sql.check(f"SELECT count(*) FROM read_json('{p}')")


def _err(query):
    r = subprocess.run([polaroid_bin(), "sql", query], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert "AddressSanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr
    return r.stderr


@pytest.mark.parametrize("window", ["100", "default"])
def test_bad_row_line(tmp_path, monkeypatch, window):
    """A bad value far past the sample: the error names the file and the physical line (quoted
    newlines count), as for the plain file."""
    text = _rows_csv(3000)
    bad_line = text.count("\n") + 1
    text += "oops,x,1.0,2024-01-01\n"
    p = _write(tmp_path, "bad.csv.gz", text)
    _window(monkeypatch, window)
    err = _err(f"SELECT * FROM read_csv('{p}', sample_size=100)")
    assert "bad.csv.gz" in err and f"row {bad_line}" in err and "oops" in err, err
    plain = tmp_path / "bad.csv"
    plain.write_text(text)
    perr = _err(f"SELECT * FROM read_csv('{plain}', sample_size=100)")
    assert re.sub(r"\S*bad\.csv(\.gz)?\S*", "F", err) == re.sub(r"\S*bad\.csv\S*", "F", perr)


def test_truncated_offset(tmp_path):
    raw = gzip.compress(_rows_csv(20000).encode())
    p = tmp_path / "cut.csv.gz"
    p.write_bytes(raw[:len(raw) - 100])
    err = _err(f"SELECT count(*) FROM '{p}'")
    assert "cut.csv.gz" in err and "ends early at byte" in err, err
    p = tmp_path / "cut.json.gz"
    p.write_bytes(gzip.compress(_json_lines(5000, False).encode())[:-50])
    err = _err(f"SELECT count(*) FROM '{p}'")
    assert "cut.json.gz" in err and "ends early at byte" in err, err


def _out(query):
    r = subprocess.run([polaroid_bin(), "sql", query, "--format", "csv"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("window", ["1", "16", "100"])
def test_ignore_errors_rows_cut(tmp_path, monkeypatch, window):
    """ignore_errors skips a bad row to its line's end, which a window may cut: the rows read
    (also of a one-column file, where a blank line is a NULL row) equal the plain file's."""
    lines = ["\x06,b", 'ab"c,1', '"d",2', 'x,"3"', '"e"f', "g", '"h"', "", "i"] * 7
    text = "\n".join(lines) + "\n"
    p = _write(tmp_path, "bad1.csv.gz", text)
    plain = tmp_path / "bad1.csv"
    plain.write_text(text)
    opts = "delim=';', header=false, ignore_errors=true, sample_size=2"
    want = _out(f"SELECT * FROM read_csv('{plain}', {opts})")
    _window(monkeypatch, window)
    assert _out(f"SELECT * FROM read_csv('{p}', {opts})") == want
