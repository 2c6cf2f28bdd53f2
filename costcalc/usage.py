"""Replay a team's real LLM traffic at the prices in force on each day (issue #12).

`read_usage` reads any mix of four kinds of file, telling each apart by its first bytes:

* OpenAI Usage API pages (`/v1/organization/usage/completions` saved as JSON, one page per file
  or pages one after the other): daily buckets of token counts per model;
* OpenAI Costs API pages (`/v1/organization/costs`): what OpenAI billed, kept apart from the
  traffic, to reconcile the replay against;
* a JSON Lines log of API responses, `chat.completion` and Responses API `response` objects, one
  request a line (a Batch API output file too: each line's `response.body`, at batch prices);
* a CSV export (`date` or `month`, `model`, `requests`, `input_tokens`, `cached_input_tokens`,
  `output_tokens`, `batch`, optional `service_tier`) from a gateway or another provider.

Every file streams: counts are added into one total per (day, model, batch, service tier) while
reading, so memory is bounded by the distinct days × models, never by the number of lines. Each
total is priced once, at the sheet in force on its day (`PriceBook.model_on`), in the mode its
requests were made in (standard, batch, flex, priority; fine-tuned rates for an `ft:` name). A
CSV `month` row is spread evenly over the month's days, so a month that spans a price change is
split by days, as comparisons do. Money stays Decimal throughout.

A bad line, result or bucket is a `Problem` (file, where, message) and the rest is read; a model
no sheet prices is listed in `unpriced` with its tokens, never priced as $0. Only a file that
cannot be read at all (missing, not UTF-8, none of the formats) raises, a DatasetError of one line.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any

from .cost import mode_prices, tokens_cost, tidy
from .errors import CostCalcError, DatasetError, MissingPriceError, Problem, UsageError
from .jsonl import BOM, PathArg, cannot_read, open_input, sniff, wrong_encoding
from .months import add_months, days_in_month, month_end, month_label
from .pricing import batch_mode, split_fine_tuned

if TYPE_CHECKING:
    from .pricing import ModelPrice, PriceBook

SCHEMA_VERSION = 1
CHUNK_BYTES = 1 << 20
SNIFF_BYTES = 64 * 1024  # enough to see a page's or a log line's "object"
MAX_PAGE_CHARS = 64 * 1024 * 1024  # a page that does not end within this much text is broken
ZERO = Decimal(0)
# Unix seconds from 2015-01-01 (before any OpenAI API) to 2100-01-01: anything past 1e11 is a
# millisecond (or finer) timestamp, the usual mistake when a log was written by JavaScript.
FIRST_SECOND = 1_420_070_400
LAST_SECOND = 4_102_444_800
# A count above a quadrillion in one record is a corrupt file, not traffic (and would overflow the
# 28 significant digits of Decimal arithmetic once priced).
MAX_COUNT = 10**15
FORMATS = ("an OpenAI Usage API page (JSON, \"object\": \"page\" of usage results)",
           "an OpenAI Costs API page (JSON, \"object\": \"page\" of costs results)",
           "a JSON Lines log of chat.completion or response objects",
           "a CSV with date or month, model, requests, input_tokens, cached_input_tokens, output_tokens, batch columns")
USAGE_RESULT = "organization.usage.completions.result"
COSTS_RESULT = "organization.costs.result"
TIERS = {"flex": "flex", "priority": "priority"}  # other tiers ("default", "auto", "scale") pay the standard rates
_OBJECT = re.compile(rb'"object"\s*:\s*"([^"\\]{0,80})"')

Progress = Callable[[int, int], None]


# --- the result ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageRow:
    """One month of one model, named as the export names it, with its replayed cost."""

    month: dt.date  # the first day of the month
    model: str
    snapshot: str | None  # what the name was priced as ("a, b" when an alias moved in the month); None: unpriced
    requests: int
    input_tokens: int  # cached included
    cached_input_tokens: int
    output_tokens: int
    batch_requests: int
    cost_usd: Decimal  # exact; the priced part only (see UsageHistory.unpriced)

    def to_dict(self) -> dict[str, Any]:
        return {"month": month_label(self.month), "model": self.model, "snapshot": self.snapshot,
                "requests": self.requests, "input_tokens": self.input_tokens,
                "cached_input_tokens": self.cached_input_tokens, "output_tokens": self.output_tokens,
                "batch_requests": self.batch_requests, "cost_usd": self.cost_usd}


@dataclass(frozen=True)
class Unpriced:
    """Tokens and requests of a model that no sheet prices (on the days it was used): never $0."""

    model: str
    requests: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "input_tokens": self.input_tokens,
                "cached_input_tokens": self.cached_input_tokens, "output_tokens": self.output_tokens,
                "reason": self.reason}


@dataclass(frozen=True)
class LineItem:
    """One month's line item of a Costs file beside what the replay puts on it."""

    month: dt.date
    line_item: str  # "gpt-4o-mini-2024-07-18, input"; "(none)" for a cost without one
    billed_usd: Decimal
    replayed_usd: Decimal

    @property
    def difference_usd(self) -> Decimal:
        return tidy(self.replayed_usd - self.billed_usd)


