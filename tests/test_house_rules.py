"""House rules that keep the code readable: short modules and functions, no lookups by name,
and tests that stand on their own (nothing under tests/ imports bench/ or scripts/).

Every failure lists each offender as ``path:line`` so it can be opened straight away.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE = ("recommender", "web")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# Lookups by name that neither mypy nor import-linter can follow.
BANNED = ("import_module", "optional_service", "_pick(")
OUTSIDE_TESTS = {"bench", "scripts"}
# Calls that load a module from a file path or by a name held in a string.
PATH_LOADERS = {"spec_from_file_location", "SourceFileLoader", "run_path", "load_source",
                "import_module", "__import__"}
LITERALS = (ast.Dict, ast.List, ast.Tuple, ast.Set)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _files(folders, pattern: str = "*.py") -> list[Path]:
    found = []
    for folder in folders:
        found += [p for p in sorted((REPO / folder).rglob(pattern))
                  if p.is_file() and "__pycache__" not in p.parts]
    return found


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(REPO)}:{line}"


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_flat_table(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when the body, docstring aside, only builds and returns one literal table."""
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if len(body) == 1 and isinstance(body[0], ast.Return):
        return isinstance(body[0].value, LITERALS)
    if len(body) == 2 and isinstance(body[1], ast.Return):
        table, returned = body
        target = (table.targets[0] if isinstance(table, ast.Assign) and len(table.targets) == 1
                  else table.target if isinstance(table, ast.AnnAssign) else None)
        return (isinstance(target, ast.Name) and isinstance(table.value, LITERALS)
                and isinstance(returned.value, ast.Name) and returned.value.id == target.id)
    return False


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _names_outside_tests(text: str) -> bool:
    """True when a string names bench/ or scripts/ as a module or a path."""
    head = text.replace("\\", "/").strip("./").split("/")[0].split(".")[0]
    return head in OUTSIDE_TESTS


def test_no_module_over_400_lines():
    too_long = []
    for path in _files(CODE):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{_where(path, MAX_MODULE_LINES + 1)} ({lines} lines)")
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(too_long)


def test_no_function_over_80_lines_unless_a_flat_table():
    too_long = []
    for path in _files(CODE):
        for node in ast.walk(_parse(path)):
            if not isinstance(node, FUNCTIONS):
                continue
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and not _is_flat_table(node):
                too_long.append(f"{_where(path, node.lineno)} {node.name} ({lines} lines)")
    assert not too_long, (f"functions over {MAX_FUNCTION_LINES} lines:\n"
                          + "\n".join(too_long))


def test_no_lookups_by_name_in_the_code():
    found = []
    for path in _files(CODE, "*"):
        raw = path.read_bytes()
        if b"\0" in raw:
            continue  # a binary file
        for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
            found += [f"{_where(path, number)} {word}" for word in BANNED if word in line]
    assert not found, "lookups by name:\n" + "\n".join(found)


def test_tests_import_neither_bench_nor_scripts():
    found = []
    for path in _files(["tests"]):
        tree = _parse(path)
        mentions_outside = any(isinstance(node, ast.Constant) and isinstance(node.value, str)
                               and _names_outside_tests(node.value)
                               for node in ast.walk(tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [f"{_where(path, node.lineno)} import {alias.name}"
                          for alias in node.names if _names_outside_tests(alias.name)]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if _names_outside_tests(node.module):
                    found.append(f"{_where(path, node.lineno)} from {node.module} import")
            elif (isinstance(node, ast.Call) and _call_name(node) in PATH_LOADERS
                  and mentions_outside):
                found.append(f"{_where(path, node.lineno)} {_call_name(node)}(...) "
                             "loads a module while the file names bench/ or scripts/")
    assert not found, "tests reaching into bench/ or scripts/:\n" + "\n".join(found)


def test_the_rules_see_what_they_look_for():
    """The detectors themselves: a flat table passes, a long body and path loading do not."""
    table = ast.parse("def f():\n    '''Doc.'''\n    return {\n" + "    1: 2,\n" * 90 + "}\n")
    named = ast.parse("def f():\n    rows = [\n" + "    1,\n" * 90 + "]\n    return rows\n")
    steps = ast.parse("def f():\n" + "    x = 1\n" * 90)
    assert _is_flat_table(table.body[0]) and _is_flat_table(named.body[0])
    assert not _is_flat_table(steps.body[0])
    assert _names_outside_tests("bench") and _names_outside_tests("scripts/screenshots.py")
    assert _names_outside_tests("bench.load_test")
    assert not _names_outside_tests("benchmark") and not _names_outside_tests("tests/support")
    loader = ast.parse("importlib.util.spec_from_file_location('m', path)").body[0].value
    assert _call_name(loader) in PATH_LOADERS
