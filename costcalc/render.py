"""Renders one result as a terminal table, JSON, CSV or Markdown.

Every command hands the renderer an `Output`: the JSON-ready `data` (the contract scripts rely on)
and the `tables` a person reads. Both are built from the same result object, so they cannot
disagree. Money stays `Decimal` up to here; this is the one place it is rounded for display.

Text in a table (a strategy name, a title) is put on one line by `costcalc.text.one_line`, the rule
the charts and the PDF use too, so a newline in a name never breaks a row; the JSON keeps it as given.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from .text import one_line, shorten

FORMATS = ("table", "json", "csv", "markdown")

# Characters of one cell, title or note a terminal table shows at most, the rest cut with "…" (CSV
# and JSON keep the text in full): tabulate wraps an unbroken word in time quadratic in its length,
# a minute for a title of a million characters. Markdown cells too: tabulate pads every row of a
# column to its widest cell, 22 MB for that title.
SCREEN_LIMIT = 2_000


class Money(Decimal):
    """An amount of money: shown as $1,234.57 to people, exact in CSV and JSON."""

    symbol = "$"

    @classmethod
    def shown_as(cls, amount: Decimal, symbol: str) -> Money:
        """An amount already converted to another currency, shown with that currency's symbol."""
        money = cls(amount)
        money.symbol = symbol
        return money


class Count(Decimal):
    """A count of requests or tokens: shown rounded with separators (2,500), exact in CSV and JSON.

    Counts can be fractional (5% monthly growth of 100,000 requests), so they are Decimals.
    """


class Share(Decimal):
    """A share 0..1, shown as a percent ("43%") in tables and as a plain decimal in CSV and JSON."""


class Price(Decimal):
    """A price in USD per 1M tokens: shown as the sheet writes it ($0.075, $1.50)."""


@dataclass(frozen=True)
class Table:
    """A titled table with the lines printed under it: its `legend` (how to read it), then `notes`.

    `name` is how code finds the table in an `Output` ("summary", "monthly"); it is never shown.
    """

    title: str | None
    headers: list[str]
    rows: Sequence[Sequence[object]]
    notes: list[str] = field(default_factory=list)
    # Terminal tables wrap a column at this many characters (None = no wrapping): long prose
    # cells such as assumptions would otherwise make the table hundreds of columns wide.
    wrap: int | None = None
    legend: str | None = None
    name: str = ""
    # The currency of the table's Money cells when it is not USD: CSV, which has no title or
    # legend to say so, names it in those columns' headers ("total (EUR)").
    currency: str | None = None
    # The strategy each row is about (None: the scenario as a whole), so that a report can show
    # the rows of some strategies only; empty when the table does not say.
    row_strategies: tuple[str | None, ...] = ()

    def of_strategies(self, names: set[str]) -> Table:
        """This table with only the rows about the strategies `names` and those about none."""
        if not self.row_strategies:
            return self
        kept = [(row, owner) for row, owner in zip(self.rows, self.row_strategies) if owner is None or owner in names]
        return replace(self, rows=[row for row, _ in kept], row_strategies=tuple(owner for _, owner in kept))

    @property
    def footer(self) -> list[str]:
        """Every line printed under the table: the legend, then the notes."""
        return ([self.legend] if self.legend else []) + list(self.notes)


