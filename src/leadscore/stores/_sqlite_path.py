"""Which paths SQLiteStore accepts, and why it refuses the others.

A ``str`` or ``os.PathLike`` naming a file, or ``":memory:"``. Refused: any other
type, the empty path (SQLite would make a temporary database, deleted at close)
and ``file:`` URIs (SQLite would obey their parameters, such as ``mode=memory``
or ``mode=ro``).
"""

from __future__ import annotations

import os

from leadscore.exceptions import StoreError
from leadscore.model._limits import shorten


def _checked_path(path: object) -> str:
    """The path as a str, or a StoreError saying why SQLite must not get it."""
    text = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(text, str):
        raise StoreError(
            "SQLiteStore path must be a str or os.PathLike naming a file (or "
            f"':memory:'), got {type(path).__name__} {shorten(path)}"
        )
    if not text:
        raise StoreError(
            "SQLiteStore path is empty: SQLite would make a private temporary "
            "database, deleted at close; give a file path, or ':memory:' for a "
            "store that is not kept"
        )
    if text.startswith("file:"):
        raise StoreError(
            f"SQLiteStore path {shorten(text)} is a URI: SQLite would obey its "
            "parameters (mode=memory keeps nothing at close, mode=ro cannot "
            "write); give a plain file path (prefix './' for a file whose name "
            "starts with 'file:'), or ':memory:'"
        )
    return text