@dataclass(frozen=True)
class MeasuredTraffic:
    """What a scenario's [traffic] needs, measured from one model's history."""

    model: str
    last_full_month: dt.date
    requests_per_month: int  # in the last full month
    monthly_growth_pct: Decimal  # fitted, rounded to 0.01
    fit: tuple[tuple[dt.date, int], ...]  # the (month, requests) the growth was fitted on
    prompt_tokens: Decimal  # mean input tokens per request over the fitted months (cached included)
    completion_tokens: Decimal
    cached_share: Decimal  # of all input tokens, over the fitted months
    batch_share: Decimal  # of requests, over the fitted months
    start: dt.date  # the month after the last full one: where a forecast starts

    def to_dict(self) -> dict[str, Any]:
        """For a comparison's JSON assumptions."""
        return {"model": self.model, "last_full_month": month_label(self.last_full_month),
                "requests_per_month": self.requests_per_month, "monthly_growth_pct": self.monthly_growth_pct,
                "fit": [{"month": month_label(m), "requests": n} for m, n in self.fit],
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cached_share_of_input": self.cached_share, "batch_share": self.batch_share,
                "start_month": month_label(self.start), "description": self.describe()}

    def describe(self) -> str:
        months = ", ".join(f"{month_label(m)}: {n:,}" for m, n in self.fit)
        if len(self.fit) >= 2:
            growth = (f"{self.monthly_growth_pct}% monthly growth fitted (log-linear least squares) on "
                      f"{len(self.fit)} full months of requests ({months})")
        else:
            growth = f"no growth assumed: only one full month ({months}) to fit on"
        return (f"Traffic measured from the {self.model} history: {self.requests_per_month:,} requests in "
                f"{month_label(self.last_full_month)}, the last full month; {growth}; "
                f"{_round(self.prompt_tokens)} prompt and {_round(self.completion_tokens)} completion tokens "
                f"per request, {_round(self.cached_share * 100)}% of input tokens cached and "
                f"{_round(self.batch_share * 100)}% of requests batched over those months; "
                f"the forecast starts {month_label(self.start)}.")


