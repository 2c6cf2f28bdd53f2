"""The encoder that counts tokens: one place to choose it, exact to tiktoken on every input.

tiktoken is the reference: costcalc's counts are tiktoken's `encode_ordinary` lengths, which is how
OpenAI bills. Counting is most of the training-file scan's time, so a faster encoder is used when
it is installed and proven equal (benchmarks/encoders.py and tests/test_encoders.py prove it):

* FAST_ENCODER names it ("splintr": the splintr-rs package); set it to "tiktoken" to count with
  tiktoken only. That is the one line to change.
* It is built from the same hash-checked BPE bytes as tiktoken's encoder (tokens.bpe_data), with
  tiktoken's own pre-tokenisation pattern, its possessive quantifiers written as greedy ones
  (splintr's engine has no possessive syntax; in these patterns a possessive and a greedy
  quantifier match the same text, which the every-code-point probe of the benchmark confirms).
* A string the fast encoder is not proven on goes to tiktoken: none is known today (the benchmark
  found no mismatch on any code point, the corpus or the adversarial strings), so UNPROVEN is None;
  a character class there sends every string that contains one to tiktoken.
* Lone surrogates (which UTF-8 cannot hold) get tiktoken's own replacement first, as tiktoken does.

No input may crash a scan. tiktoken's regex engine overflows its stack on a run of about a million
whitespace characters (o200k_base: 999,999 spaces; cl100k_base: a million between two letters),
a Rust panic Python cannot recover from cleanly. A string holding a run of LONG_WHITESPACE or more
is therefore counted by `count_guarded`: the same pattern applied by Python's `regex` module (a
dependency of tiktoken, so always there; it does not overflow), then each piece byte-pair-encoded
by tiktoken's own `encode_single_piece`, which runs no regex. tiktoken encodes pre-tokenised pieces
independently, so the sum over pieces is its count; the tests check the guarded path equals
tiktoken on every adversarial string and whitespace runs short enough for tiktoken to survive.

The heavy imports (tiktoken, splintr) happen when a count is first needed, never at import.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .text import replace_surrogates  # lone surrogates -> U+FFFD, as tiktoken does

if TYPE_CHECKING:
    import tiktoken

# The one line to change: "splintr" (splintr-rs, when importable) or "tiktoken" (tiktoken only).
FAST_ENCODER = "splintr"

# Characters the fast encoder is not proven equal on, as a compiled character class; a string
# holding one is counted by tiktoken. None: no mismatch found (see the module docstring), so no scan.
UNPROVEN: re.Pattern[str] | None = None

# A whitespace run this long goes to the guarded path. tiktoken overflows at about 1,000,000; the
# margin is wide and the guarded path is as exact, only slower (0.6 s per million characters).
LONG_WHITESPACE = 100_000
# Unicode White_Space, which is what \s means to tiktoken's regex engine (stable since Unicode 6.3).
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_LONG_RUN = re.compile(f"[{_WHITE_SPACE}]{{{LONG_WHITESPACE},}}")

Count = Callable[[str], int]

_counters: dict[tuple[str, str], Count] = {}
_lock = threading.Lock()


def counter_for(encoding: tiktoken.Encoding | str, fast: str = "") -> Count:
    """A function text -> tokens, equal to len(encoding.encode_ordinary(text)) on every input.

    `encoding` is one of costcalc's own encodings, by name ("cl100k_base") or as the object
    tokens.get_encoding returns; `fast` ("splintr" or "tiktoken") defaults to FAST_ENCODER; cached
    per encoding and process. Given by name, tiktoken's encoder is built only if a string needs it
    (the fast encoder is missing, or the string is one it must not count): the fast encoder is
    built from the hash-checked files directly, which is most of a short command's start-up saved.
    Any other encoding object is asked to encode_ordinary.
    """
    from . import tokens

    if isinstance(encoding, str):
        name = tokens.checked_encoding_name(encoding)
    elif tokens._encodings.get(encoding.name) is encoding:
        name = encoding.name
    else:
        return lambda text: len(encoding.encode_ordinary(text))
    fast = fast or FAST_ENCODER
    key = (name, fast)
    count = _counters.get(key)
    if count is None:
        with _lock:
            count = _counters.get(key)
            if count is None:
                count = _counters[key] = _build(name, fast)
    return count


def encoder_name(encoding: tiktoken.Encoding | str) -> str:
    """Which encoder counts for `encoding` here: "splintr" or "tiktoken" (for --version-like output)."""
    return getattr(counter_for(encoding), "encoder", "tiktoken")


def _build(name: str, fast: str) -> Count:
    from .tokens import get_encoding

    fast_encode = _fast_encoder(name, fast) if fast != "tiktoken" else None  # text -> 4 bytes a token
    long_run = _LONG_RUN.search

    if fast_encode is None:
        reference = get_encoding(name).encode_ordinary

        def count(text: str) -> int:
            if len(text) >= LONG_WHITESPACE and long_run(text):
                return count_guarded(text, get_encoding(name))
            return len(reference(text))

        count.encoder = "tiktoken"  # type: ignore[attr-defined]
        return count

    def count_fast(text: str) -> int:
        if len(text) >= LONG_WHITESPACE and long_run(text):
            return count_guarded(text, get_encoding(name))
        try:
            return len(fast_encode(text)) >> 2
        except UnicodeEncodeError:  # lone surrogates: tiktoken's own replacement, then count
            return len(fast_encode(replace_surrogates(text))) >> 2

    if UNPROVEN is not None:
        unproven = UNPROVEN.search
        fast_only = count_fast

        def count_fast(text: str) -> int:
            return len(get_encoding(name).encode_ordinary(text)) if unproven(text) else fast_only(text)

    count_fast.encoder = fast  # type: ignore[attr-defined]
    return count_fast


def _fast_encoder(name: str, fast: str) -> Callable[[str], bytes] | None:
    """The fast encoder for `name` as text -> its token ids, 4 bytes each, or None when it is not
    installed. Built with no special tokens, so "<|endoftext|>" in a text is ordinary text, as in
    encode_ordinary. The ids as one bytes object (encode_flat) rather than a list of ints: counting
    needs only their number, and not building the list saves a quarter of the encoder's time."""
    if fast != "splintr":
        raise ValueError(f"unknown fast encoder {fast!r}")
    try:
        import splintr
    except ImportError:
        return None
    if not _proven_version(splintr):
        return None
    from .tokens import PAT_STR, bpe_data

    tokenizer = splintr.Tokenizer.from_bytes(bpe_data(name), greedy_pattern(PAT_STR[name]), {})
    encode: Callable[[str], bytes] = tokenizer.encode_flat
    return encode


