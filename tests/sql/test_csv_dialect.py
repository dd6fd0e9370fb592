"""The CSV delimiter sniffed as DuckDB's sniffer does when none is given: of ',', '|', ';' and
tab, the one splitting the first lines into the same number of fields (quotes respected).
Expected values from DuckDB at run time (names and types included)."""
import pytest

from conftest import fill_paths, write_text_files

FILES = {
    "semi": "a;b;c\n1;x,y;2024-01-01\n2;z;2024-01-02\n",
    "pipe": "a|b\n1|x\n2|y\n",
    "tab": "a\tb\tc\n1\tx\t2.5\n2\ty\t3.5\n",
    "comma_with_semis": "a,b\n1,x;y\n2,z;w;v\n3,q\n",
    "semi_decimal_comma": "id;price\n1;3,5\n2;4,25\n",
    "quoted_delims": 'a;b\n"1;2";"x|y,z"\n"3";"w"\n',
    "one_col": "name\nalice\nbob\n",
    "one_line_semi": "a;b\n",
    "no_newline_pipe": "a|b\n1|2",
    "blank_first": "\n\na|b\n1|2\n",
}


@pytest.fixture
def files(tmp_path):
    return write_text_files(tmp_path, FILES, "csv")


CASES = [(name, f"SELECT * FROM read_csv('<{name}>')") for name in FILES] + [
    ("from_path", "SELECT * FROM '<semi>'"),
    ("given_delim_wins", "SELECT * FROM read_csv('<pipe>', delim=',')"),
    ("sniffed_with_types", "SELECT * FROM read_csv('<semi>', types={{'a': 'DOUBLE'}})"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_csv_dialect(sql, files, name, query):
    sql.check(fill_paths(query, files))