@dataclass(frozen=True)
class UsageHistory:
    """Traffic read from usage files, replayed at the prices in force each day, and what was billed."""

    rows: tuple[UsageRow, ...]
    unpriced: dict[str, Unpriced]
    billed: dict[dt.date, Decimal]  # month -> USD billed, from Costs files (empty without one)
    line_items: tuple[LineItem, ...]
    problems: tuple[Problem, ...]  # warnings start "warning: "
    first_day: dt.date | None
    last_day: dt.date | None
    files: tuple[str, ...] = ()
    # Requests per (month, model, batch) kept for traffic(): already in rows, split for batch.
    _months: dict[str, dict[dt.date, tuple[int, int, int, int, int]]] = field(default_factory=dict, repr=False)

    @property
    def total_usd(self) -> Decimal:
        return tidy(sum((r.cost_usd for r in self.rows), ZERO))

    def replayed(self, models: Iterable[str] | None = None) -> dict[dt.date, Decimal]:
        """Month -> USD of the replay (of the export names `models` only, when given)."""
        wanted = set(models) if models is not None else None
        out: dict[dt.date, Decimal] = {}
        for row in self.rows:
            if wanted is None or row.model in wanted:
                out[row.month] = out.get(row.month, ZERO) + row.cost_usd
        return {m: tidy(v) for m, v in out.items()}

    def same_model(self, model: str) -> list[str]:
        """The export names of `model`'s traffic: an alias and its snapshot ("gpt-4o-mini" and
        "gpt-4o-mini-2024-07-18") are one model's."""
        snapshots = {r.snapshot for r in self.rows if r.model == model and r.snapshot} | {model}
        return sorted({r.model for r in self.rows if r.model in self._months and (
            r.model == model or r.model in snapshots or (r.snapshot or "") in snapshots)})

    @property
    def difference(self) -> dict[dt.date, Decimal]:
        """Month -> replay − billed, for every month a Costs file covers."""
        replay = self.replayed()
        return {m: tidy(replay.get(m, ZERO) - billed) for m, billed in sorted(self.billed.items())}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "rows": [r.to_dict() for r in self.rows],
            "total_usd": self.total_usd,
            "unpriced": {name: u.to_dict() for name, u in sorted(self.unpriced.items())},
        }
        if self.billed:
            out["billed_usd"] = {month_label(m): v for m, v in sorted(self.billed.items())}
            out["difference_usd"] = {month_label(m): v for m, v in self.difference.items()}
        out["problems"] = [p.to_dict() for p in self.problems]
        return out

    def to_frame(self) -> Any:
        """The rows as a pandas DataFrame (pandas is imported here only)."""
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self.rows],
                            columns=["month", "model", "snapshot", "requests", "input_tokens",
                                     "cached_input_tokens", "output_tokens", "batch_requests", "cost_usd"])

    def traffic(self, model: str | None = None, fit_months: int = 3) -> MeasuredTraffic:
        """The last full month of `model` (default: the model with the most requests), growth fitted
        on the last `fit_months` full months, and the shape of a request over those months."""
        if not self._months:
            raise UsageError("no traffic to measure: the usage files hold no requests")
        if model is None:
            model = max(self._months, key=lambda m: (sum(v[0] for v in self._months[m].values()), m))
        if model not in self._months:
            raise UsageError(f"no traffic of {model!r} in the usage files; they have: {', '.join(sorted(self._months))}")
        names = self.same_model(model)
        if fit_months < 1:
            raise UsageError(f"fit_months must be at least 1, not {fit_months}")
        assert self.first_day is not None and self.last_day is not None
        months: dict[dt.date, tuple[int, int, int, int, int]] = {}
        for name in names:
            for m, counts in self._months[name].items():
                old = months.get(m, (0, 0, 0, 0, 0))
                months[m] = tuple(a + b for a, b in zip(old, counts))  # type: ignore[assignment]
        full = [m for m in sorted(months) if m >= self.first_day
                and month_end(m) <= self.last_day]
        if not full:
            raise UsageError(f"no full month of {model} traffic between {self.first_day} and {self.last_day}")
        window = full[-fit_months:]
        fit = tuple((m, months[m][0]) for m in window)
        growth = _fit_growth([n for _, n in fit])
        requests, input_tokens, cached, output, batch = (sum(months[m][i] for m in window) for i in range(5))
        per = Decimal(requests) if requests else Decimal(1)
        return MeasuredTraffic(
            model=model, last_full_month=window[-1], requests_per_month=months[window[-1]][0],
            monthly_growth_pct=growth, fit=fit,
            prompt_tokens=tidy(Decimal(input_tokens) / per), completion_tokens=tidy(Decimal(output) / per),
            cached_share=tidy(Decimal(cached) / Decimal(input_tokens)) if input_tokens else ZERO,
            batch_share=tidy(Decimal(batch) / per) if requests else ZERO,
            start=add_months(window[-1], 1),
        )


def _fit_growth(requests: list[int]) -> Decimal:
    """Monthly growth % of a log-linear least-squares fit of requests over consecutive months."""
    points = [(i, math.log(n)) for i, n in enumerate(requests) if n > 0]
    if len(points) < 2:
        return ZERO
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in points)
             / sum((x - mean_x) ** 2 for x, _ in points))
    return Decimal(repr((math.exp(slope) - 1) * 100)).quantize(Decimal("0.01"))


def _round(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):,}" if value != value.to_integral() else f"{int(value):,}"


# --- reading ------------------------------------------------------------------------------------


class _Reader:
    """Everything read so far, aggregated: the state shared by the four format readers."""

    def __init__(self, progress: Progress | None, total_bytes: int):
        # (day, model, batch, tier) -> [requests, input, cached, output]
        self.daily: dict[tuple[dt.date, str, bool, str | None], list[int]] = {}
        # (month, model, batch, tier) -> counts, spread over the month's days when priced (CSV month rows)
        self.monthly: dict[tuple[dt.date, str, bool, str | None], list[int]] = {}
        self.billed: dict[tuple[dt.date, str], Decimal] = {}
        self.problems: list[Problem] = []
        self.seen_buckets: dict[tuple[Any, ...], str] = {}
        self.seen_costs: dict[tuple[Any, ...], str] = {}
        self.progress = progress
        self.total_bytes = total_bytes
        self.bytes_done = 0
        self.days: set[dt.date] = set()  # days with traffic, for the gaps check
        self.first: dt.date | None = None
        self.last: dt.date | None = None

    def problem(self, file: str, where: str, message: str) -> None:
        self.problems.append(Problem(file, where, message))

    def advance(self, n: int) -> None:
        self.bytes_done += n
        if self.progress is not None:
            self.progress(self.bytes_done, self.total_bytes)

    def span(self, first: dt.date, last: dt.date) -> None:
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)

    def add(self, day: dt.date, model: str, batch: bool, tier: str | None, counts: tuple[int, int, int, int]) -> None:
        key = (day, model, batch, tier)
        total = self.daily.get(key)
        if total is None:
            self.daily[key] = list(counts)
        else:
            for i in range(4):
                total[i] += counts[i]
        self.span(day, day)

    def add_month(self, month: dt.date, model: str, batch: bool, tier: str | None,
                  counts: tuple[int, int, int, int]) -> None:
        key = (month, model, batch, tier)
        total = self.monthly.setdefault(key, [0, 0, 0, 0])
        for i in range(4):
            total[i] += counts[i]
        self.span(month, month_end(month))


