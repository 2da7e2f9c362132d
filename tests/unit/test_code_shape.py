"""Guards that keep the house in order: small functions and modules.

Complexity is ruff's ``C90`` (``max-complexity`` in pyproject.toml); these are the sizes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "segmentation"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 500


def long_functions(source: str) -> list[tuple[str, int]]:
    """(name, lines) of every function or method in ``source`` over the limit."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                found.append((node.name, lines))
    return found


def test_the_guard_counts_lines_of_nested_and_decorated_functions() -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    source = f"class A:\n    @staticmethod\n    def f():\n{body}\n    def g():\n        pass\n"
    assert long_functions(source) == [("f", MAX_FUNCTION_LINES + 1)]


def test_no_function_in_the_package_is_longer_than_60_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {name} ({lines} lines)"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name, lines in long_functions(path.read_text(encoding="utf-8"))
    ]
    assert long == []


def test_no_module_in_the_package_is_longer_than_500_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)} ({n} lines)"
        for path in sorted(PACKAGE.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert long == []
