"""The library's own parsers of command-line values and its messages, without click."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costcalc.errors import UsageError
from costcalc.scenario import load_scenario, parse_amount
from costcalc.views import DisplayCurrency


def test_display_currency_parses_code_and_rate_and_names_where_they_came_from():
    assert DisplayCurrency.parse(None, None) is None
    eur = DisplayCurrency.parse("eur", "0.92")
    assert (eur.code, eur.fx_rate, eur.format(Decimal(100))) == ("EUR", Decimal("0.92"), "€92.00")
    assert DisplayCurrency.parse("CHF", "1").format(Decimal("2.5")) == "CHF 2.50"  # no symbol: the code
    with pytest.raises(UsageError) as error:
        DisplayCurrency.parse("EUR", None)
    assert str(error.value) == "currency and fx_rate go together: currency EUR fx_rate 0.92 (EUR per 1 USD)"
    with pytest.raises(UsageError) as error:
        DisplayCurrency.parse("EURO", "1", origins=("--currency", "--fx-rate"))
    assert str(error.value) == "--currency: expected a 3-letter currency code such as EUR, not 'EURO'"
    with pytest.raises(UsageError) as error:
        DisplayCurrency.parse("EUR", "0")
    assert str(error.value) == "fx_rate: must be a number > 0, not '0'"


@pytest.mark.parametrize("text, positive, expected", [
    ("5000", False, Decimal(5000)),
    ("0", False, Decimal(0)),
    ("0.1", True, Decimal("0.1")),  # exact, never a float
    ("0", True, "budget: must be a number > 0, not '0'"),
    ("-1", False, "budget: must be a number >= 0, not '-1'"),
    ("NaN", False, "budget: must be a number >= 0, not 'NaN'"),
    ("lots", False, "budget: must be a number >= 0, not 'lots'"),
])
def test_parse_amount(text, positive, expected):
    if isinstance(expected, Decimal):
        assert parse_amount(text, "budget", positive=positive) == expected
    else:
        with pytest.raises(UsageError) as error:
            parse_amount(text, "budget", positive=positive)
        assert str(error.value) == expected


def test_an_unknown_strategy_gets_a_hint_and_the_list():
    scenario = load_scenario()
    with pytest.raises(UsageError) as error:
        scenario.strategy("GPT4")
    assert str(error.value) == ("no strategy 'GPT4' in the bundled example (example-scenario.toml) (did you mean "
                                "'GPT-4'?); strategies are: Base GPT-3.5 Turbo, Fine-tuned GPT-3.5, GPT-4, "
                                "Retrieval (RAG)")