class _BadRecord(Exception):
    """One record that cannot be counted; its message becomes a Problem."""


def _count(record: dict[str, Any], key: str, *, required: bool = True) -> int:
    value = record.get(key)
    if value is None and not required:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise _BadRecord(f"{key} must be a whole number, not {value!r}" if key in record
                             else f"no {key}")
    if value < 0:
        raise _BadRecord(f"{key} is negative ({value})")
    if value > MAX_COUNT:
        raise _BadRecord(f"{key} is implausibly large ({value:,})")
    return value


def _day(value: object, key: str) -> dt.date:
    """The UTC day of a Unix time in seconds; milliseconds and nonsense are named as such."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _BadRecord(f"{key} must be a Unix time in seconds, not {value!r}")
    if value >= 1e11:
        raise _BadRecord(f"{key} {value!r} is not Unix seconds: it looks like milliseconds "
                         f"({_utc(value / 1000) if value < 1e14 else 'or finer'}); divide by 1000")
    if not FIRST_SECOND <= value < LAST_SECOND:
        raise _BadRecord(f"{key} {value!r} is not a Unix time in seconds between 2015 and 2100")
    return dt.datetime.fromtimestamp(int(value), dt.timezone.utc).date()


def _utc(seconds: float) -> str:
    try:
        return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return "out of range"


def _tokens(input_tokens: int, cached: int) -> None:
    if cached > input_tokens:
        raise _BadRecord(f"cached tokens ({cached}) exceed input tokens ({input_tokens})")


def _tier(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _BadRecord(f"service_tier must be a string, not {value!r}")
    return value.strip().lower() or None


def _model(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _BadRecord(f"model must be a model name, not {value!r}" if value is not None
                         else "no model (export the usage grouped by model)")
    return value.strip()


# --- a file's text, streamed ---------------------------------------------------------------------


def _text_chunks(stream: IO[bytes], name: str, reader: _Reader) -> Iterator[str]:
    """The file's text in chunks of about 1 MB, a leading BOM dropped; bad bytes are one error."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    first = True
    while True:
        try:
            data = stream.read(CHUNK_BYTES)
        except OSError as exc:
            raise cannot_read(name, exc) from None
        reader.advance(len(data))
        if first and data.startswith(BOM):
            data = data[len(BOM):]
            offset = len(BOM)
        first = False
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{name}: not UTF-8 text (byte {offset + exc.start})") from None
        offset += len(data)
        if text:
            yield text
        if not data:
            return


