"""Every ```python snippet of docs/ADVANCED_ASYNC.md runs against the live server (its
"localhost:50051" replaced by the test server's address), each in a fresh namespace."""

from __future__ import annotations

import re

import pytest

from conftest import REPO

DOC = REPO / "docs" / "ADVANCED_ASYNC.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_doc_has_snippets():
    assert len(SNIPPETS) >= 7


@pytest.mark.parametrize("i", range(len(SNIPPETS)))
def test_doc_snippet_runs(i, addr, capsys):
    code = SNIPPETS[i].replace("localhost:50051", addr)
    exec(compile(code, f"{DOC.name}[snippet {i + 1}]", "exec"), {"__name__": "__doc_snippet__"})
