"""Scan a fine-tuning file: validate every example, count its tokens, estimate the training fee.

`scan_dataset` reads a JSONL file (or stdin) in the chat format (`messages`, optional `tools` /
`functions`) or, for completion models (babbage-002, davinci-002), the legacy prompt/completion
format. It reports every problem by type with a count and the first line numbers, counts tokens by
the cookbook rule (see `costcalc.tokens`), and applies OpenAI's billing: each example is truncated
to the model's per-example limit, the sum is trained once per epoch, and the fee is that many
tokens at the training price of the sheet in force.

The scan streams: the file is cut into newline-aligned chunks of about 1 MB, scanned by a pool of
worker processes with a bounded number in flight, and merged in file order, so line numbers are
exact. Memory does not grow with the file: the per-example counts are kept as frequency tables
(tokens -> number of examples), bounded by the number of distinct values, and the duplicate
finder keeps 16 bytes per example (an 8-byte hash and the line number) for at most SPILL_ENTRIES
examples, beyond which it spills them to temporary bucket files and checks one bucket at a time.
Processes rather than threads: tiktoken's encoder and json.loads both hold the GIL for most of
their work, and two threads measured slower than one.
"""

from __future__ import annotations

import bisect
import datetime
import gzip
import hashlib
import io
import itertools
import json
import math
import os
import re
import sys
import tempfile
import zlib
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

from .errors import CostCalcError, DatasetError, MissingPriceError, UsageError
from .jsonl import BOM, GZIP, STDIN, cannot_read, open_input, peek, sniff, wrong_encoding
from .tokens import COUNTING_RULE, TokenCounter, checked_encoding_name
from .training import Epochs, bill_examples, parse_epochs, training_limit

if TYPE_CHECKING:
    from .pricing import ModelPrice, PriceSheet

SCHEMA_VERSION = 1
CHUNK_BYTES = 1 << 20
MIN_EXAMPLES = 10  # "at least 10 examples" (fine-tuning guide)
FIRST_LINES = 5  # line numbers kept per error type
NEAR_LIMIT = 0.9  # warn about examples within 10% of the per-example limit
# Duplicate detection holds 16 bytes per example in memory up to this many examples (64 MB), then
# spills them to bucket files on disk.
SPILL_ENTRIES = 4_000_000
FEW_ENTRIES = 5_000  # up to this many, duplicates are found without numpy (a small file)

CHAT_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
MESSAGE_KEYS = frozenset({"role", "content", "name", "weight", "function_call", "tool_calls", "tool_call_id"})
ROLES = frozenset({"system", "user", "assistant", "tool", "function"})
COMPLETION_KEYS = frozenset({"prompt", "completion"})

# Every error type, in the order reports list them, with the message a person reads.
ERROR_MESSAGES = {
    "invalid_utf8": "line is not valid UTF-8 text",
    "invalid_json": "line is not valid JSON (each line must hold one complete JSON object)",
    "not_an_object": "line is JSON but not an object",
    "missing_messages": 'example has no "messages" list, or the list is empty',
    "invalid_type": (
        "a value has the wrong type (messages must be objects; role, name and tool_call_id strings; "
        "content a string or a list of content parts; function_call an object; tool_calls, tools "
        "and functions lists of objects)"
    ),
    "missing_role": 'a message has no "role"',
    "unrecognized_role": "a message role is not one of system, user, assistant, tool, function",
    "missing_content": 'a message has no "content" and no function_call or tool_calls',
    "empty_content": "a message has empty content and no function_call or tool_calls",
    "unrecognized_key": (
        "unrecognised key (an example holds messages, tools, functions, parallel_tool_calls; a message "
        "holds role, content, name, weight, function_call, tool_calls, tool_call_id)"
    ),
    "invalid_weight": '"weight" is not 0 or 1',
    "no_assistant_message": "example has no assistant message",
    "missing_prompt": 'example has no "prompt" string',
    "missing_completion": 'example has no "completion" string',
    "duplicate_example": "example repeats an earlier line exactly (still counted: OpenAI trains on every copy)",
    "empty_file": "file holds no examples (it is empty or has only blank lines)",
    "too_few_examples": f"fewer than {MIN_EXAMPLES} valid examples; OpenAI requires at least {MIN_EXAMPLES}",
}
COMPLETION_UNRECOGNIZED_KEY = "unrecognised key (a legacy example holds prompt and completion only)"

# What OpenAI's upload would reject or ignore in examples the scan counts, and lines that show the
# file is in the other model family's format: kind -> (what, after "N examples have", or "N lines
# are" for the format hints; why it matters, after the first line numbers).
WARNING_MESSAGES = {
    "image_parts": ("image content parts", "image tokens are not counted, and vision fine-tuning is only "
                                           "for some models"),
    "invalid_arguments": ("tool-call arguments that are not valid JSON", "OpenAI's upload may reject them"),
    "weight_not_assistant": ('"weight" on a message that is not the assistant\'s',
                             "OpenAI applies weight to assistant messages only"),
    "lone_surrogate": ("text with a lone surrogate",
                       "a \\ud800-\\udfff escape without its pair is not Unicode text, and OpenAI's upload "
                       "may reject it"),
    "legacy_format": ("in the legacy prompt/completion format",
                      "only babbage-002 and davinci-002 fine-tune on it; scan the file with --model babbage-002 "
                      "(or davinci-002)"),
    "chat_format": ('in the chat format ("messages")',
                    "babbage-002 and davinci-002 fine-tune on prompt/completion; scan the file with a chat "
                    "model, e.g. --model gpt-4o-mini"),
}
FORMAT_HINTS = frozenset({"legacy_format", "chat_format"})

Source = Union[str, os.PathLike, IO[bytes]]
Progress = Callable[[int, Union[int, None]], None]


