"""Reprs that read like the code that built the object.

:func:`short_repr` shows only the fields that differ from their defaults;
:func:`long_repr` lays a long repr out one field (and one item) a line, as
``ruff format`` would. Rules, models, ratings and the other value types use them.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["MAX_LINE_REPR", "long_repr", "short_repr"]

#: The longest repr kept on one line; a longer one is laid out one field a line.
MAX_LINE_REPR = 120
#: The line length of a multi-line repr (ruff's): a tuple longer is one item a line.
_LINE = 88


def short_repr(obj: Any, positional: tuple[str, ...]) -> str:
    """``Name(pos, ..., key=value)`` with only the fields that differ from defaults.

    A model's repr should read like the code that built it, not spell out every
    default (a preset's full repr ran to a thousand characters).
    """
    parts = (f"{key}{value!r}" for key, value in _fields(obj, positional))
    return f"{type(obj).__name__}({', '.join(parts)})"


def _fields(obj: Any, positional: tuple[str, ...]) -> list[tuple[str, Any]]:
    """``(prefix, value)`` of the fields to show: ``""`` or ``"name="`` and value."""
    fields = [("", getattr(obj, name)) for name in positional]
    for field in attrs.fields(type(obj)):
        if field.name in positional or not field.init:
            continue
        value = getattr(obj, field.name)
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        if default is not attrs.NOTHING and value == default:
            continue
        fields.append((f"{field.name}=", value))
    return fields


def long_repr(obj: Any, positional: tuple[str, ...]) -> str:
    """:func:`short_repr`, or one field a line (one item a line) when it is long.

    Still the Python that builds the object, laid out as ``ruff format`` would:
    a tuple of several items (a model's rules) one item a line, nested reprs
    that span lines indented with their field.

    >>> from leadscore import Rule, ScoringModel
    >>> print(long_repr(ScoringModel("m", [Rule("a", 1)] * 2, initial=1), ("name",)))
    ScoringModel('m', rules=(Rule('a', 1.0), Rule('a', 1.0)), initial=1.0)
    """
    short = short_repr(obj, positional)
    if len(short) <= MAX_LINE_REPR and "\n" not in short:
        return short
    lines = [f"{type(obj).__name__}("]
    for prefix, value in _fields(obj, positional):
        inline = f"    {prefix}{_indent(repr(value), 4)},"
        if isinstance(value, tuple) and len(value) > 1 and len(inline) > _LINE:
            lines.append(f"    {prefix}(")
            lines.extend(f"        {_indent(repr(item), 8)}," for item in value)
            lines.append("    ),")
        else:
            lines.append(inline)
    lines.append(")")
    return "\n".join(lines)


def _indent(text: str, spaces: int) -> str:
    """*text* with every line after the first indented by *spaces*."""
    return text.replace("\n", "\n" + " " * spaces)
