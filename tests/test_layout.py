"""The source tree keeps its architecture: the core never imports the shell."""

import ast
import pathlib

import pytest

import leadscore

SRC = pathlib.Path(leadscore.__file__).parent
CORE = [
    "model",
    "plan",
    "paths",
    "results.py",
    "presets.py",
    "config.py",
    "_time.py",
    "_qualify.py",
    "_money.py",
]
SHELL = (
    "leadscore.engine",
    "leadscore.stores",
    "leadscore.testing",
    "leadscore.frame",
    "leadscore.io",
    "leadscore.cli",
    "leadscore.plot",
)


def imported(path: pathlib.Path) -> set[str]:
    names: set[str] = set()
    package = "leadscore." + ".".join(path.relative_to(SRC).parent.parts)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.rstrip(".").split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def core_files() -> list[pathlib.Path]:
    files: list[pathlib.Path] = []
    for entry in CORE:
        target = SRC / entry
        files.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return files


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_the_core_does_not_import_the_shell(path: pathlib.Path) -> None:
    offending = {n for n in imported(path) if n.startswith(SHELL)}
    assert not offending, f"{path.relative_to(SRC)} imports {sorted(offending)}"


def test_the_check_sees_imports() -> None:
    fake = SRC / "model" / "_events.py"
    assert "leadscore.model._limits" in imported(fake)
    engine = SRC / "engine.py"
    files = [engine] if engine.exists() else sorted((SRC / "engine").glob("*.py"))
    names = set().union(*(imported(f) for f in files))
    assert any(n.startswith("leadscore.stores") for n in names)