# The splintr-rs releases the benchmark proved equal to tiktoken; any other counts with tiktoken.
PROVEN_SPLINTR = ("0.22.",)


def _proven_version(splintr: Any) -> bool:
    """Whether the splintr installed is a proven release, by the version its module states; the
    package's metadata (15 ms to read, on the way to every count) only where it states none."""
    stated = getattr(splintr, "__version__", None)
    if not isinstance(stated, str):
        from importlib.metadata import PackageNotFoundError, version

        try:
            stated = version("splintr-rs")
        except PackageNotFoundError:
            return False
    return stated.startswith(PROVEN_SPLINTR)


def greedy_pattern(pattern: str) -> str:
    """tiktoken's pattern with possessive quantifiers (?+ ++ *+ {m,n}+) written as greedy ones."""
    return re.sub(r"(\?|\+|\*|\})\+", r"\1", pattern)


_patterns: dict[str, Any] = {}


def count_guarded(text: str, encoding: tiktoken.Encoding) -> int:
    """tiktoken's count of `text`, without tiktoken's regex engine (which overflows on long runs).

    The pieces come from the same pattern run by Python's `regex` module; each piece is encoded
    by tiktoken's BPE alone (encode_single_piece), exactly as encode_ordinary encodes its pieces."""
    import regex

    from .tokens import PAT_STR

    pattern = _patterns.get(encoding.name)
    if pattern is None:
        pattern = _patterns[encoding.name] = regex.compile(PAT_STR[encoding.name])
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = replace_surrogates(text)
    encode_piece = encoding._encode_single_piece
    return sum(len(encode_piece(piece.encode("utf-8"))) for piece in pattern.findall(text))


__all__ = ["FAST_ENCODER", "LONG_WHITESPACE", "count_guarded", "counter_for", "encoder_name",
           "greedy_pattern", "replace_surrogates"]
