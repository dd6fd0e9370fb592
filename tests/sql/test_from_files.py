"""Files named by their path in FROM, as DuckDB reads them: first item, later items of a
comma-separated FROM list, JOIN operands, with and without aliases. Expected values from DuckDB
at run time."""
import pytest

from conftest import fill_paths, write_text_files

FILES = {
    "a": "id,x\n1,10\n2,20\n3,30\n",
    "b": "id,y\n1,x\n3,z\n4,w\n",
    "c": "k\n1\n2\n",
}


@pytest.fixture
def files(tmp_path):
    return write_text_files(tmp_path, FILES, "csv")


CASES = [
    ("comma_aliases", "SELECT a.id, x, y FROM '<a>' a, '<b>' b WHERE a.id = b.id ORDER BY 1"),
    ("comma_as_aliases", "SELECT a.id, x, y FROM '<a>' AS a, '<b>' AS b WHERE a.id = b.id ORDER BY 1"),
    ("comma_three", "SELECT count(*) FROM '<a>' a, '<b>' b, '<c>' c WHERE a.id = b.id AND c.k = a.id"),
    ("comma_after_join", "SELECT a.id, y, k FROM '<a>' a JOIN '<b>' b ON a.id = b.id, '<c>' c "
                         "WHERE c.k = a.id ORDER BY 1"),
    ("comma_after_function", "SELECT count(*) FROM read_csv('<a>') a, '<b>' b"),
    ("comma_in_subquery", "SELECT * FROM (SELECT a.id FROM '<a>' a, '<c>' c WHERE a.id = c.k) ORDER BY 1"),
    ("strings_elsewhere_stay", "SELECT 'x' AS s, a.id FROM '<a>' a, '<c>' c WHERE a.id = c.k "
                               "AND 'p' IN ('p', 'q') ORDER BY 2"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_from_files(sql, files, name, query):
    sql.check(fill_paths(query, files))
