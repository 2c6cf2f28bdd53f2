"""The validator toolkit shared by the price-sheet loader (`pricing`) and the scenario loader (`scenario`).

Both read parsed TOML into frozen dataclasses and report every problem at once, each as a
`Problem(file, key, message)`. What they share lives here, once: key paths and how they are shown,
the names of TOML types in messages, "did you mean", the "bool is not a number" rule, and one typed
getter per TOML type, so that mypy checks what each loader builds from them.

A getter reads `raw[path[-1]]`: None when the key is absent (a problem first if it is required),
the value when it has the type, None after a problem when it has another. Rules of the domain
(a price is >= 0, a share is between 0 and 1) stay with the loaders; the getters check types.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeGuard

from .errors import Problem, closest_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KeyPath = tuple[str, ...]
Raw = Mapping[str, Any]  # a parsed TOML table

SCHEMA_VERSION_KEY = "schema_version"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # what TOML accepts as a bare key

_TYPE_NAMES: dict[type, str] = {
    # No float: TOML is read with parse_float=Decimal, so a float comes from a script and is named as such.
    str: "a string", bool: "a boolean", int: "an integer", Decimal: "a number",
    list: "an array", dict: "a table", dt.date: "a date", dt.datetime: "a date-time", dt.time: "a time",
}


def key_path(path: KeyPath) -> str:
    """('strategies', 'My bot', 'model') -> 'strategies."My bot".model', as TOML writes it.

    A part is bare when TOML allows it bare, else a quoted string: `models."gpt-3.5-turbo".input`
    but `models.gpt-4o.input`.
    """
    return ".".join(part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False) for part in path)


def type_name(value: object) -> str:
    """The TOML type of a value as a message says it: 'a string', 'a table', 'a date-time'."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def show_value(value: object) -> str:
    """A value as a message quotes it, as TOML writes it: 1.5 (not Decimal('1.5')), 'January', true,
    1.000E+400."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if not value.is_finite():  # NaN, sNaN, Infinity: as written
            return str(value)
        from .render import decimal_string

        text = decimal_string(value)
        return text if len(text) <= 24 else f"{value:.3E}"  # 1.000E+400, not four hundred digits
    if isinstance(value, str):
        return repr(value)
    return str(value)


def describe_value(value: object) -> str:
    """What a value is, for a message: "8.0 (a float)", "'abc' (a string)",
    "a table". Scalars are shown with their type; tables and arrays by their type alone."""
    if isinstance(value, Decimal):  # what TOML calls a float: 8.0, 1.5
        return f"{show_value(value)} (a float)"
    if isinstance(value, (dict, list)):
        return type_name(value)
    text = show_value(value)
    if len(text) > 40:  # a message is one line
        text = text[:37] + "..."
    return f"{text} ({type_name(value)})"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """' (did you mean 'base'?)' for the closest known name, '' when none is close."""
    hint = closest_names(name, known, limit=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def is_number(value: object) -> TypeGuard[int | Decimal]:
    """An integer or a decimal, and not a boolean: bool is an int in Python, but `true` is a mistake, not 1."""
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def is_whole(value: object) -> TypeGuard[int]:
    """An integer and not a boolean (see `is_number`)."""
    return isinstance(value, int) and not isinstance(value, bool)


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is below it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return str(path)


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF8_BOM = b"\xef\xbb\xbf"


def decode_text(data: bytes) -> tuple[str | None, str]:
    """(text, '') for UTF-8 bytes, else (None, why not), naming UTF-16 and a byte-order mark."""
    if data.startswith(UTF16_BOMS) or (len(data) >= 2 and data.count(0) * 4 >= len(data)):
        return None, "not UTF-8 text: it is UTF-16 (save it as UTF-8)"
    if data.startswith(UTF8_BOM):
        return None, "starts with a UTF-8 byte-order mark, which TOML does not allow (save it as UTF-8 without one)"
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"


def read_toml(path: Path, shown: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """A TOML file parsed with exact decimals (parse_float=Decimal: 0.075 stays 0.075, never a
    binary float), or the one problem that stops it being read: cannot read, not UTF-8, not TOML."""
    try:
        data = path.read_bytes()
    except OSError as exc:  # a missing file, a folder, a symlink loop, no permission
        return None, Problem(shown, "", f"cannot read: {exc.strerror or exc}")
    text, why = decode_text(data)
    if text is None:
        return None, Problem(shown, "", why)
    try:
        return tomllib.loads(text, parse_float=Decimal), None
    except tomllib.TOMLDecodeError as exc:
        return None, Problem(shown, "", f"not valid TOML: {exc}")
    except RecursionError:  # arrays nested deeper than Python's stack
        return None, Problem(shown, "", "not valid TOML: nested too deeply")


class Checker:
    """Collects the problems of one file, each with its key path; loaders subclass it.

    `locate` says where a key path is reported (the file, or a flag in the scenario loader) and
    `missing` how a missing key is reported; both can be overridden.
    """

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def locate(self, path: KeyPath) -> tuple[str, str]:
        """(file, key) of a problem at `path`."""
        return self.file, key_path(path)

    def problem(self, path: KeyPath, message: str) -> None:
        file, key = self.locate(path)
        self.problems.append(Problem(file, key, message))

    def missing(self, path: KeyPath, message: str = "missing") -> None:
        self.problem(path, message)

    def schema_version(self, raw: Raw, supported: int) -> bool:
        """Whether the file's schema_version is the one this costcalc reads (a problem if not)."""
        path = (SCHEMA_VERSION_KEY,)
        version = raw.get(SCHEMA_VERSION_KEY)
        if version is None:
            self.problem(path, f"missing (this costcalc reads schema_version = {supported})")
            return False
        if not is_whole(version) or version != supported:
            self.problem(path, f"unknown schema version {version!r} (this costcalc reads schema_version = {supported})")
            return False
        return True

    def unknown_keys(self, raw: Raw, allowed: Iterable[str], path: KeyPath) -> None:
        allowed = tuple(allowed)
        for key in raw:
            if key not in allowed:
                self.problem((*path, key), "unknown key" + did_you_mean(key, allowed))

    # --- one getter per TOML type ---

    def _value(self, raw: Raw, path: KeyPath, required: bool) -> object:
        value = raw.get(path[-1])
        if value is None and required:
            self.missing(path)
        return value

    def _wrong(self, path: KeyPath, expected: str, value: object) -> None:
        self.problem(path, f"must be {expected}, not {describe_value(value)}")

    def string(self, raw: Raw, path: KeyPath, *, required: bool = False, non_empty: bool = False) -> str | None:
        value = self._value(raw, path, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self._wrong(path, "a non-empty string" if non_empty else "a string", value)
            return None
        if non_empty and not value.strip():
            self.problem(path, "is empty" if not value else "is blank (only white space)")
            return None
        return value

    def table(self, raw: Raw, path: KeyPath, *, required: bool = False) -> dict[str, Any] | None:
        value = self._value(raw, path, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._wrong(path, "a table", value)
            return None
        return value

    def date(self, raw: Raw, path: KeyPath, *, required: bool = False) -> dt.date | None:
        value = self._value(raw, path, required)
        if value is None:
            return None
        # A TOML date-time is a datetime, which is a date in Python: a sheet's dates are days.
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            self._wrong(path, "a date (YYYY-MM-DD)", value)
            return None
        return value

    def number(self, raw: Raw, path: KeyPath, *, required: bool = False, expected: str = "a number") -> Decimal | None:
        """An integer or decimal as an exact Decimal; `expected` says more in the message ('a number (USD)')."""
        value = self._value(raw, path, required)
        if value is None:
            return None
        if not is_number(value):
            self._wrong(path, expected, value)
            return None
        return Decimal(value)

    def integer(self, raw: Raw, path: KeyPath, *, required: bool = False, minimum: int = 0,
                maximum: int | None = None, unit: str = "") -> int | None:
        """A whole number from `minimum` to `maximum`; one message for a wrong type and a wrong value."""
        value = self._value(raw, path, required)
        if value is None:
            return None
        if not is_whole(value) or value < minimum or (maximum is not None and value > maximum):
            limits = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum:,}"
            what = f"a whole number of {unit}" if unit else "a whole number"
            if is_whole(value):
                shown = show_value(value)
            elif isinstance(value, Decimal):
                shown = f"{value} (a float, not a whole number)"  # str keeps 8.0 as written
            else:
                shown = describe_value(value)
            self.problem(path, f"must be {what} {limits}, not {shown}")
            return None
        return value


__all__ = [
    "Checker",
    "KeyPath",
    "Raw",
    "describe_value",
    "did_you_mean",
    "display_path",
    "is_number",
    "is_whole",
    "key_path",
    "show_value",
    "type_name",
]