def _lines(stream: IO[bytes], name: str, reader: _Reader) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of each non-blank line; text None for a line that is not UTF-8."""
    for number, raw in enumerate(stream, 1):
        reader.advance(len(raw))
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None
            continue
        if text.strip():
            yield number, text


# --- format (a) and (b): Usage and Costs API pages -----------------------------------------------


def _pages(stream: IO[bytes], name: str, reader: _Reader) -> Iterator[tuple[int, object]]:
    """(page number from 1, decoded JSON value) of each JSON value one after the other.

    The text is read a chunk at a time; a value that runs past the end of what has been read is
    decoded again once the next chunk is in. Only the unread rest of the buffer is kept."""
    decoder = json.JSONDecoder()
    chunks = _text_chunks(stream, name, reader)
    buffer, position, number, done = "", 0, 0, False
    while True:
        position = _skip_space(buffer, position)
        if position == len(buffer):
            if done:
                return
            buffer, position = next(chunks, ""), 0
            done = not buffer
            continue
        try:
            value, end = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError as exc:
            more = "" if done else next(chunks, "")
            if more and len(buffer) - position < MAX_PAGE_CHARS:
                buffer, position = buffer[position:] + more, 0
                continue
            reader.problem(name, f"page {number + 1}", f"not valid JSON ({exc.msg}); the rest of the file is not read")
            return
        except RecursionError:
            reader.problem(name, f"page {number + 1}", "not valid JSON (nested too deeply); the rest of the file is not read")
            return
        number += 1
        position = end
        yield number, value


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _read_pages(stream: IO[bytes], name: str, reader: _Reader) -> None:
    last: object = None
    for page_number, page in _pages(stream, name, reader):
        where = f"page {page_number}"
        if not isinstance(page, dict) or page.get("object") != "page" or not isinstance(page.get("data"), list):
            reader.problem(name, where, 'not a Usage or Costs API page (an object with "object": "page" and "data")')
            continue
        last = page
        for b, bucket in enumerate(page["data"], 1):
            at = f"{where}, bucket {b}"
            if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
                reader.problem(name, at, 'not a bucket (an object with "start_time" and "results")')
                continue
            try:
                start = bucket.get("start_time")
                day = _day(start, "start_time")
            except _BadRecord as exc:
                reader.problem(name, at, str(exc))
                continue
            for r, result in enumerate(bucket["results"], 1):
                try:
                    _read_result(result, start, day, name, f"{at}, result {r}", reader)
                except _BadRecord as exc:
                    reader.problem(name, f"{at}, result {r}", str(exc))
    if isinstance(last, dict) and last.get("has_more") is True:
        # The API had more pages than the file holds: the history stops early.
        reader.problem(name, "end of file", f"warning: the last page says has_more: true (next_page "
                                            f"{last.get('next_page')!r}): the export continues past this file; "
                                            "fetch and add the following pages")


def _read_result(result: object, start: object, day: dt.date, name: str, at: str, reader: _Reader) -> None:
    if not isinstance(result, dict):
        raise _BadRecord("a result must be an object")
    kind = result.get("object")
    if kind == USAGE_RESULT:
        model = _model(result.get("model"))
        batch = result.get("batch")
        if batch is not None and not isinstance(batch, bool):
            raise _BadRecord(f"batch must be true, false or null, not {batch!r}")
        tier = _tier(result.get("service_tier"))
        counts = (_count(result, "num_model_requests"), _count(result, "input_tokens"),
                  _count(result, "input_cached_tokens", required=False), _count(result, "output_tokens"))
        _tokens(counts[1], counts[2])
        audio = _count(result, "input_audio_tokens", required=False) + _count(result, "output_audio_tokens", required=False)
        key = (start, model, bool(batch), tier, result.get("project_id"))
        if key in reader.seen_buckets:
            reader.problem(name, at, f"the same bucket ({_bucket_name(key)}) is in {reader.seen_buckets[key]}: "
                                     "counted once")
            return
        reader.seen_buckets[key] = f"{name} {at}"
        if audio:
            reader.problem(name, at, f"warning: {audio:,} audio tokens of {model} are not priced (text rates only)")
        reader.add(day, model, bool(batch), tier, counts)
    elif kind == COSTS_RESULT:
        amount = result.get("amount")
        value = amount.get("value") if isinstance(amount, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _BadRecord(f"amount.value must be a number, not {value!r}")
        currency = amount.get("currency") if isinstance(amount, dict) else None
        if isinstance(currency, str) and currency.lower() != "usd":
            raise _BadRecord(f"amount is in {currency}, not usd")
        try:
            usd = Decimal(str(value))  # str(float) is its shortest repr: 0.1 stays 0.1
        except InvalidOperation:
            raise _BadRecord(f"amount.value must be a number, not {value!r}") from None
        if not usd.is_finite():
            raise _BadRecord(f"amount.value must be a number, not {value!r}")
        item = result.get("line_item")
        item = item.strip() if isinstance(item, str) and item.strip() else "(none)"
        cost_key = (start, item, result.get("project_id"))
        if cost_key in reader.seen_costs:
            reader.problem(name, at, f"the same cost bucket (start_time {start}, {item}) is in "
                                     f"{reader.seen_costs[cost_key]}: counted once")
            return
        reader.seen_costs[cost_key] = f"{name} {at}"
        month = day.replace(day=1)
        reader.billed[(month, item)] = reader.billed.get((month, item), ZERO) + usd
    else:
        raise _BadRecord(f"not a usage or costs result (object {kind!r})")


def _bucket_name(key: tuple[Any, ...]) -> str:
    start, model, batch, tier, project = key
    parts = [f"start_time {start}", model, "batch" if batch else "not batch"]
    if tier:
        parts.append(f"service_tier {tier}")
    if project:
        parts.append(f"project {project}")
    return ", ".join(parts)


# --- format (c): a JSON Lines log of responses ---------------------------------------------------


def _read_log(stream: IO[bytes], name: str, reader: _Reader) -> None:
    for number, text in _lines(stream, name, reader):
        where = f"line {number}"
        if text is None:
            reader.problem(name, where, "not UTF-8 text")
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            reader.problem(name, where, f"not valid JSON ({exc.msg})")
            continue
        except RecursionError:
            reader.problem(name, where, "not valid JSON (nested too deeply)")
            continue
        try:
            _read_response(record, reader)
        except _BadRecord as exc:
            reader.problem(name, where, str(exc))


def _read_response(record: object, reader: _Reader) -> None:
    if not isinstance(record, dict):
        raise _BadRecord("not a chat.completion or response object")
    batch = False
    response = record.get("response")
    if "custom_id" in record and isinstance(response, dict) and isinstance(response.get("body"), dict):
        # A line of a Batch API output file: the response is its body, billed at batch prices.
        record, batch = response["body"], True
    assert isinstance(record, dict)
    kind = record.get("object")
    usage = record.get("usage")
    if kind == "chat.completion":
        day = _day(record.get("created"), "created")
        prompt, completion, details = "prompt_tokens", "completion_tokens", "prompt_tokens_details"
    elif kind == "response":
        day = _day(record.get("created_at"), "created_at")
        prompt, completion, details = "input_tokens", "output_tokens", "input_tokens_details"
    else:
        raise _BadRecord(f"not a chat.completion or response object (object {kind!r})")
    model = _model(record.get("model"))
    if not isinstance(usage, dict):
        raise _BadRecord("no usage object")
    input_tokens = _count(usage, prompt)
    cached = _count(usage[details], "cached_tokens", required=False) if isinstance(usage.get(details), dict) else 0
    _tokens(input_tokens, cached)
    reader.add(day, model, batch, None if batch else _tier(record.get("service_tier")), (1, input_tokens, cached, _count(usage, completion)))


# --- format (d): CSV ------------------------------------------------------------------------------

CSV_COLUMNS = ("model", "requests", "input_tokens", "cached_input_tokens", "output_tokens", "batch")
_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False}


def _read_csv(stream: IO[bytes], name: str, reader: _Reader) -> None:
    text = io.TextIOWrapper(io.BufferedReader(_Counted(stream, reader)), encoding="utf-8-sig", newline="")
    try:
        rows = csv.DictReader(text)
        header = [h.strip() for h in (rows.fieldnames or [])]
        rows.fieldnames = header
        missing = [c for c in CSV_COLUMNS if c not in header]
        if "date" not in header and "month" not in header:
            missing.insert(0, "date or month")
        if missing:
            raise DatasetError(f"{name}: a usage CSV needs the columns {', '.join(missing)}")
        for row in rows:
            where = f"line {rows.line_num}"
            try:
                _read_csv_row(row, reader)
            except _BadRecord as exc:
                reader.problem(name, where, str(exc))
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise DatasetError(f"{name}: not a readable CSV ({exc})") from None
    finally:
        text.detach()


def _read_csv_row(row: dict[str, Any], reader: _Reader) -> None:
    if None in row:
        raise _BadRecord("more fields than the header has columns")
    values = {k: (v or "").strip() for k, v in row.items()}
    model = _model(values.get("model"))
    counts = []
    for column in ("requests", "input_tokens", "cached_input_tokens", "output_tokens"):
        raw = values.get(column, "")
        try:
            number = int(raw.replace(",", "").replace("_", "")) if raw else 0
        except ValueError:
            raise _BadRecord(f"{column} must be a whole number, not {raw!r}") from None
        if number < 0:
            raise _BadRecord(f"{column} is negative ({number})")
        if number > MAX_COUNT:
            raise _BadRecord(f"{column} is implausibly large ({number:,})")
        counts.append(number)
    _tokens(counts[1], counts[2])
    batch = _TRUE.get(values.get("batch", "").lower())
    if batch is None:
        raise _BadRecord(f"batch must be true/false or 1/0, not {values['batch']!r}")
    tier = _tier(values.get("service_tier"))
    date, month = values.get("date", ""), values.get("month", "")
    if not date and not month:
        raise _BadRecord("no date or month")
    try:
        if month and not date and not re.fullmatch(r"\d{4}-\d{2}", month):
            raise ValueError(month)
        day = dt.date.fromisoformat(date or month + "-01")
    except ValueError:
        raise _BadRecord(f"date must be YYYY-MM-DD or month YYYY-MM, not {date or month!r}") from None
    c = (counts[0], counts[1], counts[2], counts[3])
    if date:
        reader.add(day, model, batch, tier, c)
    else:
        reader.add_month(day, model, batch, tier, c)


class _Counted(io.RawIOBase):
    """A byte stream that reports progress as the CSV reader pulls bytes through it."""

    def __init__(self, stream: IO[bytes], reader: _Reader):
        super().__init__()
        self._stream = stream
        self._reader = reader

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self._reader.advance(len(data))
        return len(data)


# --- telling the formats apart -------------------------------------------------------------------


def _detect(head: bytes, name: str) -> str:
    """'pages', 'log' or 'csv' from a file's first bytes; a DatasetError naming the formats otherwise."""
    kind = sniff(head[:4])
    if kind is not None:
        raise wrong_encoding(name, kind)
    body = head[len(BOM):] if head.startswith(BOM) else head
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        # The first "object" names what the file holds: a page's (or, written with "data" first, a
        # bucket's or result's), or a logged response's (a bad first line is then reported by line).
        match = _OBJECT.search(stripped)
        found = match.group(1).decode("utf-8", "replace") if match else ""
        if found in ("page", "bucket") or found.startswith("organization."):
            return "pages"
        if found in ("chat.completion", "response"):
            return "log"
    first_line = body.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    columns = {c.strip().strip('"') for c in first_line.split(",")}
    if "model" in columns and ({"date", "month"} & columns):
        return "csv"
    if not body.strip():
        raise DatasetError(f"{name}: empty: not a usage file")
    raise DatasetError(f"{name}: not a usage file: looked for {'; '.join(FORMATS)}")


