"""What DuckDB's CSV sniffer finds when nothing is given: the delimiter (of ',', '|', ';' and
tab, the one splitting the first lines into the same number of fields, quotes respected), and
dates and timestamps in other forms than ISO (day/month/year orders with '-', '/', '.' or ' ',
12-hour times). Expected values from DuckDB at run time (names and types included)."""
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
    # dates and timestamps
    "dmy": "d,t\n01/02/2024,01/02/2024 10:00:00\n13/02/2024,13/02/2024 11:00:00\n",
    "mdy": "d\n01/02/2024\n02/13/2024\n",
    "ymd_slash": "d,t\n2024/01/02,2024/01/02 10:11:12\n2024/02/13,2024/12/31 23:59:59\n",
    "dots": "d\n01.02.2024\n31.12.1999\n",
    "spaces": "d\n01 02 2024\n",
    "short_year": "d\n01/02/03\n",
    "short_year_mdy": "d\n01-13-24\n",
    "one_digit": "d\n1/2/2024\n12/31/2024\n",
    "ampm": "t\n01/13/2024 10:11:12 PM\n02/01/2024 01:02:03 AM\n",
    "ampm_dmy": "t\n13/01/2024 01:02:03 AM\n",
    "fraction": "t\n01/02/2024 10:11:12.5\n",
    "dates_and_nulls": "a,d\n1,NULL\n2,05/06/2007\n3,NULL\n",
    "no_header_dates": "01/02/2024,5\n03/04/2024,6\n",
    "not_dates": "d\n01/02/2024\nsoon\n",
}


@pytest.fixture
def files(tmp_path):
    return write_text_files(tmp_path, FILES, "csv")


CASES = [(name, f"SELECT * FROM read_csv('<{name}>')") for name in FILES] + [
    ("from_path", "SELECT * FROM '<semi>'"),
    ("given_delim_wins", "SELECT * FROM read_csv('<pipe>', delim=',')"),
    ("sniffed_with_types", "SELECT * FROM read_csv('<semi>', types={{'a': 'DOUBLE'}})"),
    ("dmy_given_date", "SELECT * FROM read_csv('<dmy>', types={{'d': 'DATE'}})"),
    ("dmy_given_dateformat", "SELECT * FROM read_csv('<dmy>', dateformat='%m/%d/%Y')"),
    ("dmy_all_varchar", "SELECT * FROM read_csv('<dmy>', all_varchar=true)"),
    ("dmy_nullstr", "SELECT * FROM read_csv('<dates_and_nulls>', nullstr='NULL')"),
    ("dmy_arith", "SELECT d + INTERVAL 1 DAY, t::DATE FROM read_csv('<dmy>')"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_csv_dialect(sql, files, name, query):
    sql.check(fill_paths(query, files))


def test_mixed_date_forms_stay_text(sql, tmp_path):
    """A column of ISO dates and day/month/year ones fits no single form: it stays text (DuckDB
    picks a form from part of the sample and then fails on the other rows)."""
    p = tmp_path / "mixed.csv"
    p.write_text("d\n2024-01-02\n01/02/2024\n")
    r = sql.polaroid([f"SELECT typeof(d), d FROM read_csv('{p}')"], fmt="csv")
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert r.stdout.decode().splitlines() == ["typeof(d),d", "VARCHAR,2024-01-02",
                                              "VARCHAR,01/02/2024"]
