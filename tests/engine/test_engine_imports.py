"""The engine stays pure Python: nothing under game/engine/ may import Django or Channels."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "game" / "engine"
FORBIDDEN = {"django", "channels"}
FILES = sorted(ENGINE.rglob("*.py"))


def imported_modules(tree: ast.AST) -> list[str]:
    """Every absolute module name the code imports, including importlib/__import__ with a literal."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            arg = node.args[0]
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            if called in {"import_module", "__import__"} and literal:
                names.append(arg.value)  # type: ignore[attr-defined]
    return names


def test_the_engine_has_python_files_to_check() -> None:
    assert ENGINE / "rules.py" in FILES


@pytest.mark.parametrize("path", FILES, ids=[str(f.relative_to(ENGINE)) for f in FILES])
def test_an_engine_module_imports_neither_django_nor_channels(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [m for m in imported_modules(tree) if m.split(".")[0] in FORBIDDEN]
    assert bad == [], f"{path.name} imports {', '.join(bad)}; the engine must stay pure Python"


@pytest.mark.parametrize(
    "source",
    [
        "import django",
        "import channels.layers",
        "from django.db import models",
        "from channels import layers",
        "import os, django.conf",
        "importlib.import_module('django.conf')",
        "def f():\n    from channels.db import database_sync_to_async",
    ],
)
def test_the_check_catches_every_way_of_importing_django_or_channels(source: str) -> None:
    assert any(m.split(".")[0] in FORBIDDEN for m in imported_modules(ast.parse(source)))


@pytest.mark.parametrize("source", ["import djangoish", "from . import django", "from .channels import x"])
def test_the_check_ignores_lookalikes_and_relative_imports(source: str) -> None:
    assert not any(m.split(".")[0] in FORBIDDEN for m in imported_modules(ast.parse(source)))