def read_usage(paths: PathArg | Iterable[PathArg], *, book: PriceBook | None = None,
               progress: Progress | None = None) -> UsageHistory:
    """Read usage files (any mix of the four formats) and replay their traffic at each day's prices.

    `progress(bytes_done, bytes_total)` is called as bytes are read (a ProgressBar fits).
    """
    if book is None:
        from .pricing import load_pricebook

        book = load_pricebook()
    sources: list[PathArg] = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    opened = []
    try:
        for path in sources:
            opened.append(open_input(path))
        reader = _Reader(progress, sum(o.size or 0 for o in opened))
        for source in opened:
            try:
                head = source.stream.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(source.stream, "peek") else b""
            except OSError as exc:
                raise cannot_read(source.name, exc) from None
            kind = _detect(head, source.name)
            try:
                {"pages": _read_pages, "log": _read_log, "csv": _read_csv}[kind](source.stream, source.name, reader)
            except OSError as exc:
                raise cannot_read(source.name, exc) from None
    finally:
        for source in opened:
            source.close()
    return _replay(reader, book, tuple(o.name for o in opened))


# --- pricing ------------------------------------------------------------------------------------


@dataclass
class _Month:
    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])  # requests, input, cached, output, batch reqs
    cost: Decimal = ZERO
    snapshots: list[str] = field(default_factory=list)


