"""Developer sessions: tests, lint, typing, docs, examples, bench.

``nox`` runs tests, lint, typing, docs and examples; ``nox -s bench`` the
benchmarks. Each session installs what it needs from pyproject.toml's dependency
groups into its own virtual environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typing", "docs", "examples"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")


def group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


#: The Pythons the classifiers name; nox skips those not installed here.
PYTHONS = ["3.11", "3.12", "3.13"]
#: The lowest versions the core's requirements allow (pyproject.toml).
LOWEST = ["attrs==23.1.0", "python-dateutil==2.8.2"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    session.install("-e", ".", *group("tests"))
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS[0])
def coverage(session: nox.Session) -> None:
    """The suite under coverage (branches); fails below [tool.coverage.report]."""
    session.install("-e", ".", *group("tests"), "coverage[toml]>=7")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report")


@nox.session(python=PYTHONS[0])
def tests_lowest(session: nox.Session) -> None:
    """The suite at the lowest versions of the core's dependencies."""
    session.install("-e", ".", *group("tests"))
    session.install(*LOWEST)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS[0])
def tests_core(session: nox.Session) -> None:
    """The suite without any extra: only what the core and the tests need.

    The extras' own modules and tests are left out (tests/conftest.py names the
    test modules, under LEADSCORE_CORE_ONLY=1; their doctests are left out here).
    """
    session.install("-e", ".[testing]")
    session.run(
        "pytest",
        "--ignore=tests/test_sqlalchemy_store.py",
        "--ignore-glob=src/leadscore/stores/*sqlalchemy*.py",
        "--ignore=src/leadscore/cli",
        "--ignore=src/leadscore/frame/_udf.py",
        "--ignore=src/leadscore/io/_read.py",  # EventReader.to_arrow's example
        "--ignore=docs/howto/frames.md",
        *session.posargs,
        env={"LEADSCORE_CORE_ONLY": "1"},  # tests/conftest.py: no extras' tests
    )


@nox.session
def lint(session: nox.Session) -> None:
    session.install(*group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    session.install("-e", ".", *group("typing"))
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    session.install("-e", ".", *group("docs"))
    session.run(
        "sphinx-build",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "docs",
        "docs/_build/html",
    )


@nox.session
def examples(session: nox.Session) -> None:
    # The notebook runs through examples/run_notebook.py (nbclient, a kernel).
    session.install(
        ".[frame,plot,polars]", "nbclient>=0.10", "nbformat>=5.10", "ipykernel>=6.29"
    )
    for script in sorted((ROOT / "examples").glob("*.py")):
        session.run("python", str(script))


@nox.session
def bench(session: nox.Session) -> None:
    session.install(".", *group("bench"))
    args = session.posargs or []
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    env = {"PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        json_out = str(out / f"{script.stem}.json")
        session.run("python", str(script), "--json", json_out, *args, env=env)
    # The engine again, with a model whose reads take the fast path.
    engine, json_out = ROOT / "benchmarks" / "bench_engine.py", out / "highlevel.json"
    session.run(
        "python", str(engine), "--model", "highlevel", "--json", str(json_out), env=env
    )


@nox.session
def mutate(session: nox.Session) -> None:
    """Mutation testing of the core with mutmut; see docs/mutation.md.

    mutmut copies the tree into ``mutants/`` (git-ignored) and reads its settings
    from ``[tool.mutmut]`` in pyproject.toml. Extra arguments go to ``mutmut run``
    (mutant names or globs, e.g. ``leadscore.model._rating*``).
    """
    session.install("-e", ".", *group("tests"), *group("mutate"))
    env = {"HYPOTHESIS_PROFILE": "dev", "PYTHONHASHSEED": "0"}
    session.run("mutmut", "run", "--max-children", "2", *session.posargs, env=env)
    session.run("mutmut", "export-cicd-stats", env=env)
