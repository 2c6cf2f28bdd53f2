"""The counting encoder (costcalc/encoders.py) counts exactly what tiktoken's encode_ordinary does,
never crashes on long whitespace, and falls back to tiktoken when the fast encoder is missing."""

from __future__ import annotations

import builtins
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc import encoders, tokens
from costcalc.tokens import ENCODING_NAMES, TokenCounter, count_text, get_encoding

splintr = pytest.importorskip("splintr")

# Written here, not copied from any file: the inputs where fast tokenizers have been seen to differ.
ADVERSARIAL = [
    "",
    " ",
    "hello world",
    "Hello, World! How's it going? I'M fine, you'RE not, they'VE gone, we'LL see, he'D go",
    "don't DON'T Don'T can’t",
    "<|endoftext|> and <|fim_prefix|> are text here",
    "line one\r\nline two\r\n\r\n  indented\r\n",
    "\r\n" * 50,
    " " * 1000,
    " " * 1001,  # one past where one candidate miscounted
    "x" + " " * 1001 + "x",
    "x" + "\n" * 4999 + "x",
    "\t" * 5000,
    "a" + " \t\n" * 700 + "b",
    "!" + "\n" * 300 + "a",
    "1234567890" * 20,
    "١٢٣٤٥ ۱۲۳ ௧௨௩",
    "Привет мир, こんにちは世界, 안녕하세요, مرحبا, שלום, नमस्ते",
    "İstanbul straße ǅemal ΓΕΙΑ",
    "👩‍👩‍👧‍👦 🏳️‍🌈 🇧🇷🇯🇵 👍🏽 ❤️",
    "e\u0301\u0302 a\u0308\u0323 \u0301alone",
    "zero\u200bwidth \ufeffbom x\u200dy",
    "\ud800 lone \udfff surrogates \udc00\ud800",
    "\u3000\u3000ideographic\xa0nbsp\u2028sep",
    '{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}',
]


@pytest.fixture(params=ENCODING_NAMES)
def encoding(request):
    return get_encoding(request.param)


def tiktoken_count(encoding, text: str) -> int:
    return len(encoding.encode_ordinary(text))


def test_costcalc_counts_with_splintr_when_installed(encoding):
    assert encoders.encoder_name(encoding) == "splintr"


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_fast_encoder_and_guard_equal_tiktoken_on_adversarial_strings(encoding, text):
    expected = tiktoken_count(encoding, text)
    assert encoders.counter_for(encoding)(text) == expected
    assert encoders.count_guarded(text, encoding) == expected


def test_known_counts_are_unchanged():
    for name in ENCODING_NAMES:
        assert count_text("hello world", get_encoding(name)) == 2  # "hello", " world"
        assert count_text("<|endoftext|>", get_encoding(name)) == 7  # text, not the special token


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.characters(exclude_categories=()), max_size=60)
       | st.text(alphabet=st.sampled_from(list(" \t\n\r\u3000a1!'sTé🙂\u0301")), max_size=300))
def test_fast_encoder_equals_tiktoken_on_random_strings(text):
    for name in ENCODING_NAMES:
        encoding = get_encoding(name)
        assert encoders.counter_for(encoding)(text) == tiktoken_count(encoding, text)


def test_a_run_of_spaces_counts_one_more_token_per_128_spaces(encoding):
    # The chunk rule, checked on every run tiktoken counts quickly: n + 128 spaces are one token
    # more than n spaces (the vocabulary's longest run of spaces is 128, and BPE ends each run with
    # whole 128-space tokens whatever n is), so a run can be counted 128 spaces at a time.
    counts = [tiktoken_count(encoding, " " * n) for n in range(4_801 + 128)]
    assert all(counts[n + 128] == counts[n] + 1 for n in range(1, 4_801))