@dataclass(frozen=True)
class Distribution:
    """Summary of a per-example quantity; quantiles interpolate linearly (numpy's default, as the
    notebook prints them). All None when there are no examples."""

    min: int | None = None
    p10: float | None = None
    median: float | None = None
    mean: float | None = None
    p90: float | None = None
    max: int | None = None

    @classmethod
    def of(cls, values: Iterable[int]) -> Distribution:
        """Of per-example values (a list, an array)."""
        return cls.of_counts(Counter(int(v) for v in values))

    @classmethod
    def of_counts(cls, counts: Mapping[int, int] | Iterable[tuple[int, int]]) -> Distribution:
        """Of a frequency table: value -> number of examples, or (value, count) pairs. Exactly what
        numpy gives for the full array of values, without ever building it."""
        pairs = _pairs(counts)
        if not pairs:
            return cls()
        n = sum(c for _, c in pairs)
        p10, median, p90 = (round(q, 2) for q in _quantiles(pairs, (0.1, 0.5, 0.9)))
        mean = sum(v * c for v, c in pairs) / n  # exact sum, one rounding, as numpy's float64 mean
        return cls(pairs[0][0], p10, median, round(mean, 2), p90, pairs[-1][0])

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("min", "p10", "median", "mean", "p90", "max")}