@dataclass(frozen=True)
class Output:
    """What a command prints: `data` for JSON, `tables` for table and Markdown; CSV is one table,
    `csv` where a command gives one that holds everything (else the first table)."""

    data: dict[str, Any]
    tables: list[Table]
    csv: Table | None = None

    def table(self, name: str) -> Table:
        """The table named `name`; KeyError if there is none."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"no table {name!r} in this output; tables are: {', '.join(t.name for t in self.tables)}")


def render(output: Output, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(output.data, indent=2, default=json_default, ensure_ascii=False)
    if fmt == "csv":
        return render_csv(output.csv or output.tables[0])
    if fmt == "markdown":
        return "\n\n".join(render_markdown(t) for t in output.tables)
    if fmt == "table":
        return "\n\n".join(render_table(t) for t in output.tables)
    raise ValueError(f"unknown format {fmt!r}")


def render_table(table: Table) -> str:
    from tabulate import tabulate

    def screen(text: str) -> str:
        return shorten(one_line(text), SCREEN_LIMIT)

    rows = [[screen(display(cell)) for cell in row] for row in table.rows]
    parts = [screen(table.title)] if table.title else []
    aligns = _align(table)
    widths = [table.wrap if table.wrap and not a == "right" else None for a in aligns]
    parts.append(tabulate(rows, headers=[screen(h) for h in table.headers], tablefmt="simple",
                          disable_numparse=True, colalign=aligns, maxcolwidths=widths if table.wrap else None))
    parts += [screen(line) for line in table.footer]
    return "\n".join(parts)


def render_markdown(table: Table) -> str:
    from tabulate import tabulate

    def cell(text: str) -> str:
        return shorten(one_line(text), SCREEN_LIMIT).replace("|", "\\|")

    rows = [[cell(display(value)) for value in row] for row in table.rows]
    parts = [f"### {one_line(table.title)}", ""] if table.title else []
    parts.append(tabulate(rows, headers=[cell(h) for h in table.headers], tablefmt="github",
                          disable_numparse=True, colalign=_align(table)))
    if table.footer:
        parts += [""] + [f"{one_line(note)}  " for note in table.footer]
    return "\n".join(parts)


def render_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([one_line(header) for header in _csv_headers(table)])
    for row in table.rows:
        writer.writerow([one_line(exact(cell)) for cell in row])
    return buffer.getvalue().rstrip("\n")


def _csv_headers(table: Table) -> list[str]:
    """The headers, those of money columns with the table's currency when it is not USD."""
    if table.currency is None:
        return list(table.headers)
    money = [any(i < len(row) and isinstance(row[i], Money) for row in table.rows) for i in range(len(table.headers))]
    return [f"{header} ({table.currency})" if is_money else header for header, is_money in zip(table.headers, money)]


def _align(table: Table) -> list[str]:
    """Right-align columns whose cells are all numbers (or blank), left-align the rest."""
    aligns: list[str] = []
    for i in range(len(table.headers)):
        cells = [row[i] for row in table.rows if i < len(row) and row[i] not in (None, "")]
        numeric = bool(cells) and all(isinstance(c, (int, Decimal)) and not isinstance(c, bool) for c in cells)
        aligns.append("right" if numeric else "left")
    return aligns


def display(value: object) -> str:
    """A cell as a person reads it."""
    if value is None:
        return "-"
    if isinstance(value, Money):
        return format_usd(value, symbol=value.symbol)
    if isinstance(value, Count):
        return format_count(value)
    if isinstance(value, Price):
        return "$" + plain(value, min_places=2)
    if isinstance(value, Share):
        return f"{value * 100:.0f}%"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def exact(value: object) -> str:
    """A cell for machines: full precision, no symbols or separators."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_string(value)
    return str(value)


def format_usd(amount: Decimal, symbol: str = "$") -> str:
    """$1,234.57 for amounts of a dollar or more; small amounts keep enough digits to be seen."""
    amount = Decimal(amount)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 1 or amount == 0:
        with localcontext() as context:  # room for every digit of a huge amount, and its cents
            context.prec = max(context.prec, amount.adjusted() + 4)
            return f"{sign}{symbol}{amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
    # Below a dollar (a single request, a tiny training job) cents would hide the figure: show three
    # significant digits ($0.476, $0.00311, $0.000625), and at least two decimals ($0.10).
    places = max(2, 3 - amount.adjusted() - 1)
    text = plain(amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP), min_places=2)
    return f"{sign}{symbol}{text}"


def format_count(value: Decimal) -> str:
    """2,500 for whole counts and counts of a thousand or more (rounded); 812.4 below that."""
    value = Decimal(value)
    if value == value.to_integral_value() or abs(value) >= 1000:
        with localcontext() as context:  # to_integral_value of a huge value needs its digits
            context.prec = max(context.prec, value.adjusted() + 2)
            return f"{int(value.to_integral_value(ROUND_HALF_UP)):,}"
    return f"{value:,.1f}"


def plain(value: Decimal, min_places: int = 0) -> str:
    """Decimal without exponent or trailing zeros, but with at least `min_places` decimals."""
    text = decimal_string(value)
    if min_places:
        whole, _, frac = text.partition(".")
        text = f"{whole}.{frac.ljust(min_places, '0')}"
    return text


def decimal_string(value: Decimal) -> str:
    """The exact value as a plain decimal string: '2.4', '0.075', '1200' (never '1.2E+3')."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return decimal_string(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