def test_million_spaces_with_o200k_is_counted_without_a_crash():
    # tiktoken's own regex overflows its stack on 999,999+ spaces with o200k_base. By the chunk
    # rule, 1,000,000 = 4,800 + 7,775 * 128 spaces count tiktoken's count of 4,800 spaces + 7,775.
    encoding = get_encoding("o200k_base")
    predicted = tiktoken_count(encoding, " " * 4_800) + 7_775
    assert predicted == 7_813
    assert count_text(" " * 1_000_000, encoding) == predicted
    # Between letters: "x", then 999,999 spaces (the last space goes with the second word), " x".
    predicted_between = 1 + tiktoken_count(encoding, " " * (999_999 - 7_775 * 128)) + 7_775 + 1
    assert count_text("x" + " " * 1_000_000 + "x", encoding) == predicted_between == 7_815
    counter = TokenCounter(encoding)
    message = [{"role": "user", "content": " " * 1_000_000}]
    assert counter.messages(message).total == 3 + 1 + 7_813 + 3  # message, "user", content, priming


def test_guard_equals_tiktoken_on_runs_tiktoken_survives():
    # The guarded path is taken from LONG_WHITESPACE on; checked against tiktoken on runs at and
    # above it, still short of where tiktoken overflows.
    for name in ENCODING_NAMES:
        encoding = get_encoding(name)
        for text in (" " * 100_000, "a!" + "\n" * 150_000 + "b", "x" + " \t" * 60_000 + "1"):
            assert encoders.count_guarded(text, encoding) == tiktoken_count(encoding, text)
            assert encoders.counter_for(encoding)(text) == tiktoken_count(encoding, text)


def test_tiktoken_counts_when_the_fast_encoder_is_missing(monkeypatch, encoding):
    real_import = builtins.__import__

    def no_splintr(name, *args, **kwargs):
        if name == "splintr":
            raise ImportError("no splintr here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_splintr)
    monkeypatch.delitem(sys.modules, "splintr", raising=False)
    monkeypatch.setattr(encoders, "_counters", {})
    assert encoders.encoder_name(encoding) == "tiktoken"
    count = encoders.counter_for(encoding)
    for text in ADVERSARIAL:
        assert count(text) == tiktoken_count(encoding, text)
    assert count(" " * 1_000_000) == 7_813  # the guard still stands without splintr


def test_other_encoding_objects_are_asked_to_encode_ordinary():
    class Fixed:
        name = "cl100k_base"

        def encode_ordinary(self, text):
            return [0] * 42

    assert encoders.counter_for(Fixed())("anything") == 42  # type: ignore[arg-type]


def test_greedy_pattern_is_tiktoken_pattern_without_possessives():
    assert encoders.greedy_pattern(r"a?+b++c*+\p{N}{1,3}+") == r"a?b+c*\p{N}{1,3}"
    assert encoders.greedy_pattern(tokens.PAT_STR["o200k_base"]) == tokens.PAT_STR["o200k_base"]
    assert encoders.greedy_pattern(tokens.PAT_STR["cl100k_base"]) == splintr.CL100K_BASE_PATTERN


def test_strings_with_unproven_characters_go_to_tiktoken(monkeypatch):
    # A stand-in fast encoder that is always wrong (999 tokens) shows which path counted.
    import re

    encoding = get_encoding("cl100k_base")
    # (It returns ids as the real one does, 4 bytes each.)
    monkeypatch.setattr(encoders, "_fast_encoder", lambda name, fast: lambda text: bytes(4 * 999))
    monkeypatch.setattr(encoders, "UNPROVEN", re.compile("[é]"))
    monkeypatch.setattr(encoders, "_counters", {})
    count = encoders.counter_for(encoding)
    assert count("hello world") == 999  # the fast encoder counted
    assert count("café") == tiktoken_count(encoding, "café") == 2  # tiktoken counted: "ca", "fé"


def test_only_a_proven_splintr_release_counts(monkeypatch):
    # A release the benchmark has not proven equal to tiktoken is not used: tiktoken counts instead.
    monkeypatch.setattr(splintr, "__version__", "0.23.0")
    assert encoders._fast_encoder("cl100k_base", "splintr") is None
    monkeypatch.setattr(splintr, "__version__", "0.22.7")
    assert encoders._fast_encoder("cl100k_base", "splintr") is not None
    # A module that states no version is judged by its package's metadata (0.22 here, as installed).
    monkeypatch.delattr(splintr, "__version__")
    from importlib.metadata import version

    assert (encoders._fast_encoder("cl100k_base", "splintr") is not None) == version("splintr-rs").startswith("0.22.")