def _replay(reader: _Reader, book: PriceBook, files: tuple[str, ...]) -> UsageHistory:
    months: dict[tuple[dt.date, str], _Month] = {}
    unpriced: dict[str, list[int]] = {}
    reasons: dict[str, str] = {}
    replayed_items: dict[tuple[dt.date, str], Decimal] = {}
    prices_cache: dict[tuple[dt.date, str, bool, str | None, int], Any] = {}

    def price(day: dt.date, model: str, batch: bool, tier: str | None, counts: list[int]) -> Any:
        """(snapshot, {line item: USD}) of `counts` on `day`, or a str: why it cannot be priced."""
        per_request = counts[1] // counts[0] if counts[0] else counts[1]
        key = (day, model, batch, tier, per_request)
        if key not in prices_cache:
            prices_cache[key] = _rates(book, day, model, batch, tier, Decimal(per_request))
        rates = prices_cache[key]
        if isinstance(rates, str):
            return rates
        snapshot, suffix, p = rates
        uncached = counts[1] - counts[2]
        items = {f"{snapshot}, input{suffix}": tokens_cost(uncached, p.input_per_1m),
                 f"{snapshot}, cached input{suffix}": tokens_cost(counts[2], p.cached_input_per_1m),
                 f"{snapshot}, output{suffix}": tokens_cost(counts[3], p.output_per_1m)}
        return snapshot, items

    def record(month: dt.date, model: str, batch: bool, counts: list[int], result: Any, share: Decimal) -> None:
        if isinstance(result, str):
            total = unpriced.setdefault(model, [0, 0, 0, 0])
            for i in range(4):
                total[i] += counts[i]
            reasons.setdefault(model, result)
            return
        snapshot, items = result
        entry = months.setdefault((month, model), _Month())
        if snapshot not in entry.snapshots:
            entry.snapshots.append(snapshot)
        for item, usd in items.items():
            usd = usd * share
            entry.cost += usd
            if usd:
                replayed_items[(month, item)] = replayed_items.get((month, item), ZERO) + usd

    def count(month: dt.date, model: str, batch: bool, counts: list[int]) -> None:
        entry = months.setdefault((month, model), _Month())
        for i in range(4):
            entry.counts[i] += counts[i]
        if batch:
            entry.counts[4] += counts[0]

    for (day, model, batch, tier), counts in sorted(reader.daily.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or "")):
        month = day.replace(day=1)
        result = price(day, model, batch, tier, counts)
        if not isinstance(result, str):
            count(month, model, batch, counts)
        record(month, model, batch, counts, result, Decimal(1))
    for (month, model, batch, tier), counts in sorted(reader.monthly.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or "")):
        n = days_in_month(month)
        # Spread the month evenly over its days: each day bears 1/n of the counts at its own prices.
        results = [price(month.replace(day=d), model, batch, tier, counts) for d in range(1, n + 1)]
        if any(isinstance(r, str) for r in results):
            record(month, model, batch, counts, next(r for r in results if isinstance(r, str)), Decimal(1))
            continue
        count(month, model, batch, counts)
        # Days priced alike are one segment, its share days / n: one division a segment, not a sum of n thirds.
        segments: dict[tuple[str, tuple[tuple[str, Decimal], ...]], int] = {}
        for snapshot, items in results:
            alike = (snapshot, tuple(items.items()))
            segments[alike] = segments.get(alike, 0) + 1
        for (snapshot, items_list), days in segments.items():
            record(month, model, batch, counts, (snapshot, dict(items_list)), Decimal(days) / Decimal(n))

    rows = []
    by_model: dict[str, dict[dt.date, tuple[int, int, int, int, int]]] = {}
    for (month, model), entry in sorted(months.items()):
        if not entry.snapshots:
            continue
        c = entry.counts
        rows.append(UsageRow(month, model, ", ".join(entry.snapshots), c[0], c[1], c[2], c[3], c[4], tidy(entry.cost)))
        by_model.setdefault(model, {})[month] = (c[0], c[1], c[2], c[3], c[4])
    for model, c in unpriced.items():
        by_model.setdefault(model, {})

    billed: dict[dt.date, Decimal] = {}
    for (month, _), usd in reader.billed.items():
        billed[month] = billed.get(month, ZERO) + usd
    line_items = []
    if reader.billed:
        billed_months = set(billed)
        for key in sorted(set(reader.billed) | {k for k in replayed_items if k[0] in billed_months}):
            line_items.append(LineItem(key[0], key[1], tidy(reader.billed.get(key, ZERO)),
                                       tidy(replayed_items.get(key, ZERO))))

    problems = list(reader.problems)
    problems.extend(_gaps(reader))
    for model, c in sorted(unpriced.items()):
        problems.append(Problem("", model, f"not priced: {reasons[model]} ({c[0]:,} request{'' if c[0] == 1 else 's'}, "
                                           f"{c[1]:,} input and {c[3]:,} output tokens left out of the total)"))
    return UsageHistory(
        rows=tuple(rows),
        unpriced={m: Unpriced(m, c[0], c[1], c[2], c[3], reasons[m]) for m, c in sorted(unpriced.items())},
        billed={m: tidy(v) for m, v in sorted(billed.items())},
        line_items=tuple(line_items),
        problems=tuple(problems),
        first_day=reader.first, last_day=reader.last, files=files,
        _months={m: v for m, v in by_model.items() if v},
    )


