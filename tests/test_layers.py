"""The import direction stays one way: bot/ and storage/ know nothing of platforms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
