"""Exact decimal arithmetic for money and for the Action Score's weighted sum.

An amount is taken as the decimal it prints as (``Decimal(repr(x))``: 0.1 is 0.1,
not its binary neighbour), and sums and products are exact, never rounded. Equal
spend is then equal however the amounts were ordered or split: 0.1 + 0.2 is 0.3.

Sums of many amounts run on integers: every amount of one call is a whole number
of units of the smallest decimal place any of them has (cents, for prices), so a
contact's total is a plain integer sum, and :func:`as_money` turns it back into a
:class:`~decimal.Decimal` with that many decimal places.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

__all__ = ["EXACT", "ZERO", "as_decimal", "as_money", "exact_sum", "scaled_sums"]

#: A context that never rounds the sums and products taken here: its precision is
#: the largest the ``decimal`` module has, and an inexact result would raise.
EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Inexact],
)

ZERO = Decimal(0)


def as_decimal(x: float) -> Decimal:
    """The decimal *x* prints as: ``as_decimal(0.1) == Decimal("0.1")``.

    >>> as_decimal(0.1) + as_decimal(0.2) == as_decimal(0.3)
    True
    """
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(x)


def exact_sum(amounts: Iterable[float]) -> Decimal:
    """The exact sum of the decimals the amounts print as.

    >>> exact_sum([0.1, 0.2]), exact_sum([0.3])
    (Decimal('0.3'), Decimal('0.3'))
    """
    add, total = EXACT.add, ZERO
    for x in amounts:
        total = add(total, as_decimal(x))
    return total


def _digits(x: float) -> tuple[int, int]:
    """``(n, e)`` with ``n * 10**e`` the decimal *x* prints as."""
    text = repr(x)
    whole, dot, fraction = text.partition(".")
    if dot and "e" not in fraction:  # "12.34", "-0.5": the common case, parsed fast
        return int(whole + fraction), -len(fraction)
    sign, coefficient, exponent = Decimal(text).as_tuple()  # "1e+16", "5e-324"
    assert isinstance(exponent, int)  # finite amounts only
    n = int("".join(map(str, coefficient)))
    return (-n if sign else n), exponent


def scaled_sums(amounts: Mapping[str, Sequence[float]]) -> tuple[dict[str, int], int]:
    """Each contact's exact total, as an integer number of units of ``10**exp``.

    Returns ``(totals, exp)``: ``exp`` is the smallest decimal exponent of any
    amount (-2 for prices in cents), and every total is exact. The totals compare
    (and rank) as the decimal sums they stand for.

    Written for speed: each distinct amount is converted once, and the totals are
    sums of Python ints (C loops: ``set.union``, ``sum(map(...))``).

    >>> scaled_sums({"ann": [0.1, 0.2], "bob": [0.3], "cy": [1.25, -1.0]})
    ({'ann': 30, 'bob': 30, 'cy': 25}, -2)
    """
    digits: dict[float, tuple[int, int]] = {}  # amount -> (integer, exponent)
    for x in set().union(*amounts.values()):
        # float(x): 1 and 1.0 are one key, so read both as 1.0 whichever came first.
        digits[x] = _digits(float(x))
    exp = min((e for _, e in digits.values()), default=0)
    units = {x: whole * 10 ** (e - exp) for x, (whole, e) in digits.items()}
    get = units.__getitem__
    return {c: sum(map(get, values)) for c, values in amounts.items()}, exp


def as_money(total: int, exp: int) -> Decimal:
    """The decimal ``total * 10**exp``, with ``-exp`` decimal places.

    >>> as_money(2450, -2)
    Decimal('24.50')
    """
    return Decimal(total).scaleb(exp, EXACT)
