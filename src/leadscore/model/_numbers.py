"""Numbers of other libraries (numpy, pandas, fractions, decimal) as plain Python.

Every check of a number in the model accepts ``int`` and ``float`` first, at full
speed; only a value that fails that test comes here, so that ``np.int64(3)`` from
a DataFrame counts as the 3 it is, stored as a plain ``int``. Nothing here imports
numpy or pandas: their scalars are recognised by the ``numbers`` ABCs they
register with (``np.int64`` is a ``numbers.Integral``, ``np.float32`` a
``numbers.Real``) and numpy's booleans by their type.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import operator
from decimal import Decimal

__all__ = ["as_float", "foreign_int", "foreign_number", "foreign_scalar"]

_NUMPY_BOOLS = frozenset({"bool", "bool_", "bool8"})


def _is_numpy_bool(value: object) -> bool:
    kind = type(value)
    return kind.__module__ == "numpy" and kind.__name__ in _NUMPY_BOOLS


def foreign_scalar(value: object) -> object:
    """*value* as a plain bool, int or float if it is one of another library.

    A numpy boolean becomes ``bool``; a ``numbers.Integral`` (``np.int64``,
    ``np.uint8``) ``int``; another ``numbers.Real`` (``np.float32``, ``Fraction``)
    or a ``Decimal`` ``float``; a ``str`` subclass (``np.str_``) ``str``.
    Anything else (``pd.NA``, arrays, ``None``) is returned unchanged, for the
    caller's check to reject or keep.

    >>> from fractions import Fraction
    >>> foreign_scalar(Fraction(1, 4))
    0.25
    """
    plain: object = value
    if isinstance(value, bool):
        pass
    elif isinstance(value, str):
        plain = str(value)
    elif _is_numpy_bool(value):
        plain = bool(value)
    elif isinstance(value, numbers.Integral):
        plain = operator.index(value)
    elif isinstance(value, numbers.Real | Decimal):
        with contextlib.suppress(ValueError, OverflowError):  # sNaN, huge Decimal
            plain = float(value)
    return plain


def foreign_number(value: object) -> int | float | None:
    """*value* as a plain int or float if it is a number (not a bool), else None.

    For values that already failed ``isinstance(value, int | float)``: a float
    subclass (``np.float64``) is made a plain float too.

    >>> import decimal
    >>> foreign_number(decimal.Decimal("2.5")), foreign_number("2.5")
    (2.5, None)
    """
    if isinstance(value, bool) or _is_numpy_bool(value):
        return None
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    plain = foreign_scalar(value)
    if isinstance(plain, int | float) and not isinstance(plain, bool):
        return plain
    return None


def as_float(value: object) -> tuple[int | float, float] | None:
    """*value* as a plain number and as a float; None unless it is a number.

    A bool is not a number; numpy scalars, ``Fraction`` and ``Decimal`` are, as
    their plain value. An int past the float range is ``inf`` as a float (no
    ``OverflowError``), for the caller's finiteness check to name.

    >>> as_float(10**400)[1], as_float(True)
    (inf, None)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        plain = foreign_number(value)  # np.int64, np.float32, Decimal ...
        if plain is None:
            return None
        value = plain
    try:
        return value, float(value)
    except OverflowError:
        return value, math.inf


def foreign_int(value: object) -> int | None:
    """*value* as a plain int if it is a whole-number type (not a bool), else None.

    >>> foreign_int(3.0) is None
    True
    """
    if isinstance(value, bool) or _is_numpy_bool(value):
        return None
    if isinstance(value, numbers.Integral):
        return operator.index(value)
    return None