def _rates(book: PriceBook, day: dt.date, model: str, batch: bool, tier: str | None,
           per_request: Decimal) -> Any:
    """(snapshot, line-item suffix, ModePrices) of `model` on `day`, or a str: why it is not priced."""
    try:
        _, price = book.model_on(model, day)
        _, fine_tuned = split_fine_tuned(model)
        mode = price.default_mode
        suffix = ""
        if batch:
            mode, suffix = batch_mode(mode), ", batch"
        elif tier in TIERS:
            mode, suffix = TIERS[tier], f", {tier}"
        prices = mode_prices(price, mode, fine_tuned=fine_tuned, input_tokens=per_request)
    except MissingPriceError as exc:
        return str(exc)
    except CostCalcError as exc:  # unknown model or provider, no sheet in force yet
        return str(exc)
    snapshot = model if fine_tuned else price.name
    return snapshot, suffix, prices


def _gaps(reader: _Reader) -> list[Problem]:
    """A warning for each month inside the range read that holds no traffic at all."""
    if reader.first is None or reader.last is None:
        return []
    with_data = {d.replace(day=1) for d, *_ in reader.daily} | {m for m, *_ in reader.monthly}
    out = []
    month = reader.first.replace(day=1)
    while month <= reader.last:
        if month not in with_data:
            out.append(Problem("", month_label(month), "warning: no usage in this month, inside the range read"))
        month = add_months(month, 1)
    return out


__all__ = ["LineItem", "MeasuredTraffic", "Unpriced", "UsageHistory", "UsageRow", "read_usage"]
