"""The package's layers (``asvbench/README.md``, "Layers") hold: no module imports from a higher
layer, and no two top-level units (subpackages / top-level modules) import each other, directly
or round a longer circle. Every import counts, including those inside functions (the CLI imports
its pipelines lazily) and under ``if TYPE_CHECKING:``; the table in the README is the reference,
so a new subpackage or top-level module must be placed in it."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "asvbench"

#: imports that still run the wrong way, each named with why, for the lead to shrink;
#: an entry that no longer matches an import fails the test (so it cannot go stale)
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


@cache
def layer_table() -> list[list[str]]:
    """The units of each row of the README's layer table, top (command line) to bottom (base)."""
    text = (PACKAGE / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("layer", "") or set(cells[0]) <= set("-: "):
            continue
        names = re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", cells[1]))
        rows.append([n.removesuffix("/").removesuffix(".py") for n in names])
    return rows


@cache
def layer_of() -> dict[str, int]:
    """unit -> layer number (0 = base, higher = higher)."""
    rows = layer_table()
    return {unit: len(rows) - 1 - i for i, row in enumerate(rows) for unit in row}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def unit(module: str) -> str:
    """The top-level unit of ``asvbench.a.b`` (``a``); the package itself is ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported_modules(module: str, path: Path) -> list[tuple[str, int]]:
    """(asvbench module, line) of every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] == "asvbench"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "asvbench":
                continue
            if target == "asvbench" or not node.module:  # ``from asvbench import x``, ``from . import x``
                out += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
            else:
                out.append((target, node.lineno))
    return out


@cache
def unit_edges() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> the ``file:line`` of each such import."""
    edges: dict[tuple[str, str], list[str]] = {}
    units = set(layer_of()) | {unit(m) for m in modules()}
    for module, path in modules().items():
        for target, line in imported_modules(module, path):
            to = unit(target)
            if to not in units:  # ``from asvbench import __version__``: a name of the package
                to = "__init__"
            if to != unit(module):
                edges.setdefault((unit(module), to), []).append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    return edges


def test_the_readme_table_is_read():
    rows = layer_table()
    assert rows[0][0] == "cli" and rows[-2] == ["metrics"] and "errors" in rows[-1] and len(rows) == 6


def test_known_arrows_are_seen_and_ordered():
    """What the checks below rest on: real imports are found (the CLI imports its pipelines inside
    functions), and the table orders the layers (a scoring -> cli import would be flagged)."""
    edges = unit_edges()
    assert ("cli", "scoring") in edges and ("scoring", "io") in edges and ("io", "errors") in edges
    layer = layer_of()
    assert layer["cli"] > layer["scoring"] > layer["results"] > layer["io"] > layer["metrics"] > layer["errors"]


def test_every_unit_has_a_layer_and_every_entry_exists():
    units = {unit(m) for m in modules()}
    missing = sorted(units - set(layer_of()))
    assert not missing, f"place these in the layer table of asvbench/README.md: {missing}"
    gone = sorted(set(layer_of()) - units)
    assert not gone, f"the layer table of asvbench/README.md names what no longer exists: {gone}"


def test_no_import_from_a_higher_layer():
    layer = layer_of()
    upward = {(a, b): where for (a, b), where in unit_edges().items()
              if a in layer and b in layer and layer[b] > layer[a]}
    unexpected = {k: v for k, v in upward.items() if k not in ALLOWED_UPWARD}
    assert not unexpected, "imports from a higher layer: " + "; ".join(
        f"{a} -> {b} at {', '.join(where)}" for (a, b), where in sorted(unexpected.items()))
    stale = sorted(set(ALLOWED_UPWARD) - set(upward))
    assert not stale, f"remove these from ALLOWED_UPWARD, they are gone: {stale}"


def _cycles(edges: set[tuple[str, str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one unit (Tarjan)."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder():
    assert _cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [frozenset("abc")]
    assert _cycles({("a", "b"), ("b", "c")}) == []


def test_no_import_circles_between_top_level_units():
    edges = unit_edges()
    cycles = _cycles(set(edges))
    unexpected = [c for c in cycles if c not in ALLOWED_CYCLES]

    def show(component: frozenset[str]) -> str:
        inner = [f"{a} -> {b} at {edges[(a, b)][0]}" for (a, b) in sorted(edges) if a in component and b in component]
        return "{" + ", ".join(sorted(component)) + "}: " + "; ".join(inner)

    assert not unexpected, "import circles: " + " | ".join(map(show, unexpected))
    stale = [c for c in ALLOWED_CYCLES if c not in cycles]
    assert not stale, f"remove these from ALLOWED_CYCLES, they are gone: {stale}"


@pytest.mark.parametrize("source, expected", [
    ("from asvbench.io.trials import x", ["asvbench.io.trials"]),
    ("def f():\n    from asvbench import errors, __version__", ["asvbench.errors", "asvbench.__version__"]),
    ("from . import store\nfrom ..io import audio", ["asvbench.extract.store", "asvbench.io"]),
    ("import asvbench.metrics.eer as e\nimport numpy", ["asvbench.metrics.eer"]),
])
def test_imports_are_found_at_any_depth(tmp_path, source, expected):
    path = tmp_path / "engine.py"
    path.write_text(source)
    assert [m for m, _ in imported_modules("asvbench.extract.engine", path)] == expected
