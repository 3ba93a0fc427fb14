"""The import direction stays one way (bot/ and storage/ know nothing of platforms), no import
cycle, and no module or function over the size limits (lint-imports checks the layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "bot": ("adapters", "cpdbot", "telegram", "slack_bolt", "slack_sdk", "aiohttp"),
    "storage": ("adapters", "cpdbot", "telegram", "slack_bolt", "slack_sdk", "aiohttp"),
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_core_packages_import_no_platform_code(package: str) -> None:
    offending = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported(path):
            if name.split(".")[0] in FORBIDDEN[package]:
                offending.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offending, offending


def test_the_dialogue_does_no_io() -> None:
    names = set().union(*(imported(p) for p in (ROOT / "bot" / "dialogue").rglob("*.py")))
    assert not {
        n
        for n in names
        if n.split(".")[0] in {"storage", "sqlalchemy", "sqlmodel", "httpx", "asyncio", "time"}
    }


# Sizes (issue 11): CI has no ../shared/tools/structure.py, so the limits are checked here.
SIZED = ("bot", "storage", "adapters", "cpdbot")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def product_modules() -> dict[str, Path]:
    """Every module of the shipped packages by dotted name (migrations left out)."""
    found: dict[str, Path] = {}
    for package in SIZED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.relative_to(ROOT).parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def test_no_module_is_over_600_lines() -> None:
    too_long = {
        name: n
        for name, path in product_modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, too_long


def test_no_function_is_over_80_lines() -> None:
    too_long: dict[str, int] = {}
    for name, path in product_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    too_long[f"{name}:{node.name} (line {node.lineno})"] = n
    assert not too_long, too_long


def _imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that `name` imports anywhere (in functions, under TYPE_CHECKING)."""

    def ours(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        found |= {m for t in targets if (m := ours(t)) is not None}
    # A package importing its own submodules (re-exports) is not a cycle.
    return {m for m in found if m != name and not m.startswith(name + ".")}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One import cycle through each module that is the first (by name) of some cycle."""
    cycles: list[list[str]] = []
    for start in sorted(graph):
        # Depth-first through modules after `start` only, so each cycle is found once.
        stack, seen = [(start, [start])], {start}
        while stack and not (cycles and cycles[-1][0] == start):
            here, trail = stack.pop()
            for nxt in sorted(graph.get(here, ())):
                if nxt == start:
                    cycles.append(trail)
                    break
                if nxt > start and nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
    return cycles


def test_find_cycles_finds_each_cycle_once() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"], ["d", "e"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules() -> None:
    modules = product_modules()
    graph = {name: _imports_of(name, path, modules) for name, path in modules.items()}
    cycles = find_cycles(graph)
    assert not cycles, [" -> ".join([*c, c[0]]) for c in cycles]
