"""The core stays dependency-light."""

from __future__ import annotations

import subprocess
import sys

import leadscore


def test_import_leadscore_imports_no_optional_dependency():
    """`import leadscore` loads none of the extras."""
    code = (
        "import sys, leadscore, leadscore.config\n"
        "bad = {'pandas', 'numpy', 'sqlalchemy', 'hypothesis', 'psycopg', 'dask',\n"
        "       'matplotlib', 'ibis', 'duckdb', 'pyarrow', 'polars', 'pyspark',\n"
        "       'click', 'rich', 'sqlglot'}\n"
        "print(sorted(bad & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "[]" == out.stdout.strip()


def test_all_names_are_unique_and_importable():
    """Every public name in __all__ is importable, once (ruff keeps it sorted)."""
    assert len(set(leadscore.__all__)) == len(leadscore.__all__)
    for name in leadscore.__all__:
        assert getattr(leadscore, name) is not None


def test_version_is_the_installed_distribution_version():
    """__version__ comes from the package metadata."""
    from importlib.metadata import version

    assert version("leadscore") == leadscore.__version__


def test_the_core_imports_no_shell_module():
    """DESIGN: the core never imports the shell (engine, stores, adapters)."""
    code = (
        "import sys, leadscore, leadscore.config, leadscore.typing\n"
        "shell = {'leadscore.engine', 'leadscore.stores', 'leadscore.testing',\n"
        "         'leadscore.frame', 'leadscore.io', 'leadscore.cli', 'leadscore.plot'}\n"
        "print(sorted(shell & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "[]" == out.stdout.strip()


def test_the_public_typing_names_resolve():
    from leadscore import typing as lt
    from leadscore.stores import Store

    assert lt.Store is Store
    assert {"AttrValue", "Instant", "Scores", "Store"} == set(lt.__all__)
