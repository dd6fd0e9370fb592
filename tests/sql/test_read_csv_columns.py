"""read_csv with the column names and types given: types/dtypes/column_types as a struct
({'col': 'TYPE'}, by name, after names=[...]), columns={'a': 'INT', ...} (every name and
type, the header sniffed with those types), auto_detect=false; and DuckDB's header sniffing
(no header when the first row fits the column types), column0.. names (zero-padded), empty
and header-only files (the runner formats the SQL: braces are doubled). Expected values from DuckDB at run time (names and types included)."""
import pytest

from conftest import fill_paths, write_text_files

FILES = {
    "t": "a,b,c\n1,x,2024-01-02\n2,,2024-01-03\n3,z,\n",
    "nums": "1,2\n3,4\n",
    "one_row": "1,2\n",
    "mixed": "1,x\n2,y\n",
    "hdr_num": "x,1\n2,3\n",
    "text": "a,b\nc,d\n",
    "late_text": "1,2\n3,x\n",
    "wide": ",".join(str(i) for i in range(12)) + "\n" + ",".join(str(i * 2) for i in range(12)) + "\n",
    "ten": ",".join(str(i) for i in range(10)) + "\n",
    "empty_names": "x,x,,d\n1,2,3,4\n",
    "empty": "",
    "header_only": "a,b,c\n",
    "header_only_nonl": "a,b,c",
    "num_only_row": "7,8,9",
}


@pytest.fixture
def files(tmp_path):
    return write_text_files(tmp_path, FILES, "csv")


CASES = [
    ("types_struct", "SELECT typeof(a), typeof(c), * FROM read_csv('<t>', types={{'a': 'DOUBLE', 'c': 'VARCHAR'}})"),
    ("dtypes_struct", "SELECT typeof(a), * FROM read_csv('<t>', dtypes={{'a': 'SMALLINT'}})"),
    ("column_types_struct", "SELECT typeof(b), * FROM read_csv('<t>', column_types={{'b': 'VARCHAR', 'a': 'DECIMAL(10,2)'}})"),
    ("types_struct_after_names", "SELECT * FROM read_csv('<t>', types={{'p': 'DOUBLE'}}, names=['p', 'q'])"),
    ("types_struct_headerless", "SELECT typeof(column0), * FROM read_csv('<nums>', types={{'column0': 'VARCHAR'}})"),
    ("columns", "SELECT typeof(x), typeof(z), * FROM read_csv('<t>', columns={{'x': 'INT', 'y': 'VARCHAR', 'z': 'DATE'}})"),
    ("columns_header_true", "SELECT * FROM read_csv('<t>', columns={{'x': 'INT', 'y': 'VARCHAR', 'z': 'DATE'}}, header=true)"),
    ("columns_all_text", "SELECT * FROM read_csv('<t>', columns={{'p': 'VARCHAR', 'q': 'VARCHAR', 'r': 'VARCHAR'}})"),
    ("columns_fit_first_row", "SELECT * FROM read_csv('<mixed>', columns={{'p': 'INT', 'q': 'VARCHAR'}})"),
    ("columns_text_first_row", "SELECT * FROM read_csv('<mixed>', columns={{'p': 'VARCHAR', 'q': 'VARCHAR'}})"),
    ("columns_numbers", "SELECT * FROM read_csv('<nums>', columns={{'p': 'INT', 'q': 'BIGINT'}})"),
    ("columns_no_autodetect", "SELECT * FROM read_csv('<t>', columns={{'a': 'VARCHAR', 'b': 'VARCHAR', 'c': 'VARCHAR'}}, auto_detect=false)"),
    ("columns_no_autodetect_header", "SELECT * FROM read_csv('<t>', columns={{'p': 'INT', 'q': 'VARCHAR', 'r': 'DATE'}}, auto_detect=false, header=true)"),
    ("columns_no_autodetect_skip", "SELECT * FROM read_csv('<t>', columns={{'p': 'INT', 'q': 'VARCHAR', 'r': 'DATE'}}, auto_detect=false, skip=1)"),
    ("columns_empty_file", "SELECT * FROM read_csv('<empty>', columns={{'a': 'INT'}})"),
    ("columns_header_only", "SELECT * FROM read_csv('<header_only>', columns={{'a': 'INT', 'b': 'INT', 'c': 'INT'}})"),
    ("sniff_numbers", "SELECT * FROM read_csv('<nums>')"),
    ("sniff_one_row", "SELECT * FROM read_csv('<one_row>')"),
    ("sniff_mixed", "SELECT * FROM read_csv('<mixed>')"),
    ("sniff_header_with_number", "SELECT * FROM read_csv('<hdr_num>')"),
    ("sniff_all_text", "SELECT * FROM read_csv('<text>')"),
    ("sniff_late_text", "SELECT * FROM read_csv('<late_text>')"),
    ("sniff_all_varchar", "SELECT * FROM read_csv('<nums>', all_varchar=true)"),
    ("header_false", "SELECT * FROM read_csv('<t>', header=false)"),
    ("header_true_numbers", "SELECT * FROM read_csv('<nums>', header=true)"),
    ("wide_names", "SELECT * FROM read_csv('<wide>')"),
    ("wide_names_no_header", "SELECT * FROM read_csv('<wide>', header=false)"),
    ("ten_names", "SELECT * FROM read_csv('<ten>')"),
    ("empty_header_names", "SELECT * FROM read_csv('<empty_names>')"),
    ("empty_file", "SELECT * FROM read_csv('<empty>')"),
    ("empty_file_header", "SELECT * FROM read_csv('<empty>', header=true)"),
    ("empty_file_count", "SELECT count(*) FROM read_csv('<empty>')"),
    ("header_only", "SELECT * FROM read_csv('<header_only>')"),
    ("header_only_no_newline", "SELECT * FROM read_csv('<header_only_nonl>')"),
    ("header_only_header_false", "SELECT * FROM read_csv('<header_only>', header=false)"),
    ("numbers_only_row", "SELECT * FROM read_csv('<num_only_row>')"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_read_csv_columns(sql, files, name, query):
    sql.check(fill_paths(query, files))


def test_read_csv_columns_errors(sql, files):
    t = files["t"]
    sql.error([f"SELECT * FROM read_csv('{t}', types={{{{'zz': 'INT'}}}})"], "zz")
    sql.error([f"SELECT * FROM read_csv('{t}', types={{{{'a': 'nope'}}}})"], "nope")
    sql.error([f"SELECT * FROM read_csv('{t}', columns={{{{'x': 'INT', 'y': 'VARCHAR'}}}})"],
              "columns gives 2 columns but the file has 3")
    sql.error([f"SELECT * FROM read_csv('{t}', auto_detect=false)"], "columns")
    sql.error([f"SELECT * FROM read_csv('{t}', columns={{{{'x': 'INT', 'y': 'VARCHAR', 'z': 'DATE'}}}}, names=['q'])"],
              "names")
