"""Reading our own source for the tests that check its shape (layers, storage, docs)."""
from __future__ import annotations

import ast


def parse(source: str) -> ast.Module:
    """ast.parse, tried again when CPython 3.11 raises "SystemError: AST constructor
    recursion depth mismatch": its AST builder keeps one depth count for all threads
    (python/cpython#106905), and the live servers of earlier tests in this process may be
    compiling templates in their threads at that moment. The source is never at fault."""
    for attempt in range(5):
        try:
            return ast.parse(source)
        except SystemError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")
