"""Exact money: amounts as the decimals they print as, summed without rounding."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from leadscore._money import as_money, exact_sum, scaled_sums

AMOUNTS = st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=6)


@given(st.dictionaries(st.sampled_from("abc"), AMOUNTS, min_size=1))
def test_scaled_sums_are_the_exact_sums_of_the_printed_decimals(amounts):
    """Whatever the magnitudes (1e308 beside 5e-324), nothing is rounded."""
    totals, exp = scaled_sums(amounts)
    for contact, values in amounts.items():
        exact = sum((Fraction(repr(x)) for x in values), Fraction(0))
        assert exact == Fraction(as_money(totals[contact], exp))
        assert exact == Fraction(exact_sum(values))


@given(AMOUNTS, st.randoms(use_true_random=False))
def test_the_order_of_the_amounts_never_matters(values, rnd):
    """A permutation of the amounts has the same total, to the last digit."""
    shuffled = rnd.sample(values, len(values))
    assert scaled_sums({"a": values}) == scaled_sums({"a": shuffled})


def test_money_keeps_the_finest_decimal_place_of_the_amounts():
    """Totals come back as decimals with the places of the most precise amount."""
    totals, exp = scaled_sums({"ann": [19.99, 5.01, -0.5], "bob": [100.0]})
    assert (-2, {"ann": 2450, "bob": 10000}) == (exp, totals)
    assert ("24.50", "100.00") == tuple(str(as_money(totals[c], exp)) for c in totals)
    assert Decimal("0.3") == as_money(*_one(scaled_sums({"a": [0.1, 0.2]})))


def _one(result):
    totals, exp = result
    (total,) = totals.values()
    return total, exp
