"""The cost engine, against figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from costcalc import MissingPriceError, Usage, UsageError, training_cost, usage_cost

D = Decimal


def at(book, date, name):
    return book.as_of(dt.date.fromisoformat(date)).model(name)


def test_openai_training_example_is_2_40(book):
    # S1: "a training file of 100,000 tokens trained for 3 epochs would have an expected cost of $2.40"
    assert training_cost(at(book, "2023-08-22", "gpt-3.5-turbo"), 100_000, 3) == D("2.40")


def test_gpt4o_mini_training_example_is_0_90(book):
    # Fine-tuning guide: 100,000 tokens x 3 epochs on gpt-4o-mini = ~$0.90 (300,000 x $3.00/1M).
    assert training_cost(at(book, "2024-10-01", "gpt-4o-mini"), 100_000, 3) == D("0.90")


def test_base_usage(book):
    # 1,000 requests x (800 in, 150 out) at $1.50 / $2.00 per 1M: 0.80M x 1.50 = 1.20; 0.15M x 2 = 0.30.
    cost = usage_cost(at(book, "2023-09-01", "gpt-3.5-turbo"), Usage(800_000, 150_000))
    assert (cost.input_usd, cost.output_usd, cost.total_usd) == (D("1.20"), D("0.30"), D("1.50"))


@pytest.mark.parametrize("date, total", [
    ("2023-09-01", "28.00"),  # 1M x $12 + 1M x $16
    ("2023-11-06", "9.00"),  # 1M x $3 + 1M x $6
])
def test_fine_tuned_usage_across_devday(book, date, total):
    cost = usage_cost(at(book, date, "gpt-3.5-turbo-0613"), Usage(1_000_000, 1_000_000), fine_tuned=True)
    assert cost.total_usd == D(total)


def test_cached_input_is_discounted_where_the_model_has_caching(book):
    # 1M input of which 0.5M cached: 0.5 x 0.15 + 0.5 x 0.075 = 0.075 + 0.0375
    cost = usage_cost(at(book, "2024-10-01", "gpt-4o-mini"), Usage(1_000_000, 0, 500_000))
    assert (cost.input_usd, cost.cached_input_usd, cost.total_usd) == (D("0.075"), D("0.0375"), D("0.1125"))


def test_cached_tokens_cost_full_price_without_a_caching_discount(book):
    cost = usage_cost(at(book, "2023-09-01", "gpt-3.5-turbo"), Usage(1_000_000, 0, 500_000))
    assert cost.total_usd == D("1.50")


def test_batch_prices(book):
    # gpt-4o-mini batch: $0.075 in / $0.30 out per 1M.
    cost = usage_cost(at(book, "2024-10-01", "gpt-4o-mini"), Usage(2_000_000, 1_000_000), batch=True)
    assert cost.total_usd == D("0.45")


def test_missing_batch_price_is_an_error_not_zero(book):
    with pytest.raises(MissingPriceError) as err:
        usage_cost(at(book, "2023-09-01", "gpt-3.5-turbo"), Usage(1000, 10), batch=True)
    assert str(err.value) == "no batch input price for gpt-3.5-turbo-0613 in the price sheet effective 2023-08-22"


def test_training_price_missing_for_a_model_that_cannot_be_fine_tuned(book):
    with pytest.raises(MissingPriceError) as err:
        training_cost(at(book, "2023-09-01", "gpt-4"), 1000, 3)
    assert str(err.value) == "no training price for gpt-4-0613 in the price sheet effective 2023-08-22"


@pytest.mark.parametrize("kwargs, message", [
    ({"input_tokens": -1}, "input_tokens must be a whole number >= 0, not -1"),
    ({"output_tokens": 1.5}, "output_tokens must be a whole number >= 0, not 1.5"),
    ({"input_tokens": 10, "cached_input_tokens": 11}, "cached_input_tokens (11) cannot exceed input_tokens (10)"),
])
def test_bad_usage(kwargs, message):
    with pytest.raises(UsageError) as err:
        Usage(**kwargs)
    assert str(err.value) == message


@pytest.mark.parametrize("epochs", [0, 51, 2.5])
def test_epochs_out_of_range(book, epochs):
    with pytest.raises(UsageError) as err:
        training_cost(at(book, "2023-09-01", "gpt-3.5-turbo"), 1000, epochs)
    assert str(err.value) == f"epochs must be a whole number from 1 to 50, not {epochs!r}"
