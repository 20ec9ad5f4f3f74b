"""The command line: ``leadscore`` (or ``python -m leadscore``).

Built on click (commands, options, ``--help`` with examples) and rich (progress
bars on stderr when it is a terminal, the ``--format table`` output); both come
with ``pip install leadscore[cli]``. Exit status 0 on success, 2 on bad input (a
bad model, a bad row: the message names the file, line, field and value), 1 when
a store fails.
"""

from __future__ import annotations

# Importing the command modules registers their commands on `main`.
from . import _commands, _engine  # noqa: F401
from ._commands import score_events
from ._shell import BadInput, Events, emit, main

__all__ = ["BadInput", "Events", "emit", "main", "score_events"]
