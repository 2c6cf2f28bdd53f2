"""The validator toolkit both loaders share: typed getters, key paths, type names, did-you-mean."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from costcalc._schema import Checker, did_you_mean, is_number, is_whole, key_path, show_value, type_name
from costcalc.errors import PricingError, Problem, ScenarioError, ScenarioUsageError, UsageError

D = Decimal
PATH = ("traffic", "k")  # every getter below reads raw["k"], reported as traffic.k


@pytest.mark.parametrize("getter, options, raw, value, problem", [
    # string
    ("string", {}, {"k": "gpt-4"}, "gpt-4", None),
    ("string", {}, {"k": 4}, None, "must be a string, not 4 (an integer)"),
    ("string", {}, {"k": True}, None, "must be a string, not true (a boolean)"),
    ("string", {}, {}, None, None),
    ("string", {"required": True}, {}, None, "missing"),
    ("string", {"non_empty": True}, {"k": "  "}, None, "is blank (only white space)"),
    ("string", {"non_empty": True}, {"k": ["a"]}, None, "must be a non-empty string, not an array"),
    # table
    ("table", {}, {"k": {"a": 1}}, {"a": 1}, None),
    ("table", {}, {"k": [1]}, None, "must be a table, not an array"),
    ("table", {}, {"k": "x"}, None, "must be a table, not 'x' (a string)"),
    ("table", {"required": True}, {}, None, "missing"),
    # date: a TOML date-time is a datetime, which Python counts as a date
    ("date", {}, {"k": dt.date(2024, 1, 1)}, dt.date(2024, 1, 1), None),
    ("date", {}, {"k": dt.datetime(2024, 1, 1, 12)}, None, "must be a date (YYYY-MM-DD), not 2024-01-01 12:00:00 (a date-time)"),
    ("date", {}, {"k": "2024-01-01"}, None, "must be a date (YYYY-MM-DD), not '2024-01-01' (a string)"),
    ("date", {}, {"k": dt.time(12)}, None, "must be a date (YYYY-MM-DD), not 12:00:00 (a time)"),
    ("date", {"required": True}, {}, None, "missing"),
    # number: exact, and never a boolean
    ("number", {}, {"k": 3}, D(3), None),
    ("number", {}, {"k": D("0.075")}, D("0.075"), None),
    ("number", {}, {"k": True}, None, "must be a number, not true (a boolean)"),
    ("number", {}, {"k": "1.5"}, None, "must be a number, not '1.5' (a string)"),
    ("number", {}, {"k": 1.5}, None, "must be a number, not 1.5 (float)"),  # a float only comes from a script
    ("number", {"expected": "a number (USD)"}, {"k": dt.date(2024, 1, 1)}, None, "must be a number (USD), not 2024-01-01 (a date)"),
    ("number", {"required": True}, {}, None, "missing"),
    # integer: one message for a wrong type and a value out of range
    ("integer", {}, {"k": 0}, 0, None),
    ("integer", {"minimum": 1, "unit": "tokens"}, {"k": 4096}, 4096, None),
    ("integer", {"minimum": 1, "unit": "tokens"}, {"k": True}, None, "must be a whole number of tokens >= 1, not true (a boolean)"),
    ("integer", {"minimum": 1, "unit": "tokens"}, {"k": 0}, None, "must be a whole number of tokens >= 1, not 0"),
    ("integer", {"minimum": 1, "unit": "tokens"}, {"k": D("1.5")}, None,
     "must be a whole number of tokens >= 1, not 1.5 (a float, not a whole number)"),
    ("integer", {"minimum": 1, "maximum": 120, "unit": "months"}, {"k": 121}, None,
     "must be a whole number of months from 1 to 120, not 121"),
    ("integer", {}, {"k": "3"}, None, "must be a whole number >= 0, not '3' (a string)"),
    ("integer", {"required": True}, {}, None, "missing"),
])
def test_getters(getter, options, raw, value, problem):
    check = Checker("scenario.toml")
    got = getattr(check, getter)(raw, PATH, **options)
    assert got == value and type(got) is type(value)
    assert check.problems == ([Problem("scenario.toml", "traffic.k", problem)] if problem else [])


@pytest.mark.parametrize("path, shown", [
    (("traffic", "batch_share"), "traffic.batch_share"),
    (("models", "gpt-4o", "input"), "models.gpt-4o.input"),  # bare: letters, digits, - and _
    (("models", "gpt-3.5-turbo-0613", "input"), 'models."gpt-3.5-turbo-0613".input'),  # a dot would split it
    (("strategies", "Fine-tuned GPT-3.5", "model"), 'strategies."Fine-tuned GPT-3.5".model'),
    (("strategies", 'say "hi"'), 'strategies."say \\"hi\\""'),
    (("strategies", "Café"), 'strategies."Café"'),  # quoted, and shown as written
    (("strategies", ""), 'strategies.""'),
    ((), ""),
])
def test_key_path_quotes_only_what_toml_cannot_read_bare(path, shown):
    assert key_path(path) == shown


@pytest.mark.parametrize("value, name", [
    ("x", "a string"), (True, "a boolean"), (1, "an integer"), (D("1.5"), "a number"), ([1], "an array"),
    ({}, "a table"), (dt.date(2024, 1, 1), "a date"), (dt.datetime(2024, 1, 1), "a date-time"),
    (dt.time(1), "a time"), (1.5, "float"), (None, "NoneType"),
])
def test_type_name(value, name):
    assert type_name(value) == name


@pytest.mark.parametrize("value, shown", [
    (D("1.50"), "1.5"), (D("-0.10"), "-0.1"), (D("1E+3"), "1000"), ("January", "'January'"),
    (True, "true"),  # as TOML writes it, not Python's True
    (0, "0"), (dt.date(2024, 1, 1), "2024-01-01"),
])
def test_show_value(value, shown):
    assert show_value(value) == shown


@pytest.mark.parametrize("value, number, whole", [
    (1, True, True), (D("1.5"), True, False), (True, False, False), (False, False, False), ("1", False, False),
    (1.0, False, False),
])
def test_bool_is_not_a_number(value, number, whole):
    assert (is_number(value), is_whole(value)) == (number, whole)


def test_did_you_mean():
    assert did_you_mean("bass", ["base", "fine-tuned", "retrieval"]) == " (did you mean 'base'?)"
    assert did_you_mean("zzz", ["base", "fine-tuned"]) == ""


@pytest.mark.parametrize("raw, problem", [
    ({"schema_version": 1}, None),
    ({}, "missing (this costcalc reads schema_version = 1)"),
    ({"schema_version": 2}, "unknown schema version 2 (this costcalc reads schema_version = 1)"),
    ({"schema_version": True}, "unknown schema version True (this costcalc reads schema_version = 1)"),  # not 1
    ({"schema_version": "1"}, "unknown schema version '1' (this costcalc reads schema_version = 1)"),
])
def test_schema_version(raw, problem):
    check = Checker("f.toml")
    assert check.schema_version(raw, 1) is (problem is None)
    assert check.problems == ([Problem("f.toml", "schema_version", problem)] if problem else [])


def test_unknown_keys_suggest_the_closest_allowed_key():
    check = Checker("f.toml")
    check.unknown_keys({"input": 1, "ouput": 2, "colour": 3}, ("input", "output"), ("models", "gpt-4o"))
    assert check.problems == [
        Problem("f.toml", "models.gpt-4o.ouput", "unknown key (did you mean 'output'?)"),
        Problem("f.toml", "models.gpt-4o.colour", "unknown key"),
    ]


# --- problems as data, in the errors -------------------------------------------------------------


@pytest.mark.parametrize("problem, text", [
    (Problem("p.toml", "models.gpt-4o.input", "missing"), "p.toml: models.gpt-4o.input: missing"),
    (Problem("p.toml", "", "not valid TOML: oops"), "p.toml: not valid TOML: oops"),  # a file-level problem
    (Problem("--batch-share", "", "must be between 0 and 1, not 1.5"),
     "--batch-share: must be between 0 and 1, not 1.5"),
])
def test_a_problem_reads_file_key_message(problem, text):
    assert str(problem) == text
    assert str(PricingError([problem])) == text


def test_several_problems_are_counted_and_indented():
    problems = [Problem("a.toml", "x", "missing"), Problem("a.toml", "", "cannot read: denied")]
    listed = "\n  a.toml: x: missing\n  a.toml: cannot read: denied"
    assert str(PricingError(problems)) == "2 problems in price sheets:" + listed
    assert str(ScenarioError(problems)) == "2 problems in the scenario:" + listed
    assert PricingError(problems).problems == problems


def test_a_scenario_problem_a_flag_caused_is_bad_usage():
    error = ScenarioUsageError([Problem("--months", "", "must be a whole number of months from 1 to 120, not 0")])
    assert (isinstance(error, UsageError), isinstance(error, ScenarioError), error.exit_code) == (True, False, 2)
    assert ScenarioError([Problem("s.toml", "k", "bad")]).exit_code == 1
