"""Execute examples/notebook.ipynb top to bottom; exit 1 on the first error.

Run it with ``python examples/run_notebook.py`` (needs ``nbclient``, ``nbformat``
and ``ipykernel``, plus the notebook's ``matplotlib``, ``pandas`` and
``polars``). The kernel is ``python3`` of the running interpreter; the notebook
file is left as it is (stored without outputs), the executed copy is written to
``--out`` when given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbclient
import nbformat

NOTEBOOK = Path(__file__).parent / "notebook.ipynb"


def run(path: Path = NOTEBOOK, *, timeout: int = 300) -> nbformat.NotebookNode:
    """Execute the notebook at *path* in a fresh kernel and return it, executed.

    Raises:
        nbclient.exceptions.CellExecutionError: naming the cell that failed.
    """
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the executed notebook here")
    args = parser.parse_args()
    try:
        executed = run()
    except nbclient.exceptions.CellExecutionError as e:
        print(e, file=sys.stderr)
        return 1
    if args.out is not None:
        nbformat.write(executed, args.out)
    cells = sum(cell.cell_type == "code" for cell in executed.cells)
    print(f"{NOTEBOOK.name}: {cells} code cells ran without error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
