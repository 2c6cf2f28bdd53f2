"""Fuzz the scenario and price-sheet loaders: whatever the bytes or the values, each either loads
or raises a CostCalcError (one line for the CLI), never anything else."""

from __future__ import annotations

import copy
import datetime as dt
import json
import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costcalc
from costcalc.errors import CostCalcError
from costcalc.scenario import EXAMPLE_SCENARIO, read_scenario

from .conftest import MINIMAL_SHEET

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Values of every TOML type, including the awkward ones: huge and tiny decimals, negative zero,
# NaN and infinity, surrogate-free but control-laden strings, dates at the ends of the calendar.
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1e400"), Decimal("-0"), Decimal("1e-400"), Decimal("8.0")]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.just("auto"),
    st.sampled_from(["gpt-4o-mini", "ft:gpt-3.5-turbo-0613:a::b", "2023-09", "9999-12", ""]),
)
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)), max_leaves=6)


def leaf_paths(table: dict, prefix: tuple = ()) -> list[tuple]:
    paths = []
    for key, value in table.items():
        paths.append((*prefix, key))
        if isinstance(value, dict):
            paths += leaf_paths(value, (*prefix, key))
    return paths


def mutated(raw: dict, data) -> dict:
    """A copy of `raw` with one key set to a random value (or removed, or a new key added)."""
    raw = copy.deepcopy(raw)
    path = data.draw(st.sampled_from(leaf_paths(raw)))
    table = raw
    for key in path[:-1]:
        table = table[key]
    action = data.draw(st.sampled_from(["set", "delete", "add"]))
    if action == "delete":
        del table[path[-1]]
    elif action == "add":
        table[data.draw(st.text(min_size=1, max_size=12))] = data.draw(values)
    else:
        table[path[-1]] = data.draw(values)
    return raw


EXAMPLE = tomllib.loads(EXAMPLE_SCENARIO.read_text(), parse_float=Decimal)
EXAMPLE["strategies"]["Fine-tuned GPT-3.5"].pop("training_file")  # no file reads: a token count
EXAMPLE["strategies"]["Fine-tuned GPT-3.5"]["training_tokens"] = 100_000
EXAMPLE["traffic"]["horizon_months"] = 2


@FUZZ
@given(st.data())
def test_a_mutated_scenario_loads_and_compares_or_says_why(book, data):
    raw = mutated(EXAMPLE, data)
    try:
        costcalc.compare(read_scenario(raw), book)
    except CostCalcError as exc:
        assert str(exc) and "Traceback" not in str(exc)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_as_a_scenario_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "s.toml"
    path.write_bytes(data)
    with pytest.raises(CostCalcError):
        costcalc.load_scenario(path)


def toml_text(value: object) -> str:
    """A TOML rendering of a parsed table, enough for the fuzz (inline tables throughout)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        text = str(value)
        return {"NaN": "nan", "sNaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get(text, text)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_text(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


SHEET = tomllib.loads(MINIMAL_SHEET, parse_float=Decimal)


@FUZZ
@given(st.data())
def test_a_mutated_price_sheet_loads_or_lists_its_problems(tmp_path_factory, data):
    raw = mutated(SHEET, data)
    folder = tmp_path_factory.mktemp("prices")
    text = "\n".join(f"{json.dumps(k)} = {toml_text(v)}" for k, v in raw.items())
    (folder / "2024-01-01.toml").write_text(text, encoding="utf-8")
    try:
        book = costcalc.load_pricebook(folder)
    except CostCalcError as exc:
        assert str(exc)
    else:
        for sheet in book.sheets:  # what loads can be used: every price a Decimal, never None as $0
            for model in sheet.models.values():
                assert all(v is None or isinstance(v, Decimal) for v in model.prices().values())


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_as_a_price_sheet(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("prices")
    (folder / "2024-01-01.toml").write_bytes(data)
    with pytest.raises(CostCalcError):
        costcalc.load_pricebook(folder)