def _pairs(counts: Mapping[int, int] | Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(value, count) pairs sorted by value, without zero counts."""
    items = counts.items() if isinstance(counts, Mapping) else counts
    return sorted((int(v), int(c)) for v, c in items if c)


def _quantiles(pairs: list[tuple[int, int]], qs: Iterable[float]) -> list[float]:
    """Quantiles of the values a sorted frequency table stands for, by numpy's default 'linear'
    method step for step (virtual index (n - 1) * q, and its two-sided lerp), so the floats are
    the very ones np.quantile returns for the full array."""
    cumulative = list(itertools.accumulate(c for _, c in pairs))
    n = cumulative[-1]

    def value(k: int) -> int:  # the k-th smallest (0-based)
        return pairs[bisect.bisect_right(cumulative, k)][0]

    out = []
    for q in qs:
        virtual = (n - 1) * q
        if virtual >= n - 1:
            out.append(float(pairs[-1][0]))
            continue
        below = math.floor(virtual)
        a, b, t = value(below), value(below + 1), virtual - below
        out.append(float(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t))
    return out


@dataclass(frozen=True)
class ErrorSummary:
    """One type of problem: how many lines have it and the first of them (1-based)."""

    kind: str
    count: int
    lines: tuple[int, ...]
    message: str

    def to_dict(self) -> dict:
        return {"count": self.count, "lines": list(self.lines), "message": self.message}


@dataclass(frozen=True)
class DatasetReport:
    """What a fine-tuning file holds and what training on it costs, with where each number came from.

    Token figures are cookbook estimates (`counting_rule`); `billing_tokens` truncates each example
    to `max_tokens_per_example`; `billed_training_tokens` = epochs × billing tokens; `training_usd`
    is exact (None when the sheet has no training price for the model). A file with no valid
    example has `epochs` 0 under `auto` (`epochs_rule` says there is nothing to train on); the
    table says "no examples" instead.
    """

    file: str
    format: str  # "chat" or "completion"
    model: str
    encoding: str
    price_sheet_effective: datetime.date
    price_sheet_file: str | None
    bytes: int
    lines: int
    examples: int
    messages_per_example: Distribution
    tokens_per_example: Distribution
    assistant_tokens_per_example: Distribution
    total_tokens: int
    assistant_tokens: int
    max_tokens_per_example: int | None
    examples_over_limit: int
    examples_near_limit: int
    billing_tokens: int
    epochs: int
    epochs_rule: str
    billed_training_tokens: int
    training_per_1m: Decimal | None
    training_usd: Decimal | None
    errors: tuple[ErrorSummary, ...] = ()
    warnings: tuple[str, ...] = ()
    counting_rule: str = COUNTING_RULE
    # How many valid examples have how many tokens: (tokens, examples) pairs sorted by tokens, as
    # the scan counted them. What a histogram of the file needs, in memory bounded by the number
    # of distinct counts rather than of examples.
    tokens_histogram: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)
    # The warnings about the file itself, whatever model it is billed for.
    file_warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, kind: str) -> ErrorSummary | None:
        return next((e for e in self.errors if e.kind == kind), None)

    def billed_for(self, model: ModelPrice, sheet: PriceSheet | None, epochs: Epochs) -> DatasetReport:
        """The same file billed as a job on `model` (its per-example limit, the training price of
        `sheet`): what a retraining on another snapshot costs, from the scan's frequency table,
        without reading the file again. The tokenizer must be the one the file was counted with."""
        if model.encoding != self.encoding:
            raise UsageError(f"{self.file} was counted with {self.encoding}; {model.name} uses {model.encoding}")
        limit = training_limit(model)
        histogram = self.tokens_histogram
        warnings = list(self.file_warnings)
        if limit is None:
            over = near = 0
            warnings.append(f"no per-example token limit is known for {model.name}: examples are not truncated "
                            "in this estimate")
        else:
            near_from = -(-9 * limit // 10)  # 90% of the limit, rounded up
            over = sum(c for t, c in histogram if t > limit)
            near = sum(c for t, c in histogram if near_from <= t <= limit)
            if over:
                warnings.append(
                    f"{_examples(over, 'exceeds', 'exceed')} the {limit:,}-token limit and will be truncated to it")
            if near:
                warnings.append(f"{_examples(near, 'is', 'are')} within 10% of the {limit:,}-token limit")
        bill = bill_examples(model, histogram, epochs)
        if bill.training_per_1m is None:
            warnings.append(str(MissingPriceError(model.name, "training", model.effective)))
        return replace(
            self,
            model=model.name,
            price_sheet_effective=sheet.effective if sheet is not None else model.effective,
            price_sheet_file=str(sheet.path) if sheet is not None else None,
            max_tokens_per_example=limit,
            examples_over_limit=over,
            examples_near_limit=near,
            billing_tokens=bill.billing_tokens,
            epochs=bill.epochs,
            epochs_rule=bill.epochs_rule,
            billed_training_tokens=bill.billed_tokens,
            training_per_1m=bill.training_per_1m,
            training_usd=bill.training_usd,
            warnings=tuple(warnings),
        )

    def to_dict(self) -> dict:
        """The JSON contract (schema_version 1), ready for json.dumps; money is a decimal string."""
        return {
            "schema_version": SCHEMA_VERSION,
            "file": self.file,
            "format": self.format,
            "model": self.model,
            "encoding": self.encoding,
            "price_sheet": {"effective": self.price_sheet_effective.isoformat(), "file": self.price_sheet_file},
            "bytes": self.bytes,
            "lines": self.lines,
            "examples": self.examples,
            "messages_per_example": {
                k: v for k, v in self.messages_per_example.to_dict().items() if k in ("min", "mean", "max")
            },
            "tokens_per_example": self.tokens_per_example.to_dict(),
            "assistant_tokens_per_example": self.assistant_tokens_per_example.to_dict(),
            "total_tokens": self.total_tokens,
            "assistant_tokens": self.assistant_tokens,
            "max_tokens_per_example": self.max_tokens_per_example,
            "examples_over_limit": self.examples_over_limit,
            "examples_near_limit": self.examples_near_limit,
            "billing_tokens": self.billing_tokens,
            "epochs": self.epochs,
            "epochs_rule": self.epochs_rule,
            "billed_training_tokens": self.billed_training_tokens,
            "training_per_1m": _decimal(self.training_per_1m),
            "training_usd": _decimal(self.training_usd),
            "errors": {e.kind: e.to_dict() for e in self.errors},
            "warnings": list(self.warnings),
            "counting_rule": self.counting_rule,
        }

    def to_frame(self):
        """The per-example distributions as a pandas DataFrame, for notebooks and scripts.

        One row per quantity (`tokens`, `assistant_tokens`, and `messages` for chat files), columns
        min, p10, median, mean, p90, max: min and max as Int64 (counts; <NA> when there are no
        examples), the interpolated quantiles and the mean as float64.
        """
        import pandas as pd

        rows = {"tokens": self.tokens_per_example, "assistant_tokens": self.assistant_tokens_per_example}
        if self.format == "chat":
            rows["messages"] = self.messages_per_example
        columns = ("min", "p10", "median", "mean", "p90", "max")
        frame = pd.DataFrame([[getattr(d, c) for c in columns] for d in rows.values()],
                             index=pd.Index(list(rows), name="per_example"), columns=list(columns))
        return frame.astype({c: "Int64" if c in ("min", "max") else "float64" for c in columns})


class InvalidDatasetError(DatasetError):
    """Raised by a strict scan of a file with errors; `report` still holds the whole report."""

    def __init__(self, report: DatasetReport):
        self.report = report
        kinds = ", ".join(f"{e.kind} ({e.count:,})" for e in report.errors)
        super().__init__(f"{report.file} has errors: {kinds}")


def dataset_format(model: ModelPrice) -> str:
    """'chat' or 'completion' (legacy prompt/completion for babbage-002 and davinci-002)."""
    if model.kind in ("chat", "completion"):
        return model.kind
    raise UsageError(f"{model.name} is {'an' if model.kind[0] in 'aeiou' else 'a'} {model.kind} model: "
                     "fine-tuning files are for chat or completion models")


def scan_dataset(
    source: Source,
    *,
    model_price: ModelPrice,
    epochs: str | int = "auto",
    strict: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    sheet: PriceSheet | None = None,
) -> DatasetReport:
    """Validate and count a fine-tuning file and estimate its training fee under `model_price`.

    `source` is a path, "-" for stdin, or a binary stream. `workers` processes scan it (default:
    every core; 1 scans in this process). `progress(bytes_done, bytes_total)` is called as chunks
    finish. `sheet` is the price sheet the model came from, recorded as the source of the prices.
    A strict scan raises InvalidDatasetError (holding the report) when the file has any error; a
    file that cannot be read at all is a DatasetError, and so is one that is UTF-16 or UTF-32
    (named as such). A gzip-compressed file is read through gzip, still streamed and in
    parallel, with a warning that OpenAI's upload needs it uncompressed.

    A model the sheet has no training price for (gpt-4) is still scanned: the report counts the
    tokens and says, in its warnings, that the price is missing, with `training_usd` None. It is
    `costcalc dataset --model` that refuses such a model (`training.not_fine_tunable`).
    """
    epochs = parse_epochs(epochs)
    fmt = dataset_format(model_price)
    if not model_price.encoding:
        raise UsageError(f"the price sheet names no tokenizer encoding for {model_price.name}")
    # By name: the counting encoder is built where the counting happens (in each worker).
    encoding_name = checked_encoding_name(model_price.encoding)
    workers = worker_count(workers)
    stream, name, size, close = _open(source)
    with _Totals() as totals:  # leaving it removes the duplicate finder's spill files
        try:
            stream, totals.compressed = _decompressed(stream, name)
            if totals.compressed:
                size = None  # the bytes scanned are uncompressed: the file's size says nothing of them
            chunks = _chunks(stream, name)
            head = list(itertools.islice(chunks, 4))
            if workers == 1 or len(head) < 4:
                for i, chunk in enumerate(itertools.chain(head, chunks)):
                    totals.merge(_scan_chunk(chunk, fmt, encoding_name, i == 0))
                    if progress:
                        progress(totals.bytes, size)
            else:
                _scan_parallel(itertools.chain(head, chunks), fmt, encoding_name, workers, totals, progress, size)
        finally:
            close()
        report = _report(totals, name, fmt, model_price, encoding_name, epochs, sheet)
    if strict and report.errors:
        raise InvalidDatasetError(report)
    return report


# --- reading ------------------------------------------------------------------------------------


def worker_count(workers: int | None) -> int:
    """Processes to work with: `workers` (a whole number >= 1, else a UsageError), or one per core
    this process may use. The dataset scan's rule, and the report's where it can fork."""
    if workers is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - macOS, Windows
            return max(1, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UsageError(f"workers must be a whole number >= 1, not {workers!r}")
    return workers


def _open(source: Source):
    """(binary stream, display name, size in bytes or None, close function)."""
    if source is sys.stdin:
        source = STDIN  # its bytes, as for "-"
    if isinstance(source, (str, os.PathLike)):
        opened = open_input(source)
        return opened.stream, opened.name, opened.size, opened.close
    if isinstance(source, io.TextIOBase):
        if hasattr(source, "buffer"):
            return source.buffer, getattr(source, "name", "<stream>"), None, lambda: None
        raise UsageError("scan_dataset needs a binary stream (open the file with 'rb')")
    if hasattr(source, "read"):
        return source, str(getattr(source, "name", "<stream>")), None, lambda: None
    raise UsageError(f"cannot read a dataset from {type(source).__name__}")


def _decompressed(stream: IO[bytes], name: str) -> tuple[IO[bytes], bool]:
    """(the stream of the file's JSONL bytes, whether it was gzip-compressed). A file that is
    UTF-16 or UTF-32, compressed or not, is one DatasetError naming it, not a bad line each."""
    try:
        head, stream = peek(stream)
        compressed = sniff(head) == GZIP
        if compressed:
            stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
            head, stream = peek(stream)
    except _GZIP_ERRORS as exc:
        raise _unreadable(name, exc) from None
    kind = sniff(head)
    if kind is not None and kind != GZIP:
        raise wrong_encoding(name, kind)
    return stream, compressed


# What reading a damaged gzip file raises: gzip.BadGzipFile (an OSError), EOFError when it is cut
# short, zlib.error for corrupt data.
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def _unreadable(name: str, exc: Exception) -> DatasetError:
    if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile):
        return cannot_read(name, exc)
    return DatasetError(f"{name}: cannot read the gzip data: {exc}")


def _chunks(stream: IO[bytes], name: str) -> Iterator[bytes]:
    """Newline-aligned blocks of about CHUNK_BYTES (a longer line makes a longer block)."""
    try:
        while True:
            block = stream.read(CHUNK_BYTES)
            if not block:
                return
            if not block.endswith(b"\n"):
                block += _rest_of_line(stream, name, block)
            yield block
    except _GZIP_ERRORS as exc:
        raise _unreadable(name, exc) from None


def _rest_of_line(stream: IO[bytes], name: str, block: bytes) -> bytes:
    """The rest of the line `block` ends in, read a chunk at a time. A line that holds a carriage
    return and ends the file with a new object after it, or one of a megabyte or more that holds
    one at all, is lines that end in CR alone, which no JSONL reader splits: refused, before the
    rest of a large file is read into memory as one line."""
    start = block.rfind(b"\n") + 1  # where the line begins in the block
    line = len(block) - start  # its bytes so far
    carriage_return = block.find(b"\r", start) >= 0
    pieces = []
    while True:
        piece = stream.readline(CHUNK_BYTES)
        pieces.append(piece)
        line += len(piece)
        carriage_return = carriage_return or b"\r" in piece
        if piece.endswith(b"\n"):
            return b"".join(pieces)
        if not piece:  # the end of the file, without a line end
            rest = b"".join(pieces)
            if carriage_return and b"\r{" in block[start:] + rest:
                raise _cr_line_ends(name)
            return rest
        if carriage_return and line >= CHUNK_BYTES:
            raise _cr_line_ends(name)


def _cr_line_ends(name: str) -> DatasetError:
    return DatasetError(f"{name}: its lines end in CR alone (classic Mac OS), so the whole file reads as one "
                        "line: JSONL lines end in LF or CRLF (convert it with `tr '\\r' '\\n' < FILE > FIXED`)")


def _scan_parallel(chunks, fmt, encoding_name, workers, totals, progress, size) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(),
                               initializer=_start_worker, initargs=(encoding_name,))
    pending: deque = deque()
    try:
        _feed(pool, pending, chunks, fmt, encoding_name, workers, totals, progress, size)
    except BrokenProcessPool:
        raise CostCalcError("a worker process of the dataset scan died unexpectedly (out of memory?)") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(encoding_name: str) -> None:
    """Build the worker's counting encoder (the fast one; tiktoken only without it) before its
    first chunk.

    Ctrl-C, which the terminal sends to every process of the command, is left to the parent: it
    cancels the chunks not yet started and waits for the few in flight (at most two a worker, a
    tenth of a second). A worker it interrupted would print its own traceback ("Exception in
    initializer" while the encoder is built) and break the pool."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .encoders import counter_for

    counter_for(encoding_name)


def _feed(pool, pending, chunks, fmt, encoding_name, workers, totals, progress, size) -> None:
    """Submit chunks with at most two per worker in flight; merge results in file order."""
    for i, chunk in enumerate(chunks):
        # Two chunks per worker in flight keeps every core busy without reading ahead further.
        if len(pending) >= 2 * workers:
            totals.merge(pending.popleft().result())
            if progress:
                progress(totals.bytes, size)
        pending.append(pool.submit(_scan_chunk, chunk, fmt, encoding_name, i == 0))
    while pending:
        totals.merge(pending.popleft().result())
        if progress:
            progress(totals.bytes, size)


# --- scanning one chunk (in a worker process) -----------------------------------------------------

def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


# One decoder for every line: json.loads(text, **kw) would build a new decoder per call.
_decoder = json.JSONDecoder(parse_constant=_reject_constant)

# orjson parses a line in half the time of the json module, and where it gives a value it gives
# the json module's value, with two exceptions handled in _scan_chunk. It refuses some lines the
# json module reads and the scan must report as today (a lone surrogate escape, 1e400, NaN): a
# line it refuses goes to the json module, which reports it or reads it. And it reads integers
# beyond 64 bits as floats, which no check can tell from the integer (neither is a weight of 0 or
# 1, a string or a list) but a tool or function definition can: an enum item or a description
# that is a number is counted as its JSON text. So an example with "tools" or "functions" is read
# by the json module as well. orjson also reads nesting deeper than the json module can (which
# the scan reports as invalid JSON): a line with _DEEP or more brackets goes to the json module.
_DEEP = 256
_UNREAD = object()  # a line no decoder has read yet


def _fast_loads() -> Callable[[bytes], Any] | None:
    """orjson.loads, or None when orjson is not installed (the json module then reads every line)."""
    try:
        import orjson
    except ImportError:
        return None
    loads: Callable[[bytes], Any] = orjson.loads
    return loads


_counters: dict[str, TokenCounter] = {}


@dataclass
class _Chunk:
    """What a worker found in one chunk; line indexes are 0-based within the chunk. The per-example
    counts are frequency tables (value -> examples); hashes and line indexes of the valid examples
    go, in file order, to the duplicate finder."""

    bytes: int = 0
    lines: int = 0
    nonblank: int = 0
    tokens: dict = field(default_factory=dict)
    assistant: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    line_index: array = field(default_factory=lambda: array("I"))
    hashes: bytearray = field(default_factory=bytearray)
    errors: dict = field(default_factory=dict)  # kind -> [count, [first line indexes]]
    warnings: dict = field(default_factory=dict)  # kind (of WARNING_MESSAGES) -> the same
    missing_system: int = 0
    missing_user: int = 0
    pretty_printed: bool = False
    json_array: bool = False  # the first line is a JSON array: a JSON file, not JSONL
    bom: bool = False


def _scan_chunk(data: bytes, fmt: str, encoding_name: str, first: bool) -> _Chunk:
    counter = _counters.get(encoding_name)
    if counter is None:
        counter = _counters[encoding_name] = TokenCounter(encoding_name)
    out = _Chunk(bytes=len(data))
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    out.lines = len(lines)
    if first and lines and lines[0].startswith(BOM):
        lines[0] = lines[0][len(BOM):]
        out.bom = True
    errors, warnings = out.errors, out.warnings
    tokens, assistant, messages = array("I"), array("I"), array("I")
    decode = _decoder.decode
    fast_loads = _fast_loads()
    blake2b = hashlib.blake2b
    check = _check_chat if fmt == "chat" else _check_completion
    for i, raw in enumerate(lines):
        raw = raw.strip()
        if not raw:
            continue
        out.nonblank += 1
        obj = _UNREAD
        by_json = False
        if fast_loads is not None and raw.count(b"[") + raw.count(b"{") < _DEEP:
            try:
                obj = fast_loads(raw)
            except ValueError:  # refused: the json module, below, reads it or says what is wrong
                pass
            else:
                if type(obj) is dict and ("tools" in obj or "functions" in obj):
                    obj = _UNREAD  # definitions turn numbers back into text: the json module's numbers
        if obj is _UNREAD:
            by_json = True
            try:
                obj = decode(raw.decode("utf-8"))
            except UnicodeDecodeError:
                _add(errors, "invalid_utf8", i)
                continue
            except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
                if first and out.nonblank == 1 and raw in (b"{", b"["):
                    out.pretty_printed = True
                _add(errors, "invalid_json", i)
                continue
        if not isinstance(obj, dict):
            if first and out.nonblank == 1 and isinstance(obj, list):
                out.json_array = True
            _add(errors, "not_an_object", i)
            continue
        problems, flags = check(obj)
        if problems:
            for kind in problems:
                _add(errors, kind, i)
            if fmt == "chat" and "messages" not in obj and ("prompt" in obj or "completion" in obj):
                _add(warnings, "legacy_format", i)
            elif fmt == "completion" and "messages" in obj:
                _add(warnings, "chat_format", i)
            continue
        # orjson refuses a lone surrogate, so only a line the json module read may hold one.
        if by_json and _may_have_lone_surrogate(raw) and _has_lone_surrogate(obj):
            _add(warnings, "lone_surrogate", i)
        if fmt == "chat":
            try:
                total, assistant_total = counter.totals(obj["messages"], obj.get("tools"), obj.get("functions"))
            except DatasetError:  # a shape the checks let through: reported, never a crash
                _add(errors, "invalid_type", i)
                continue
            tokens.append(total)
            assistant.append(assistant_total)
            messages.append(len(obj["messages"]))
            out.missing_system += not flags & _HAS_SYSTEM
            out.missing_user += not flags & _HAS_USER
            if flags & _WARNINGS:
                for flag, kind in _FLAG_WARNINGS:
                    if flags & flag:
                        _add(warnings, kind, i)
        else:
            completion = counter.text(obj["completion"])
            tokens.append(counter.text(obj["prompt"]) + completion)
            assistant.append(completion)
        out.line_index.append(i)
        out.hashes += blake2b(raw, digest_size=8).digest()
    out.tokens, out.assistant, out.messages = Counter(tokens), Counter(assistant), Counter(messages)
    return out


def _add(errors: dict, kind: str, line: int) -> None:
    entry = errors.get(kind)
    if entry is None:
        errors[kind] = [1, [line]]
    else:
        entry[0] += 1
        if len(entry[1]) < FIRST_LINES:
            entry[1].append(line)


_HAS_SYSTEM, _HAS_USER, _HAS_IMAGE, _WEIGHT_NOT_ASSISTANT, _INVALID_ARGUMENTS = 1, 2, 4, 8, 16
# The flags that are warnings about the example, with their kind in WARNING_MESSAGES.
_FLAG_WARNINGS = ((_HAS_IMAGE, "image_parts"), (_INVALID_ARGUMENTS, "invalid_arguments"),
                  (_WEIGHT_NOT_ASSISTANT, "weight_not_assistant"))
_WARNINGS = _HAS_IMAGE | _WEIGHT_NOT_ASSISTANT | _INVALID_ARGUMENTS


def _check_chat(obj: dict) -> tuple[set | None, int]:
    """(problem kinds or None, flags) for one chat example."""
    problems = set()
    flags = 0
    if not CHAT_KEYS.issuperset(obj):
        problems.add("unrecognized_key")
    for key in ("tools", "functions"):
        value = obj.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            problems.add("invalid_type")
    if "parallel_tool_calls" in obj and not isinstance(obj["parallel_tool_calls"], bool):
        problems.add("invalid_type")
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.add("missing_messages")
        return problems, flags
    has_assistant = False
    for message in messages:
        if type(message) is dict and len(message) == 2:
            # Fast path for the common {"role": ..., "content": "non-empty"}; same checks as below.
            role = message.get("role")
            content = message.get("content")
            if type(role) is str and type(content) is str and content and role in ROLES:
                if role == "assistant":
                    has_assistant = True
                elif role == "system":
                    flags |= _HAS_SYSTEM
                elif role == "user":
                    flags |= _HAS_USER
                continue
        if not isinstance(message, dict):
            problems.add("invalid_type")
            continue
        if not MESSAGE_KEYS.issuperset(message):
            problems.add("unrecognized_key")
        role = message.get("role")
        if role is None:
            problems.add("missing_role")
        elif not isinstance(role, str):
            problems.add("invalid_type")
        elif role not in ROLES:
            problems.add("unrecognized_role")
        elif role == "assistant":
            has_assistant = True
        elif role == "system":
            flags |= _HAS_SYSTEM
        elif role == "user":
            flags |= _HAS_USER
        call = message.get("function_call")
        calls = message.get("tool_calls")
        if call is not None:
            if not _is_call(call):
                problems.add("invalid_type")
            elif not _json_arguments(call):
                flags |= _INVALID_ARGUMENTS
        if calls is not None:
            if not (isinstance(calls, list)
                    and all(isinstance(c, dict) and _is_call(c.get("function")) for c in calls)):
                problems.add("invalid_type")
            elif not all(_json_arguments(c["function"]) for c in calls):
                flags |= _INVALID_ARGUMENTS
        has_call = bool(call or calls)
        content = message.get("content")
        if content is None:
            if not has_call:
                problems.add("missing_content")
        elif isinstance(content, str):
            if not content and not has_call:
                problems.add("empty_content")
        elif isinstance(content, list):
            text, images, valid = _parts(content)
            if not valid:
                problems.add("invalid_type")
            elif not text and not images and not has_call:
                problems.add("empty_content")
            if images:
                flags |= _HAS_IMAGE
        else:
            problems.add("invalid_type")
        for key in ("name", "tool_call_id"):
            if key in message and not isinstance(message[key], str):
                problems.add("invalid_type")
        if "weight" in message:
            weight = message["weight"]
            if isinstance(weight, bool) or weight not in (0, 1):
                problems.add("invalid_weight")
            elif role != "assistant":
                flags |= _WEIGHT_NOT_ASSISTANT
    if not has_assistant:
        problems.add("no_assistant_message")
    return problems or None, flags


def _is_call(call: object) -> bool:
    return isinstance(call, dict) and all(
        isinstance(call.get(k), (str, type(None))) for k in ("name", "arguments")
    )


def _json_arguments(call: dict) -> bool:
    """Whether a call's `arguments` string (when it has one) holds JSON, as the API writes them."""
    arguments = call.get("arguments")
    if arguments is None:
        return True
    try:
        _decoder.decode(arguments)
    except (ValueError, RecursionError):
        return False
    return True


# A lone surrogate can only come from a \uD800-\uDFFF escape, and most lines have none: a search of
# the bytes is far cheaper than walking the strings, left to the few lines that may have one.
# Emoji escaped as pairs (\ud83d\ude00: the high half, then the low) are common and pass here.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_HIGH_HALF = frozenset(b"89abAB")


def _may_have_lone_surrogate(raw: bytes) -> bool:
    """False when every surrogate escape of the line is half of a pair, in order. An escaped
    backslash (\\\\ud800 is text, not an escape) can fool the pairing, so a line with one may."""
    expect = -1  # where the low half of the last high half must start
    found = False
    for match in _SURROGATE_ESCAPE.finditer(raw):
        found = True
        at = match.start()
        high = raw[at + 3] in _HIGH_HALF
        if expect >= 0:
            if at != expect or high:
                return True
            expect = -1
        elif high:
            expect = at + 6
        else:
            return True  # a low half with no high half before it
    return expect >= 0 or (found and b"\\\\" in raw)


def _has_lone_surrogate(value: object) -> bool:
    """Whether any string (key or value) in a decoded JSON value holds half a surrogate pair,
    which UTF-8 cannot encode. Walks with a stack: the value may nest as deep as the decoder let it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _parts(parts: list) -> tuple[bool, bool, bool]:
    """(has text, has non-text parts, well formed) for a list of content parts."""
    text = images = False
    for part in parts:
        if not isinstance(part, dict):
            return text, images, False
        if part.get("type", "text") == "text":
            value = part.get("text")
            if not isinstance(value, str):
                return text, images, False
            text = text or bool(value)
        else:
            images = True
    return text, images, True


def _check_completion(obj: dict) -> tuple[set | None, int]:
    problems = set()
    for key in obj:
        if key not in COMPLETION_KEYS:
            problems.add("unrecognized_key")
    if not isinstance(obj.get("prompt"), str):
        problems.add("missing_prompt")
    if not isinstance(obj.get("completion"), str):
        problems.add("missing_completion")
    return problems or None, 0


# --- merging chunks and the report ----------------------------------------------------------------


class _Totals:
    """The whole file so far: frequency tables of the per-example counts, error summaries with
    absolute line numbers and the duplicate finder. A context manager: leaving it removes the
    duplicate finder's spill files."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0
        self.nonblank = 0
        self.tokens: Counter = Counter()
        self.assistant: Counter = Counter()
        self.messages: Counter = Counter()
        self.duplicates = _Duplicates()
        self.errors: dict[str, list] = {}
        self.warnings: dict[str, list] = {}
        self.missing_system = 0
        self.missing_user = 0
        self.pretty_printed = False
        self.json_array = False
        self.bom = False
        self.compressed = False

    def __enter__(self) -> _Totals:
        return self

    def __exit__(self, *exc) -> None:
        self.duplicates.close()

    def merge(self, chunk: _Chunk) -> None:
        first_line = self.lines + 1  # 1-based number of the chunk's first line
        self.bytes += chunk.bytes
        self.lines += chunk.lines
        self.nonblank += chunk.nonblank
        self.tokens.update(chunk.tokens)
        self.assistant.update(chunk.assistant)
        self.messages.update(chunk.messages)
        self.duplicates.add(chunk.hashes, chunk.line_index, first_line)
        for merged, found in ((self.errors, chunk.errors), (self.warnings, chunk.warnings)):
            for kind, (count, lines) in found.items():
                entry = merged.setdefault(kind, [0, []])
                entry[0] += count
                entry[1].extend(first_line + i for i in lines[: FIRST_LINES - len(entry[1])])
        self.missing_system += chunk.missing_system
        self.missing_user += chunk.missing_user
        self.pretty_printed = self.pretty_printed or chunk.pretty_printed
        self.json_array = self.json_array or chunk.json_array
        self.bom = self.bom or chunk.bom


# A duplicate finder's record: the example's 8-byte hash, then its line number as a big-endian
# uint64, so sorting the records as 16-byte strings sorts them by (hash, line) in place.
_RECORD = "S16"
_BUCKETS = 256  # spill files, one per first byte of the hash


class _Duplicates:
    """Exact duplicate detection in bounded memory.

    Records (hash, line) of the valid examples, in file order. Up to SPILL_ENTRIES of them stay in
    memory; past that, the buffer is sorted in place and written out partitioned by the hash's
    first byte into _BUCKETS files in a temporary directory. Every copy of an example has the same
    hash, so lands in the same bucket: each bucket is checked alone at the end. Of a hash's copies
    within one spill, those after its first FIRST_LINES + 1 are later copies that can never be
    among the first lines reported: they are counted and dropped, so even a file of one line
    repeated keeps its buckets small.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._dir: tempfile.TemporaryDirectory | None = None
        self._dropped = 0

    @property
    def spilled(self) -> bool:
        return self._dir is not None

    def add(self, hashes: bytes | bytearray, line_index: array, first_line: int) -> None:
        """Add one chunk's examples: 8-byte hashes and 0-based line indexes from `first_line` on."""
        if not line_index:
            return
        if len(self._buffer) // 16 + len(line_index) <= FEW_ENTRIES and self._dir is None:
            # A small file: the same records without numpy, whose import alone would take a
            # quarter of a short command's time.
            for k, index in enumerate(line_index):
                self._buffer += hashes[8 * k:8 * k + 8]
                self._buffer += (first_line + index).to_bytes(8, "big")
        else:
            import numpy as np

            records = np.empty((len(line_index), 2), dtype=">u8")
            records[:, 0] = np.frombuffer(hashes, dtype=">u8")
            records[:, 1] = np.frombuffer(line_index, dtype=np.uint32)
            records[:, 1] += first_line
            self._buffer += records.tobytes()
        if len(self._buffer) >= SPILL_ENTRIES * 16:
            self._spill()

    def _spill(self) -> None:
        import numpy as np

        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="costcalc-duplicates-")
        records = np.frombuffer(self._buffer, dtype=_RECORD)
        records.sort()
        hashes = records.view(">u8")[0::2]
        keep = FIRST_LINES + 1
        surplus = np.zeros(len(records), dtype=bool)
        np.equal(hashes[keep:], hashes[:-keep], out=surplus[keep:])
        self._dropped += int(np.count_nonzero(surplus))
        # Sorted by hash, so each bucket (the hash's first byte) is one run of records.
        first_bytes = records.view(np.uint8)[0::16]
        bounds = np.append(np.searchsorted(first_bytes, np.arange(_BUCKETS, dtype=np.uint8)), len(records))
        for bucket in range(_BUCKETS):
            start, stop = bounds[bucket], bounds[bucket + 1]
            if start == stop:
                continue
            part = records[start:stop]
            dropped = surplus[start:stop]
            if dropped.any():
                part = part[~dropped]
            with open(os.path.join(self._dir.name, f"{bucket:02x}"), "ab") as f:
                part.tofile(f)
        self._buffer = bytearray()  # the old one goes with the last view of it, on return

    def result(self) -> tuple[int, list[int]]:
        """(count of examples repeating an earlier one, the first FIRST_LINES of their line numbers)."""
        if self._dir is None and len(self._buffer) // 16 <= FEW_ENTRIES:
            return _later_copies_of_few(self._buffer)
        import numpy as np

        if self._dir is None:
            return _later_copies(np.frombuffer(self._buffer, dtype=_RECORD))
        if self._buffer:
            self._spill()
        count = self._dropped
        lines: list[int] = []
        for name in sorted(os.listdir(self._dir.name)):
            bucket_count, bucket_lines = _later_copies(np.fromfile(os.path.join(self._dir.name, name), _RECORD))
            count += bucket_count
            lines = sorted(lines + bucket_lines)[:FIRST_LINES]
        return count, lines

    def close(self) -> None:
        self._buffer = bytearray()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def _later_copies_of_few(buffer: bytes | bytearray) -> tuple[int, list[int]]:
    """`_later_copies` of a buffer of few records, in plain Python: sorted as 16-byte strings,
    a record whose hash (first 8 bytes) the one before it has is a later copy."""
    records = sorted(buffer[i:i + 16] for i in range(0, len(buffer), 16))
    later = [record for before, record in zip(records, records[1:]) if record[:8] == before[:8]]
    return len(later), sorted(int.from_bytes(record[8:], "big") for record in later)[:FIRST_LINES]


def _later_copies(records) -> tuple[int, list[int]]:
    """(count, first FIRST_LINES line numbers) of the records whose hash an earlier record has.

    Sorts `records` in place, by (hash, line): the first record of each hash is the first copy.
    """
    import numpy as np

    if len(records) < 2:
        return 0, []
    records.sort()
    words = records.view(">u8")
    hashes, lines = words[0::2], words[1::2]
    later = hashes[1:] == hashes[:-1]
    count = int(np.count_nonzero(later))
    if not count:
        return 0, []
    first = np.sort(lines[1:][later])[:FIRST_LINES]
    return count, [int(line) for line in first]


def _report(totals: _Totals, name, fmt, model, encoding_name, epochs, sheet) -> DatasetReport:
    tokens = _pairs(totals.tokens)
    n = sum(c for _, c in tokens)
    total_tokens = sum(t * c for t, c in tokens)

    errors = dict(totals.errors)
    dup_count, dup_lines = totals.duplicates.result()
    if dup_count:
        errors["duplicate_example"] = [dup_count, dup_lines]
    if totals.nonblank == 0:
        errors["empty_file"] = [1, []]
    elif n < MIN_EXAMPLES:
        errors["too_few_examples"] = [1, []]
    summaries = tuple(
        ErrorSummary(kind, errors[kind][0], tuple(errors[kind][1]), _message(kind, fmt))
        for kind in ERROR_MESSAGES
        if kind in errors
    )

    warnings = []
    if totals.compressed:
        warnings.append("the file is gzip-compressed: costcalc read it, but OpenAI's upload needs plain JSONL "
                        "(decompress it first)")
    if totals.pretty_printed:
        warnings.append('line 1 is a lone "{" or "[": this looks like pretty-printed JSON, but a '
                        "fine-tuning file needs one example per line (JSONL)")
    if totals.json_array:
        warnings.append("line 1 is a JSON array: this looks like a JSON file, but a fine-tuning file needs one "
                        "example per line (JSONL)")
    if totals.bom:
        warnings.append("the file starts with a UTF-8 byte order mark (BOM): OpenAI's upload may reject it "
                        "(save the file as UTF-8 without a BOM)")
    for kind in ("legacy_format", "chat_format"):
        if kind in totals.warnings:
            warnings.append(_warning(kind, *totals.warnings[kind]))
    if totals.missing_system:
        warnings.append(f"{_examples(totals.missing_system)} no system message")
    if totals.missing_user:
        warnings.append(f"{_examples(totals.missing_user)} no user message")
    warnings += [_warning(kind, *totals.warnings[kind]) for kind in WARNING_MESSAGES
                 if kind in totals.warnings and kind not in FORMAT_HINTS]

    scanned = DatasetReport(
        file=name,
        format=fmt,
        model=model.name,
        encoding=encoding_name,
        price_sheet_effective=model.effective,
        price_sheet_file=None,
        bytes=totals.bytes,
        lines=totals.lines,
        examples=n,
        messages_per_example=Distribution.of_counts(totals.messages) if fmt == "chat" else Distribution(),
        tokens_per_example=Distribution.of_counts(tokens),
        assistant_tokens_per_example=Distribution.of_counts(totals.assistant),
        total_tokens=total_tokens,
        assistant_tokens=sum(t * c for t, c in totals.assistant.items()),
        max_tokens_per_example=None,
        examples_over_limit=0,
        examples_near_limit=0,
        billing_tokens=0,
        epochs=0,
        epochs_rule="",
        billed_training_tokens=0,
        training_per_1m=None,
        training_usd=None,
        errors=summaries,
        warnings=(),
        counting_rule=COUNTING_RULE if fmt == "chat" else "prompt tokens + completion tokens (tiktoken)",
        tokens_histogram=tuple(tokens),
        file_warnings=tuple(warnings),
    )
    return scanned.billed_for(model, sheet, epochs)


def _decimal(value: Decimal | None) -> str | None:
    from .render import decimal_string

    return None if value is None else decimal_string(value)


def _examples(n: int, one: str = "has", many: str = "have") -> str:
    """'1 example has' / '2,000 examples have'."""
    return f"1 example {one}" if n == 1 else f"{n:,} examples {many}"


def _lines(n: int) -> str:
    """'1 line is' / '2,000 lines are'."""
    return "1 line is" if n == 1 else f"{n:,} lines are"


def _warning(kind: str, count: int, lines: list[int]) -> str:
    """'2 examples have tool-call arguments that are not valid JSON (lines 3, 9): OpenAI's ...'."""
    what, why = WARNING_MESSAGES[kind]
    shown = ", ".join(map(str, lines))
    where = f"line {shown}" if count == 1 else f"lines {shown}" if count == len(lines) else f"first lines {shown}"
    counted = _lines(count) if kind in FORMAT_HINTS else _examples(count)
    return f"{counted} {what} ({where}): {why}"


def _message(kind: str, fmt: str) -> str:
    if kind == "unrecognized_key" and fmt == "completion":
        return COMPLETION_UNRECOGNIZED_KEY
    return ERROR_MESSAGES[kind]


__all__ = [
    "DatasetReport",
    "Distribution",
    "ERROR_MESSAGES",
    "ErrorSummary",
    "InvalidDatasetError",
    "dataset_format",
    "scan_dataset",
]
