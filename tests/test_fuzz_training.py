"""Fuzzing the training-file scan and the request-sample reader (issue 9): whatever the bytes, each
either gives its result or raises a CostCalcError (a one-line message), never anything else.

The inputs are random bytes, and JSONL of random JSON values: objects, arrays, nesting, strings
with lone surrogates (as \\ud800 escapes, and as raw bytes that are not UTF-8), numbers too big for a
float (1e400) or for an int (5,000 digits), and chat-shaped examples whose keys are the real ones
with values of any type, so the checks and the token counter see every shape the format allows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc import dataset
from costcalc.dataset import scan_dataset
from costcalc.errors import CostCalcError
from costcalc.pricing import FineTuningPrice, ModelPrice
from costcalc.scenario import measure_sample

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CHAT = ModelPrice(name="chat-1", kind="chat", effective=dt.date(2024, 1, 1), encoding="cl100k_base",
                  fine_tuning=FineTuningPrice(training_per_1m=Decimal("8"), max_tokens_per_example=64))
COMPLETION = ModelPrice(name="babbage-002", kind="completion", effective=dt.date(2024, 1, 1),
                        encoding="cl100k_base", fine_tuning=FineTuningPrice(training_per_1m=Decimal("0.4")))

# Stand-ins json.dumps writes as strings, swapped afterwards for what it cannot write itself.
RAW = {'"<1e400>"': "1e400", '"<-1e400>"': "-1e400", '"<huge int>"': "9" * 5000, '"<NaN>"': "NaN",
       '"<deep>"': "[" * 3000 + "]" * 3000}

texts = st.text(alphabet=st.characters(exclude_categories=()), max_size=8)  # surrogates included
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | texts | st.sampled_from(sorted(RAW)).map(lambda raw: raw.strip('"')))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                      max_leaves=8)

ROLES = st.sampled_from(["system", "user", "assistant", "tool", "function", "robot"])
MESSAGE_KEYS = ["role", "content", "name", "weight", "function_call", "tool_calls", "tool_call_id"]
calls = st.fixed_dictionaries({}, optional={"name": texts | values, "arguments": texts | values})
parts = st.lists(st.fixed_dictionaries({}, optional={"type": st.sampled_from(["text", "image_url"]) | values,
                                                     "text": texts | values, "image_url": values}), max_size=3)
messages = st.fixed_dictionaries({}, optional={
    "role": ROLES | values, "content": texts | parts | values, "name": texts | values,
    "weight": st.sampled_from([0, 1, 0.5, True]) | values, "function_call": calls | values,
    "tool_calls": st.lists(st.fixed_dictionaries({"function": calls | values}), max_size=2) | values,
    "tool_call_id": texts | values,
})
tools = st.lists(st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries(
    {}, optional={"name": texts | values, "description": texts | values, "parameters": values})}), max_size=2)
examples = (st.fixed_dictionaries({"messages": st.lists(messages, max_size=4) | values},
                                  optional={"tools": tools | values, "functions": values,
                                            "parallel_tool_calls": values})
            | st.fixed_dictionaries({}, optional={"prompt": texts | values, "completion": texts | values})
            | values)


# Requests as a sample holds them: a conversation ending in the reply, so the counter always runs.
requests = st.fixed_dictionaries(
    {"messages": st.lists(messages, max_size=3).map(lambda m: [*m, {"role": "assistant", "content": "OK"}])},
    optional={"tools": tools | scalars | values, "functions": scalars | values})


def jsonl_bytes(lines: list, ascii_only: bool) -> bytes:
    """JSON Lines of `lines`; with ascii_only False, lone surrogates go out as raw (invalid) bytes."""
    text = "\n".join(json.dumps(line, ensure_ascii=ascii_only) for line in lines)
    for stand_in, raw in RAW.items():
        text = text.replace(stand_in, raw)
    return text.encode("utf-8", "surrogatepass")


def scan(data: bytes, model: ModelPrice) -> None:
    try:
        report = scan_dataset(io.BytesIO(data), model_price=model, workers=1)
    except CostCalcError:
        return
    json.dumps(report.to_dict())  # the JSON contract holds for whatever was read


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "sample.jsonl"


def measure(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        measure_sample(path, "cl100k_base")
    except CostCalcError:
        pass


@FUZZ
@given(data=st.binary(max_size=300), model=st.sampled_from([CHAT, COMPLETION]))
def test_scan_of_random_bytes(data, model):
    scan(data, model)


@FUZZ
@given(lines=st.lists(requests | examples, min_size=1, max_size=6), ascii_only=st.booleans(),
       model=st.sampled_from([CHAT, COMPLETION]))
def test_scan_of_random_json_lines(lines, ascii_only, model):
    scan(jsonl_bytes(lines, ascii_only), model)


def report_or_error(data: bytes, model: ModelPrice) -> dict | str:
    try:
        return scan_dataset(io.BytesIO(data), model_price=model, workers=1).to_dict()
    except CostCalcError as exc:
        return str(exc)


@FUZZ
@given(lines=st.lists(requests | examples, min_size=1, max_size=6), ascii_only=st.booleans(),
       model=st.sampled_from([CHAT, COMPLETION]))
def test_orjson_reads_every_line_as_the_json_module_does(lines, ascii_only, model):
    # The scan reads lines with orjson where it is installed (costcalc/dataset.py): whatever the
    # numbers, nesting or surrogates, the report must be the one the json module alone gives.
    data = jsonl_bytes(lines, ascii_only)
    with_orjson = report_or_error(data, model)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dataset, "_fast_loads", lambda: None)
        assert report_or_error(data, model) == with_orjson


@FUZZ
@given(data=st.binary(max_size=300))
def test_sample_of_random_bytes(sample_path, data):
    measure(sample_path, data)


@FUZZ
@given(lines=st.lists(requests, min_size=1, max_size=3), ascii_only=st.booleans())
def test_sample_of_random_json_lines(sample_path, lines, ascii_only):
    measure(sample_path, jsonl_bytes(lines, ascii_only))
