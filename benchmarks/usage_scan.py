"""Benchmark: how fast and how lean is `read_usage` on a large response log?

    python benchmarks/usage_scan.py                   # 1,000,000-line log, 3 runs
    python benchmarks/usage_scan.py --lines 100000    # a quick run
    python benchmarks/usage_scan.py --write-example   # (re)write costcalc/examples/usage/

It writes a synthetic JSON Lines log of chat.completion and response objects (gpt-4o-mini, about
90 days, a few models) to a temporary folder, times `read_usage` on it (min / median / max of
`--repeat` runs, each in a fresh subprocess so peak memory is its own), and prints lines/s, MB/s and
peak RSS beside `costcalc.scan_dataset` on a generated training file of about the same size.

`--write-example` writes the small shipped example deterministically: a Usage API page of daily
buckets on gpt-4o-mini from 2024-10-01 to 2024-12-31, the matching Costs API page, and a 20-line
response log.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = ROOT / "costcalc" / "examples" / "usage"
SEED = 20241001
DAY = 86_400
START = 1_727_740_800  # 2024-10-01 00:00 UTC
MODELS = ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06")


def response_line(rng: random.Random, i: int, start: int = START, days: int = 90) -> str:
    created = start + rng.randrange(days * DAY)
    prompt = rng.randint(50, 3000)
    cached = prompt // 128 * 128 if prompt >= 1024 and rng.random() < 0.4 else 0
    completion = rng.randint(10, 800)
    model = MODELS[i % 7 == 0 and 2 or i % 2]
    if i % 3:
        return json.dumps({"id": f"chatcmpl-{i}", "object": "chat.completion", "created": created, "model": model,
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                     "total_tokens": prompt + completion,
                                     "prompt_tokens_details": {"cached_tokens": cached}},
                           "service_tier": "default"})
    return json.dumps({"id": f"resp_{i}", "object": "response", "created_at": created, "model": model,
                       "status": "completed", "output": [{"type": "message", "content": [
                           {"type": "output_text", "text": "ok"}]}],
                       "usage": {"input_tokens": prompt, "output_tokens": completion,
                                 "total_tokens": prompt + completion,
                                 "input_tokens_details": {"cached_tokens": cached}}})


def write_log(path: Path, lines: int) -> None:
    rng = random.Random(SEED)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(lines):
            out.write(response_line(rng, i) + "\n")


def write_training(path: Path, size_bytes: int) -> None:
    rng = random.Random(SEED)
    words = "the model answers every question about shipping orders refunds and delivery times".split()
    with open(path, "w", encoding="utf-8") as out:
        written = 0
        while written < size_bytes:
            line = json.dumps({"messages": [
                {"role": "system", "content": "You are a helpful support assistant."},
                {"role": "user", "content": " ".join(rng.choice(words) for _ in range(rng.randint(5, 40)))},
                {"role": "assistant", "content": " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))},
            ]}) + "\n"
            out.write(line)
            written += len(line.encode())


# --- the shipped example --------------------------------------------------------------------------


def write_example() -> None:
    """Daily buckets 2024-10-01..2024-12-31 on gpt-4o-mini growing 10% a month, with the costs page
    that bills them exactly at $0.15 / $0.075 cached / $0.60 per 1M (batch $0.075 / $0.30)."""
    EXAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    snapshot = "gpt-4o-mini-2024-07-18"
    usage_buckets, cost_buckets = [], []
    month_requests = {10: 1000, 11: 1100, 12: 1210}  # per day: +10% a month
    for d in range(92):
        start = START + d * DAY
        month = time.gmtime(start).tm_mon
        n = month_requests[month]
        batch_n = n // 10
        results, costs = [], {}
        for batch, requests in ((False, n - batch_n), (True, batch_n)):
            input_tokens, cached, output = requests * 1200, requests * 512, requests * 300
            results.append({"object": "organization.usage.completions.result", "input_tokens": input_tokens,
                            "input_cached_tokens": cached, "output_tokens": output, "input_audio_tokens": 0,
                            "output_audio_tokens": 0, "num_model_requests": requests, "project_id": None,
                            "user_id": None, "api_key_id": None, "model": snapshot, "batch": batch,
                            "service_tier": None})
            suffix = ", batch" if batch else ""
            rates = ((Decimal("0.075"), Decimal("0.075"), Decimal("0.30")) if batch
                     else (Decimal("0.15"), Decimal("0.075"), Decimal("0.60")))
            for item, tokens, rate in (("input", input_tokens - cached, rates[0]),
                                       ("cached input", cached, rates[1]), ("output", output, rates[2])):
                costs[f"{snapshot}, {item}{suffix}"] = tokens * rate / 1_000_000
        usage_buckets.append({"object": "bucket", "start_time": start, "end_time": start + DAY, "results": results})
        cost_buckets.append({"object": "bucket", "start_time": start, "end_time": start + DAY, "results": [
            {"object": "organization.costs.result", "amount": {"value": float(usd), "currency": "usd"},
             "line_item": item, "project_id": None} for item, usd in costs.items()]})
    for name, buckets in (("usage-completions.json", usage_buckets), ("costs.json", cost_buckets)):
        page = {"object": "page", "data": buckets, "has_more": False, "next_page": None}
        (EXAMPLE_DIR / name).write_text(json.dumps(page, indent=1) + "\n", encoding="utf-8")
    rng = random.Random(SEED)
    with open(EXAMPLE_DIR / "responses.jsonl", "w", encoding="utf-8") as out:
        for i in range(20):
            out.write(response_line(rng, i, start=START + 92 * DAY, days=14) + "\n")


# --- measuring ----------------------------------------------------------------------------------

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
import costcalc
what, path = sys.argv[1], sys.argv[2]
book = costcalc.load_pricebook()
started = time.perf_counter()
if what == "usage":
    history = costcalc.read_usage(path, book=book)
    assert not [p for p in history.problems if not p.message.startswith("warning")], history.problems[:3]
else:
    costcalc.scan_dataset(path, model_price=book.as_of("2024-10-15").model("gpt-4o-mini"))
elapsed = time.perf_counter() - started
peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": elapsed, "peak_mb": peak_kb / 1024}))
"""


def measure(what: str, path: Path, repeat: int) -> tuple[list[float], float]:
    times, peaks = [], []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, what, str(path), str(ROOT)],
                             capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(result["seconds"])
        peaks.append(result["peak_mb"])
    return times, max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-example", action="store_true")
    args = parser.parse_args()
    if args.write_example:
        write_example()
        print(f"wrote {EXAMPLE_DIR}")
        return
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "responses.jsonl"
        write_log(log, args.lines)
        size = log.stat().st_size
        train = Path(folder) / "train.jsonl"
        write_training(train, size)
        train_lines = sum(1 for _ in open(train, "rb"))
        print(f"response log: {args.lines:,} lines, {size / 1e6:,.1f} MB; training file: {train_lines:,} lines, "
              f"{train.stat().st_size / 1e6:,.1f} MB; {args.repeat} runs each, {os.cpu_count()} cores")
        for label, what, path, lines in (("read_usage", "usage", log, args.lines),
                                         ("scan_dataset", "dataset", train, train_lines)):
            times, peak = measure(what, path, args.repeat)
            best, median, worst = min(times), statistics.median(times), max(times)
            print(f"{label:13} min {best:6.2f} s  median {median:6.2f} s  max {worst:6.2f} s  "
                  f"{lines / median:10,.0f} lines/s  {path.stat().st_size / 1e6 / median:6.1f} MB/s  "
                  f"peak RSS {peak:6.1f} MB")


if __name__ == "__main__":
    main()
