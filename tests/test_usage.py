"""read_usage: real traffic replayed at the prices of each day, reconciled with what was billed.

Prices used (bundled OpenAI sheets, USD per 1M tokens; `costcalc prices show ... --as-of`):
gpt-4o-mini-2024-07-18: input 0.15, cached input 0.075, output 0.60; batch input 0.075, output 0.30.
gpt-3.5-turbo: the alias means gpt-3.5-turbo-0613 (1.50 / 2.00) until 2024-02-15 and
gpt-3.5-turbo-0125 (0.50 / 1.50) from 2024-02-16.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costcalc
from costcalc.errors import CostCalcError, DatasetError
from costcalc.render import json_default

DATA = Path(__file__).parent / "data" / "usage"
EXAMPLE = Path(costcalc.__file__).parent / "examples" / "usage"
MINI = "gpt-4o-mini-2024-07-18"
OCT_1 = 1727740800  # 2024-10-01 00:00 UTC
NOV_5 = 1730764800  # 2024-11-05 00:00 UTC
DAY = 86400


@pytest.fixture(scope="module")
def book():
    return costcalc.load_pricebook()


def result(requests, input_tokens, cached, output, *, batch=False, model=MINI, **extra):
    return {"object": "organization.usage.completions.result", "input_tokens": input_tokens,
            "input_cached_tokens": cached, "output_tokens": output, "input_audio_tokens": 0,
            "output_audio_tokens": 0, "num_model_requests": requests, "model": model, "batch": batch,
            "service_tier": None, "project_id": None, **extra}


def page(*buckets):
    return {"object": "page", "data": [{"object": "bucket", "start_time": start, "end_time": start + DAY,
                                        "results": list(results)} for start, results in buckets],
            "has_more": False, "next_page": None}


def cost(usd, item):
    return {"object": "organization.costs.result", "amount": {"value": usd, "currency": "usd"},
            "line_item": item, "project_id": None}


TWO_MONTHS = page(
    # 2024-10-01, standard: 100 requests, 2M input of which 1M cached, 0.5M output
    #   1M × 0.15 + 1M × 0.075 + 0.5M × 0.60 = 0.15 + 0.075 + 0.30 = $0.525
    (OCT_1, [result(100, 2_000_000, 1_000_000, 500_000),
             # batch: 10 requests, 1M input, 1M output: 1M × 0.075 + 1M × 0.30 = $0.375
             result(10, 1_000_000, 0, 1_000_000, batch=True)]),
    # 2024-11-05: 200 requests, 4M input, 1M output: 4M × 0.15 + 1M × 0.60 = 0.60 + 0.60 = $1.20
    (NOV_5, [result(200, 4_000_000, 0, 1_000_000)]),
)


def write(tmp_path, name, *objects, text=None):
    path = tmp_path / name
    path.write_text(text if text is not None else "\n".join(json.dumps(o, indent=1) for o in objects),
                    encoding="utf-8")
    return path


def test_two_months_with_cached_tokens_and_a_batch_share(tmp_path, book):
    history = costcalc.read_usage(write(tmp_path, "usage.json", TWO_MONTHS), book=book)
    assert [(r.month, r.model, r.snapshot, r.requests, r.input_tokens, r.cached_input_tokens, r.output_tokens,
             r.batch_requests, r.cost_usd) for r in history.rows] == [
        (dt.date(2024, 10, 1), MINI, MINI, 110, 3_000_000, 1_000_000, 1_500_000, 10, Decimal("0.9")),  # 0.525 + 0.375
        (dt.date(2024, 11, 1), MINI, MINI, 200, 4_000_000, 0, 1_000_000, 0, Decimal("1.2")),
    ]
    assert history.total_usd == Decimal("2.1")  # 0.90 + 1.20
    assert (history.first_day, history.last_day) == (dt.date(2024, 10, 1), dt.date(2024, 11, 5))
    assert history.problems == () and history.unpriced == {} and history.billed == {}
    data = json.loads(json.dumps(history.to_dict(), default=json_default))
    assert data["schema_version"] == 1
    assert data["total_usd"] == "2.1"
    assert data["rows"][0] == {"month": "2024-10", "model": MINI, "snapshot": MINI, "requests": 110,
                               "input_tokens": 3000000, "cached_input_tokens": 1000000, "output_tokens": 1500000,
                               "batch_requests": 10, "cost_usd": "0.9"}
    assert "billed_usd" not in data
    frame = history.to_frame()
    assert list(frame["requests"]) == [110, 200]


def test_a_csv_month_row_is_spread_over_a_price_change(book):
    # February 2024 has 29 days: each bears 1M input and 100k output tokens.
    # 2024-02-01..15 (15 days), gpt-3.5-turbo-0613: 1M × 1.50 + 0.1M × 2.00 = $1.70 a day -> $25.50
    # 2024-02-16..29 (14 days), gpt-3.5-turbo-0125: 1M × 0.50 + 0.1M × 1.50 = $0.65 a day -> $9.10
    history = costcalc.read_usage(DATA / "february.csv", book=book)
    (row,) = history.rows
    assert row.snapshot == "gpt-3.5-turbo-0613, gpt-3.5-turbo-0125"
    assert (row.requests, row.input_tokens, row.output_tokens) == (290, 29_000_000, 2_900_000)
    assert row.cost_usd == Decimal("34.6")  # 25.50 + 9.10: 15/29 and 14/29 of the month, exactly
    assert (history.first_day, history.last_day) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))


def test_daily_csv_rows_on_both_sides_of_a_price_change(tmp_path, book):
    path = write(tmp_path, "gw.csv", text=(
        "date,model,requests,input_tokens,cached_input_tokens,output_tokens,batch\n"
        "2024-02-15,gpt-3.5-turbo,1,1000000,0,0,0\n"    # 0613: 1M × 1.50 = $1.50
        "2024-02-16,gpt-3.5-turbo,1,1000000,0,0,0\n"))  # 0125: 1M × 0.50 = $0.50
    history = costcalc.read_usage(path, book=book)
    assert history.total_usd == Decimal("2")


def test_reconciliation_names_the_line_item_that_differs(tmp_path, book):
    usage = write(tmp_path, "usage.json", TWO_MONTHS)
    # October billed: 0.15 + 0.075 + 0.40 + 0.075 + 0.30 = $1.00; the replay puts $0.30 on output, not $0.40.
    costs = write(tmp_path, "costs.json", {"object": "page", "data": [
        {"object": "bucket", "start_time": OCT_1, "end_time": OCT_1 + DAY, "results": [
            cost(0.15, f"{MINI}, input"), cost(0.075, f"{MINI}, cached input"), cost("0.40", f"{MINI}, output"),
            cost(0.075, f"{MINI}, input, batch"), cost(0.3, f"{MINI}, output, batch")]}],
        "has_more": False, "next_page": None})
    history = costcalc.read_usage([usage, costs], book=book)
    assert history.billed == {dt.date(2024, 10, 1): Decimal("1")}
    assert history.difference == {dt.date(2024, 10, 1): Decimal("-0.1")}  # 0.90 replayed − 1.00 billed
    differing = [(i.line_item, i.billed_usd, i.replayed_usd, i.difference_usd)
                 for i in history.line_items if i.difference_usd]
    assert differing == [(f"{MINI}, output", Decimal("0.4"), Decimal("0.3"), Decimal("-0.1"))]
    data = json.loads(json.dumps(history.to_dict(), default=json_default))
    assert data["billed_usd"] == {"2024-10": "1"}
    assert data["difference_usd"] == {"2024-10": "-0.1"}
    assert history.total_usd == Decimal("2.1")  # costs are billed, not traffic


def test_a_response_log_with_chat_completions_and_responses_and_bad_lines(book):
    history = costcalc.read_usage(DATA / "responses.jsonl", book=book)
    # line 1, chat.completion: 0.5M × 0.15 + 0.5M × 0.075 + 1M × 0.60 = 0.075 + 0.0375 + 0.60 = $0.7125
    # line 2, response on the alias: 1M × 0.15 = $0.15
    assert [(r.model, r.requests, r.cost_usd) for r in history.rows] == [
        ("gpt-4o-mini", 1, Decimal("0.15")), (MINI, 1, Decimal("0.7125"))]
    assert history.total_usd == Decimal("0.8625")
    problems = [str(p) for p in history.problems]
    name = str(DATA / "responses.jsonl")
    assert problems == [
        f"{name}: line 3: not valid JSON (Expecting property name enclosed in double quotes)",
        f"{name}: line 4: created 1727740800000 is not Unix seconds: it looks like milliseconds (2024-10-01); "
        "divide by 1000",
        f"{name}: line 5: prompt_tokens is negative (-5)",
        "acme-llm-7b: not priced: unknown model 'acme-llm-7b' in the price sheet effective 2024-10-01 "
        "(1 request, 3,000 input and 200 output tokens left out of the total)",
    ]
    # Line 7 (after a blank line 6): an unknown model is listed with its tokens, never priced as $0.
    unknown = history.unpriced["acme-llm-7b"]
    assert (unknown.requests, unknown.input_tokens, unknown.output_tokens) == (1, 3000, 200)
    assert history.to_dict()["unpriced"]["acme-llm-7b"]["input_tokens"] == 3000


def test_the_same_bucket_in_two_files_is_counted_once_and_reported(tmp_path, book):
    first = write(tmp_path, "a.json", TWO_MONTHS)
    second = write(tmp_path, "b.json", page((NOV_5, [result(200, 4_000_000, 0, 1_000_000)])))
    history = costcalc.read_usage([first, second], book=book)
    assert history.total_usd == Decimal("2.1")  # not 3.3: November's $1.20 once
    assert [str(p) for p in history.problems] == [
        f"{second}: page 1, bucket 1, result 1: the same bucket (start_time {NOV_5}, {MINI}, not batch) is in "
        f"{first} page 1, bucket 2, result 1: counted once"]


def test_pages_one_after_the_other_in_one_file_and_a_bom(tmp_path, book):
    one = page((OCT_1, [result(1, 1_000_000, 0, 0)]))  # $0.15
    two = page((OCT_1 + DAY, [result(1, 0, 0, 1_000_000)]))  # $0.60
    path = tmp_path / "pages.json"
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(one) + "\n\n" + json.dumps(two, indent=2)).encode())
    assert costcalc.read_usage(path, book=book).total_usd == Decimal("0.75")


def test_bad_results_are_problems_with_page_and_bucket(tmp_path, book):
    path = write(tmp_path, "usage.json", page(
        (OCT_1, [result(1, 1_000_000, 0, 0), result(1, -3, 0, 0), "nonsense"]),
        (OCT_1 * 1000, [result(1, 1, 0, 0)]),
    ))
    history = costcalc.read_usage(path, book=book)
    assert history.total_usd == Decimal("0.15")
    assert [str(p) for p in history.problems] == [
        f"{path}: page 1, bucket 1, result 2: input_tokens is negative (-3)",
        f"{path}: page 1, bucket 1, result 3: a result must be an object",
        f"{path}: page 1, bucket 2: start_time 1727740800000 is not Unix seconds: it looks like milliseconds "
        "(2024-10-01); divide by 1000",
    ]


def test_a_month_without_data_inside_the_range_is_a_warning(tmp_path, book):
    dec_1 = 1733011200  # 2024-12-01
    path = write(tmp_path, "usage.json", page((OCT_1, [result(1, 1, 0, 0)]), (dec_1, [result(1, 1, 0, 0)])))
    history = costcalc.read_usage(path, book=book)
    assert [str(p) for p in history.problems] == ["2024-11: warning: no usage in this month, inside the range read"]


def test_a_file_of_no_format_names_the_formats(tmp_path, book):
    path = write(tmp_path, "notes.txt", text="hello, world\n")
    with pytest.raises(DatasetError) as caught:
        costcalc.read_usage(path, book=book)
    assert str(caught.value) == (
        f"{path}: not a usage file: looked for an OpenAI Usage API page (JSON, \"object\": \"page\" of usage "
        "results); an OpenAI Costs API page (JSON, \"object\": \"page\" of costs results); a JSON Lines log of "
        "chat.completion or response objects; a CSV with date or month, model, requests, input_tokens, "
        "cached_input_tokens, output_tokens, batch columns")


def test_a_json_file_of_no_format_is_an_error_too(tmp_path, book):
    path = write(tmp_path, "other.json", {"object": "list", "data": []})
    with pytest.raises(DatasetError, match="not a usage file: looked for an OpenAI Usage API page"):
        costcalc.read_usage(path, book=book)


def test_fine_tuned_names_pay_fine_tuned_rates(tmp_path, book):
    # ft:gpt-4o-mini on 2024-10-01: 1M input × 0.30 + 1M output × 1.20 = $1.50 (the base model: $0.75)
    ft = "ft:gpt-4o-mini-2024-07-18:acme::abc123"
    history = costcalc.read_usage(write(tmp_path, "ft.json", page((OCT_1, [result(5, 1_000_000, 0, 1_000_000, model=ft)]))),
                                  book=book)
    assert [(r.model, r.snapshot, r.cost_usd) for r in history.rows] == [(ft, ft, Decimal("1.5"))]


def test_unreadable_files_are_one_line_errors(tmp_path, book):
    utf16 = tmp_path / "u16.jsonl"
    utf16.write_bytes('{"object": "page"}'.encode("utf-16"))
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"object": "page", "data": [], "note": "caf\xe9"}')  # é in Latin-1 is byte 43
    for path, message in ((utf16, f"{utf16}: not UTF-8 text: it is UTF-16 (save it as UTF-8)"),
                          (latin, f"{latin}: not UTF-8 text (byte 43)"),
                          (tmp_path / "missing.json", f"{tmp_path / 'missing.json'}: cannot read: No such file or directory")):
        with pytest.raises(DatasetError) as caught:
            costcalc.read_usage(path, book=book)
        assert str(caught.value) == message


def test_a_csv_missing_columns_is_named(tmp_path, book):
    path = write(tmp_path, "x.csv", text="date,model,requests\n2024-10-01,gpt-4o-mini,1\n")
    with pytest.raises(DatasetError, match="needs the columns input_tokens, cached_input_tokens, output_tokens, batch$"):
        costcalc.read_usage(path, book=book)


def test_traffic_is_measured_from_three_full_months(tmp_path, book):
    # 1,000 -> 1,100 -> 1,210 requests: ×1.1 a month, so the log-linear fit gives exactly 10%.
    path = write(tmp_path, "months.csv", text=(
        "month,model,requests,input_tokens,cached_input_tokens,output_tokens,batch\n"
        "2024-09,gpt-4o-mini,500,250000,0,25000,false\n"   # before the fit window (last 3 full months)
        "2024-10,gpt-4o-mini,1000,500000,100000,50000,false\n"
        "2024-11,gpt-4o-mini,1100,550000,110000,55000,false\n"
        "2024-12,gpt-4o-mini,879,439500,87900,43950,false\n"
        "2024-12,gpt-4o-mini,331,165500,33100,16550,true\n"
        "2024-12,gpt-4o,5,5,0,5,false\n"))
    traffic = costcalc.read_usage(path, book=book).traffic()
    assert traffic.model == "gpt-4o-mini"  # the most requests
    assert traffic.last_full_month == dt.date(2024, 12, 1) and traffic.requests_per_month == 1210
    assert traffic.monthly_growth_pct == Decimal("10.00")
    assert traffic.fit == ((dt.date(2024, 10, 1), 1000), (dt.date(2024, 11, 1), 1100), (dt.date(2024, 12, 1), 1210))
    # 500 prompt, 50 completion tokens a request; 100 of 500 cached = 20%; 331 of 3,310 requests batched = 10%
    assert (traffic.prompt_tokens, traffic.completion_tokens) == (Decimal(500), Decimal(50))
    assert (traffic.cached_share, traffic.batch_share) == (Decimal("0.2"), Decimal("0.1"))
    assert traffic.start == dt.date(2025, 1, 1)
    assert traffic.describe() == (
        "Traffic measured from the gpt-4o-mini history: 1,210 requests in 2024-12, the last full month; "
        "10.00% monthly growth fitted (log-linear least squares) on 3 full months of requests "
        "(2024-10: 1,000, 2024-11: 1,100, 2024-12: 1,210); 500 prompt and 50 completion tokens per request, "
        "20% of input tokens cached and 10% of requests batched over those months; the forecast starts 2025-01.")


def test_the_shipped_example_reconciles_to_the_cent(book):
    history = costcalc.read_usage(sorted(p for p in EXAMPLE.iterdir() if p.suffix != ".toml"), book=book)
    assert [p for p in history.problems if not p.message.startswith("warning")] == []
    assert set(history.billed) == {dt.date(2024, 10, 1), dt.date(2024, 11, 1), dt.date(2024, 12, 1)}
    assert all(abs(d) < Decimal("0.01") for d in history.difference.values())
    # October: 31 days × 900 standard requests × (688 × 0.15 + 512 × 0.075 + 300 × 0.60) / 1M
    #        + 31 days × 100 batch requests × (1200 × 0.075 + 300 × 0.30) / 1M
    # = 31 × (0.28728 + 0.018) = $9.53064
    assert history.rows[0].cost_usd == Decimal("9.53064")
    assert history.traffic().monthly_growth_pct == Decimal("10.00")


def test_progress_is_called_with_bytes_read(tmp_path, book):
    path = write(tmp_path, "usage.json", TWO_MONTHS)
    calls = []
    costcalc.read_usage(path, book=book, progress=lambda done, total: calls.append((done, total)))
    size = path.stat().st_size
    assert calls[-1] == (size, size)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
values = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                   st.sampled_from([10**15, 10**15 + 1, 1e300, 2.0**70, -0.0, 0.5, "flex", "priority"]),
                   st.text(max_size=10), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes_raise_only_costcalc_errors(tmp_path, book, data):
    path = tmp_path / "fuzz.bin"
    for prefix in (b"", b'{"object": "page", ', b"date,model,requests,input_tokens,cached_input_tokens,output_tokens,batch\n",
                   b'{"object": "chat.completion", '):
        path.write_bytes(prefix + data)
        try:
            costcalc.read_usage(path, book=book)
        except CostCalcError:
            pass


@FUZZ
@given(key=st.sampled_from(["start_time", "input_tokens", "input_cached_tokens", "output_tokens",
                            "num_model_requests", "model", "batch", "service_tier", "object", "results", "data"]),
       value=values)
def test_mutated_pages_raise_only_costcalc_errors(tmp_path, book, key, value):
    mutated = json.loads(json.dumps(TWO_MONTHS))
    if key in ("data",):
        mutated[key] = value
    elif key in ("start_time", "results"):
        mutated["data"][0][key] = value
    else:
        mutated["data"][0]["results"][0][key] = value
    path = tmp_path / "m.json"
    path.write_text(json.dumps(mutated), encoding="utf-8")
    try:
        history = costcalc.read_usage(path, book=book)
    except CostCalcError:
        return
    assert history.total_usd >= 0


def test_service_tiers_batch_output_lines_and_provider_prefixes(tmp_path, book):
    # o4-mini-2025-04-16 on 2025-10-01 (1759276800), 1M prompt + 1M completion tokens each:
    #   flex 0.55 + 2.20 = $2.75; priority 2.00 + 8.00 = $10.00; a Batch API output line 0.55 + 2.20 = $2.75
    day = 1759276800
    body = {"object": "chat.completion", "created": day, "model": "o4-mini-2025-04-16",
            "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000}}
    log = write(tmp_path, "log.jsonl", text="\n".join(json.dumps(line) for line in (
        {**body, "service_tier": "flex"}, {**body, "service_tier": "priority"},
        {"id": "batch_req_1", "custom_id": "r1", "response": {"status_code": 200, "body": body}})))
    history = costcalc.read_usage(log, book=book)
    assert history.total_usd == Decimal("15.5")  # 2.75 + 10.00 + 2.75
    assert history.rows[0].batch_requests == 1
    # An Azure export: azure/gpt-4.1-2025-04-14 at its global deployment rates on 2026-05-10,
    # 1M input + 1M output: 2.00 + 8.00 = $10
    csv_file = write(tmp_path, "azure.csv", text=(
        "date,model,requests,input_tokens,cached_input_tokens,output_tokens,batch,service_tier\n"
        "2026-05-10,azure/gpt-4.1-2025-04-14,3,1000000,0,1000000,false,\n"))
    (row,) = costcalc.read_usage(csv_file, book=book).rows
    assert (row.model, row.snapshot, row.cost_usd) == ("azure/gpt-4.1-2025-04-14", "gpt-4.1-2025-04-14", Decimal("10"))


def test_many_small_pages_in_one_file(tmp_path, book):
    # 2,000 pages, one bucket each of 1 request with 1,000 output tokens: 2M × 0.60 = $1.20
    path = tmp_path / "many.json"
    with open(path, "w", encoding="utf-8") as out:
        for i in range(2000):
            out.write(json.dumps(page((OCT_1 + (i % 30) * DAY, [result(1, 0, 0, 1000, project_id=f"p{i}")]))) + "\n")
    history = costcalc.read_usage(path, book=book)
    assert history.total_usd == Decimal("1.2") and history.rows[0].requests == 2000
