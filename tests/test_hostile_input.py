"""Hostile, huge and international input: one clear message, never a traceback (issue 9)."""

from __future__ import annotations

import io

import costcalc

GOOD = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'


def test_deeply_nested_json_is_one_invalid_line_and_the_scan_goes_on(book):
    # 100,000 '[' on one line, and 50,000-deep lists inside a message's content: both deeper than
    # Python's recursion limit. Each is one invalid_json line, reported with its number.
    nested_content = (b'{"messages": [{"role": "user", "content": ' + b"[" * 50_000 + b"]" * 50_000
                      + b'}, {"role": "assistant", "content": "x"}]}\n')
    data = GOOD + b"[" * 100_000 + b"\n" + nested_content + GOOD.replace(b"yo", b"ok")
    model = book.as_of(None).model("gpt-4o-mini")
    report = costcalc.scan_dataset(io.BytesIO(data), model_price=model, workers=1)
    assert report.examples == 2
    assert report.error("invalid_json") is not None
    assert (report.error("invalid_json").count, report.error("invalid_json").lines) == (2, (2, 3))
