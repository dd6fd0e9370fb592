"""read_csv options DuckDB users pass: skip, names / column_names, all_varchar, positional
types / dtypes / column_types, compression; compared with DuckDB (names and types included)."""
import pytest

TEXT = "junk line\n# another\na,b,c\n1,x,2024-01-02\n2,,2024-01-03\n3,z,\n"


@pytest.fixture
def csvfile(tmp_path):
    p = tmp_path / "sk.csv"
    p.write_text(TEXT)
    return str(p)


CASES = [
    ("skip", "SELECT * FROM read_csv('{p}', skip=2)"),
    ("names_partial", "SELECT * FROM read_csv('{p}', skip=2, names=['p', 'q'])"),
    ("column_names", "SELECT * FROM read_csv('{p}', skip=2, column_names=['p', 'q', 'r'])"),
    ("no_header_names", "SELECT * FROM read_csv('{p}', skip=3, header=false, names=['x', 'y', 'z'])"),
    ("all_varchar", "SELECT typeof(a), typeof(b), typeof(c), * FROM read_csv('{p}', skip=2, all_varchar=true)"),
    ("types", "SELECT typeof(a), typeof(c), * FROM read_csv('{p}', skip=2, types=['DOUBLE', 'VARCHAR', 'TIMESTAMP'])"),
    ("dtypes_partial", "SELECT typeof(a), * FROM read_csv('{p}', skip=2, dtypes=['SMALLINT'])"),
    ("types_and_names", "SELECT * FROM read_csv('{p}', skip=2, types=['BIGINT', 'VARCHAR', 'DATE'], names=['id'])"),
    ("decimal_type", "SELECT typeof(a), a FROM read_csv('{p}', skip=2, column_types=['DECIMAL(10,2)'])"),
    ("compression", "SELECT * FROM read_csv('{p}', skip=2, compression='auto')"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_read_csv_options(sql, csvfile, name, query):
    sql.check(query.format(p=csvfile))


def test_read_csv_option_errors(sql, csvfile):
    sql.error([f"SELECT * FROM read_csv('{csvfile}', skip=2, types=['nope'])"], "nope")
    sql.error([f"SELECT * FROM read_csv('{csvfile}', skip=-1)"], "skip")
