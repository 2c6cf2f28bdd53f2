"""Months: the first day of a month inside the library, "YYYY-MM" only at the edges (files, flags, JSON, screens)."""

from __future__ import annotations

import calendar
import datetime as dt
import re

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def today() -> dt.date:
    """Today's date: the one clock of the library and the CLI, so tests can set it (monkeypatch)."""
    return dt.date.today()


def parse_month(text: str) -> dt.date:
    """'2023-09' -> date(2023, 9, 1); ValueError otherwise."""
    match = _MONTH.match(text.strip()) if isinstance(text, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(text)
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def month_label(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def months_phrase(n: int) -> str:
    """'1 month' / '12 months'."""
    return f"{n} month{'s' if n != 1 else ''}"


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def days_in_month(month: dt.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def month_end(month: dt.date) -> dt.date:
    """The last day of `month`'s month."""
    return month.replace(day=days_in_month(month))


__all__ = ["add_months", "days_in_month", "month_end", "month_label", "months_phrase", "parse_month", "today"]
