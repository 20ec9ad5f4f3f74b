"""``python -m leadscore``: the command line (see :mod:`leadscore.cli`)."""

from leadscore.cli import main

if __name__ == "__main__":  # pragma: no branch
    main(prog_name="leadscore")
