"""Benchmark: how fast and how lean is `costcalc dataset`, against the cookbook and raw tiktoken?

    python benchmarks/dataset_scan.py                      # every workload and mode, 3 runs each
    python benchmarks/dataset_scan.py --runs 1 --size-mb 10 --unique-lines 100000   # a quick run
    python benchmarks/dataset_scan.py --only corpus costcalc cookbook   # some workloads / modes
    python benchmarks/dataset_scan.py --corpus ~/my-training-files      # another folder of *.jsonl
    python benchmarks/dataset_scan.py --tiny-examples 7000000   # memory: 7M tiny examples (608 MB)

Three workloads, each a file in benchmarks/_data/ (git-ignored; built once, then reused):

* corpus: a ~`--size-mb` MB (default 60) mix of the real training files in `--corpus` (default
  ../shared/corpus from the repo root, when it exists): their lines, in a fixed interleaving (each
  file's lines spread evenly through one pass over all of them), repeated until the size is
  reached. The files are only read, never copied into the repo. Some have CRLF line ends or
  lines that are not JSON (a pretty-printed file): costcalc reports those as errors, and the
  cookbook and ceiling skip them, saying how many. The repeats are duplicate_example errors to
  costcalc, and what its string -> count memo is for;
* synthetic: a `--size-mb` MB synthetic chat file (mixed lengths; English, Portuguese, Japanese,
  Korean and emoji text; some escaped as \\uXXXX; a few tool-calling examples);
* unique: `--unique-lines` N (default 1,000,000) short examples whose strings all differ, so no
  memo helps: `{"messages":[{"role":"user","content":"question <i> about <word>"},
  {"role":"assistant","content":"answer <j>"}]}`.

Each is measured in fresh subprocesses, in these modes:

* costcalc: `scan_dataset` with every core (the library call behind `costcalc dataset`);
* cookbook: the straightforward single-threaded cookbook scan (json.loads per line,
  tiktoken `encoding.encode` per message value, as Chat_finetuning_data_prep does); on the
  unique lines this is the "naive count";
* ceiling: raw tiktoken `encode_ordinary` (tiktoken's own Encoding, not costcalc's encoder) of
  the same strings on every core, with no JSON and no checks inside the clock;
* costcalc-memo-off (only when --only names it): costcalc with its string -> count memo off.

`--runs N` (default 3) runs every measurement N times, interleaved (run 1 of every workload and
mode, then run 2, ...) so a busy spell on a shared machine hits them alike; the table shows
MB/s (of the JSONL file) min / median / max, the median CPU seconds, the total tokens and the
peak RSS of the main process and of its workers (getrusage). The ratios below each table compare
median wall time and median CPU time, beside the goals: costcalc / cookbook >= 5x and
costcalc / ceiling >= 1.5x on the corpus mix, costcalc / naive >= 2x on the unique lines, and
peak memory < 300 MB. A costcalc total that differs from the cookbook's is printed, not fatal.

`--tiny-examples N` checks the memory goal where it is hardest: a file of N tiny, distinct
examples (`{"messages":[{"role":"user","content":"q<i>"},{"role":"assistant","content":"a"}]}`,
about 87 bytes a line), the most examples a file of its size can hold. It runs instead of the
three workloads and measures costcalc only (unless --only names modes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "_data"
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
SEED = 20230822
WORKLOADS = ("corpus", "synthetic", "unique")
MODES = ("costcalc", "cookbook", "ceiling", "costcalc-memo-off")
DEFAULT_MODES = MODES[:3]
PEAK_MEMORY_GOAL_MB = 300
# (numerator, denominator, workload) -> the goal for numerator / denominator there.
GOALS = {("costcalc", "cookbook", "corpus"): 5.0, ("costcalc", "ceiling", "corpus"): 1.5,
         ("costcalc", "cookbook", "unique"): 2.0}

# --- the synthetic dataset ----------------------------------------------------------------------

WORDS = {
    "en": ("the model answers every question about shipping orders refunds and delivery times with care "
           "customer support agent please check your account settings before contacting us again today "
           "invoice payment failed because the card expired last month update billing details now").split(),
    "pt": ("o modelo responde cada pergunta sobre pedidos entregas reembolsos e prazos com cuidado "
           "atendimento ao cliente por favor verifique sua conta antes de entrar em contato novamente "
           "pagamento não foi aprovado porque o cartão expirou no mês passado atualize seus dados").split(),
    "ja": ("ご注文 の 配送 について お問い合わせ いただき ありがとう ございます 返金 は 三 営業日 以内 に "
           "処理 されます アカウント 設定 を 確認 して ください お支払い が 失敗 しました カード の "
           "有効期限 が 切れて います 東京 大阪 明日 午前 午後 こんにちは 世界").split(),
    "ko": ("주문 하신 상품 의 배송 에 대해 문의 해 주셔서 감사 합니다 환불 은 영업일 기준 삼일 이내 "
           "처리 됩니다 계정 설정 을 확인 해 주세요 결제 가 실패 했습니다 카드 가 만료 되었습니다 "
           "서울 부산 내일 오전 오후 안녕하세요").split(),
}
EMOJI = "😀 🎉 🚚 📦 💳 ✅ ❌ 🙏 👍 🔥 ❤️ 🇧🇷 🇯🇵 🇰🇷 🤖".split()
LANGUAGES = ["en"] * 5 + ["pt"] * 2 + ["ja"] * 2 + ["ko"]
SYSTEM_PROMPTS = [
    f"You are a helpful support assistant for store number {i}. " + " ".join(WORDS["en"][: 10 + 7 * i])
    for i in range(8)
]
TOOL = {"type": "function", "function": {
    "name": "lookup_order", "description": "Look up an order by its id.",
    "parameters": {"type": "object", "properties": {
        "order_id": {"type": "string", "description": "The order id."},
        "status": {"type": "string", "enum": ["open", "shipped", "delivered"]}}}}}


def sentence(rng: random.Random, language: str, n_words: int) -> str:
    words = WORDS[language]
    joiner = "" if language == "ja" else " "
    text = joiner.join(rng.choice(words) for _ in range(n_words))
    if rng.random() < 0.3:
        text += " " + " ".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
    return text


def length(rng: random.Random) -> int:
    # Mostly short turns, a long tail of long ones (up to a few thousand words).
    return min(3000, int(rng.lognormvariate(3.3, 1.0)) + 1)


def example(rng: random.Random) -> dict:
    language = rng.choice(LANGUAGES)
    messages = [{"role": "system", "content": rng.choice(SYSTEM_PROMPTS)}]
    for _ in range(rng.choice((1, 1, 2, 3, 4))):
        messages.append({"role": "user", "content": sentence(rng, language, length(rng))})
        messages.append({"role": "assistant", "content": sentence(rng, language, length(rng))})
    record = {"messages": messages}
    if rng.random() < 0.05:
        order = str(rng.randint(10000, 99999))
        messages[-1:] = [
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {
                "name": "lookup_order", "arguments": json.dumps({"order_id": order})}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({"status": "shipped"})},
            {"role": "assistant", "content": sentence(rng, language, length(rng))},
        ]
        record["tools"] = [TOOL]
    return record


def generated(path: Path, write) -> Path:
    """`path`, written once by `write(file)` through a .partial file (a killed run leaves no half file)."""
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8") as f:
        write(f)
    partial.rename(path)
    return path


def generate(size_mb: int) -> Path:
    def write(f):
        rng = random.Random(SEED)
        target, written = size_mb * 1_000_000, 0
        while written < target:
            lines = [json.dumps(example(rng), ensure_ascii=rng.random() < 0.2) + "\n" for _ in range(1000)]
            block = "".join(lines)
            f.write(block)
            written += len(block.encode())

    return generated(DATA_DIR / f"synthetic_chat_{size_mb}mb_seed{SEED}.jsonl", write)


def generate_tiny(n_examples: int) -> Path:
    line = '{"messages":[{"role":"user","content":"q%d"},{"role":"assistant","content":"a"}]}\n'
    return generated(DATA_DIR / f"tiny_chat_{n_examples}_examples.jsonl",
                     lambda f: f.writelines(line % i for i in range(1, n_examples + 1)))


def generate_unique(n_lines: int) -> Path:
    words = WORDS["en"]
    line = '{"messages":[{"role":"user","content":"question %d about %s"},{"role":"assistant","content":"answer %d"}]}\n'

    def write(f):
        # j walks 1..N in another order (7919 is prime, so coprime with N unless N is a multiple).
        f.writelines(line % (i, words[i % len(words)], (i * 7919) % 10_000_019) for i in range(1, n_lines + 1))

    return generated(DATA_DIR / f"unique_chat_{n_lines}_lines.jsonl", write)


def generate_corpus_mix(corpus: Path, size_mb: int) -> Path:
    files = sorted(corpus.glob("*.jsonl"))
    if not files:
        raise SystemExit(f"no *.jsonl files in {corpus}")
    # Named for the files it mixes, so a changed corpus builds a new mix.
    fingerprint = hashlib.sha256(repr([(f.name, f.stat().st_size) for f in files]).encode()).hexdigest()[:10]

    def write(f):
        keyed = []
        for index, file in enumerate(files):
            # Bytes as they are (CRLF, bad lines); only a missing final newline is added.
            lines = [line + b"\n" for line in file.read_bytes().split(b"\n")]
            if lines[-1] == b"\n":
                lines.pop()
            keyed.extend(((k + 0.5) / len(lines), index, line) for k, line in enumerate(lines))
        one_pass = [line for *_, line in sorted(keyed, key=lambda t: t[:2])]
        target, written = size_mb * 1_000_000, 0
        while written < target:
            for line in one_pass:
                f.buffer.write(line)
                written += len(line)
                if written >= target:
                    break

    return generated(DATA_DIR / f"corpus_mix_{size_mb}mb_{fingerprint}.jsonl", write)


# --- the measurements (each runs in its own process) -------------------------------------------


def measure_costcalc(path: str, memo: bool) -> dict:
    import costcalc
    from costcalc import tokens
    from costcalc.dataset import scan_dataset

    if not memo:
        tokens.TokenCounter.__init__.__defaults__ = (0,)  # every string is encoded, as in the cookbook
    model = costcalc.load_pricebook().as_of(None).model("gpt-3.5-turbo")
    cpu = cpu_seconds()
    start = time.perf_counter()
    report = scan_dataset(path, model_price=model)
    return {"seconds": time.perf_counter() - start, "cpu_seconds": cpu_seconds() - cpu,
            "examples": report.examples, "total_tokens": report.total_tokens,
            "errors": {e.kind: e.count for e in report.errors}}


def tiktoken_encoding():
    """cl100k_base as tiktoken's own Encoding (costcalc builds it offline), never costcalc's encoder."""
    import tiktoken

    from costcalc.tokens import get_encoding

    encoding = get_encoding("cl100k_base")
    if not isinstance(encoding, tiktoken.Encoding):
        raise SystemExit(f"costcalc.tokens.get_encoding returned {type(encoding)}, not a tiktoken.Encoding")
    return encoding


def messages_of(line: str) -> list | None:
    """The line's messages as a list of dicts, or None when the line does not parse as that."""
    try:
        messages = json.loads(line)["messages"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return None
    return messages


def measure_cookbook(path: str) -> dict:
    encoding = tiktoken_encoding()

    def num_tokens_from_messages(messages, tokens_per_message=3, tokens_per_name=1):
        num_tokens = 0
        for message in messages:
            num_tokens += tokens_per_message
            for key, value in message.items():
                if isinstance(value, str):  # the notebook encodes every value; calls are not strings
                    num_tokens += len(encoding.encode(value))
                if key == "name":
                    num_tokens += tokens_per_name
        num_tokens += 3
        return num_tokens

    def num_assistant_tokens_from_messages(messages):
        return sum(len(encoding.encode(m["content"])) for m in messages
                   if m.get("role") == "assistant" and isinstance(m.get("content"), str))

    cpu = cpu_seconds()
    start = time.perf_counter()
    convo_lens, assistant_lens, skipped = [], [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            messages = messages_of(line)
            if messages is None:  # the notebook would crash here; we count the line and go on
                skipped += 1
                continue
            convo_lens.append(num_tokens_from_messages(messages))
            assistant_lens.append(num_assistant_tokens_from_messages(messages))
    return {"seconds": time.perf_counter() - start, "cpu_seconds": cpu_seconds() - cpu,
            "examples": len(convo_lens), "total_tokens": sum(convo_lens), "skipped": skipped}


def measure_ceiling(path: str) -> dict:
    import multiprocessing

    encoding = tiktoken_encoding()
    workers = len(os.sched_getaffinity(0))
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(workers + 1)
    queue = context.Queue()

    def work(i):
        # Each worker extracts its share of the strings before the clock starts, then only encodes.
        texts, skipped = [], 0
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f):
                if n % workers == i:
                    messages = messages_of(line)
                    if messages is None:
                        skipped += 1
                        continue
                    for message in messages:
                        texts.extend(v for v in message.values() if isinstance(v, str))
        ready.wait()
        cpu = time.process_time()
        n_tokens = sum(len(encoding.encode_ordinary(t)) for t in texts)
        queue.put((len(texts), n_tokens, time.process_time() - cpu, skipped))

    processes = [context.Process(target=work, args=(i,)) for i in range(workers)]
    for p in processes:
        p.start()
    ready.wait()
    start = time.perf_counter()
    results = [queue.get() for _ in processes]
    seconds = time.perf_counter() - start
    for p in processes:
        p.join()
    return {"seconds": seconds, "cpu_seconds": sum(r[2] for r in results),
            "total_tokens": sum(r[1] for r in results), "strings": sum(r[0] for r in results),
            "skipped": sum(r[3] for r in results)}


def cpu_seconds() -> float:
    """CPU time of this process and of its joined children: unlike wall time, not inflated when
    other work shares the machine."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def run_measurement(mode: str, path: str) -> None:
    result = {
        "costcalc": lambda: measure_costcalc(path, memo=True),
        "costcalc-memo-off": lambda: measure_costcalc(path, memo=False),
        "cookbook": lambda: measure_cookbook(path),
        "ceiling": lambda: measure_ceiling(path),
    }[mode]()
    # ru_maxrss is in KiB on Linux; children are the worker processes, already joined.
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


def measure(mode: str, path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run([sys.executable, __file__, "--measure", mode, str(path)], capture_output=True,
                         text=True, env=env)
    if out.returncode:
        raise SystemExit(f"{mode} on {path.name} failed:\n{out.stderr}")
    return json.loads(out.stdout)


# --- the report ---------------------------------------------------------------------------------


def summary(runs: list[dict], size: int) -> dict:
    """The runs of one mode on one file: MB/s min/median/max, medians of time, peaks of memory."""
    speeds = sorted(size / 1e6 / r["seconds"] for r in runs)
    return {**runs[0], "mb_s": (speeds[0], statistics.median(speeds), speeds[-1]),
            "seconds": statistics.median(r["seconds"] for r in runs),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "peak_worker_rss_mb": max(r["peak_worker_rss_mb"] for r in runs)}


def print_workload(workload: str, path: Path, results: dict[str, dict]) -> None:
    size = path.stat().st_size
    with open(path, "rb") as f:
        lines = sum(1 for _ in f)
    print(f"\n{workload}: {path.name} ({size / 1e6:,.1f} MB, {lines:,} lines)")
    print(f"  {'mode':18} {'MB/s min / median / max':>24}  {'CPU s':>6}  {'tokens':>12}  peak RSS main / workers")
    for mode, r in results.items():
        low, mid, high = r["mb_s"]
        note = (f"  (skipped {r['skipped']:,} lines that do not parse, blank lines included)"
                if r.get("skipped") else "")
        if r.get("errors"):
            note = "  (errors: " + ", ".join(f"{kind} {n:,}" for kind, n in r["errors"].items()) + ")"
        print(f"  {mode:18} {low:7.2f} / {mid:6.2f} / {high:6.2f}  {r['cpu_seconds']:6.1f}  "
              f"{r['total_tokens']:>12,}  {r['peak_rss_mb']:5.0f} / {r['peak_worker_rss_mb']:4.0f} MB{note}")

    if {"costcalc", "cookbook"} <= results.keys():
        ours, theirs = results["costcalc"]["total_tokens"], results["cookbook"]["total_tokens"]
        if ours != theirs:
            # Checked: with the examples holding tools, functions or tool_calls left out, they agree.
            print(f"  note: costcalc counts {ours:,} tokens, the cookbook {theirs:,} ({ours - theirs:+,}): "
                  f"the cookbook leaves out tool and function definitions and tool calls")
    for a, b in (("costcalc", "cookbook"), ("costcalc", "ceiling"), ("costcalc-memo-off", "ceiling")):
        if {a, b} <= results.keys():
            wall = results[b]["seconds"] / results[a]["seconds"]
            cpu = results[b]["cpu_seconds"] / results[a]["cpu_seconds"]
            goal = GOALS.get((a, b, workload))
            name = "naive" if (workload, b) == ("unique", "cookbook") else b
            verdict = f"   goal >= {goal:g}x by wall: {'met' if wall >= goal else 'NOT met'}" if goal else ""
            print(f"  {a + ' / ' + name + ':':28} {wall:5.2f}x by median wall time, {cpu:5.2f}x by CPU time"
                  f"{verdict}")
    if "costcalc" in results:
        r = results["costcalc"]
        peak = max(r["peak_rss_mb"], r["peak_worker_rss_mb"])
        print(f"  costcalc peak memory: main {r['peak_rss_mb']:.0f} MB, each worker <= "
              f"{r['peak_worker_rss_mb']:.0f} MB, {r['examples']:,} examples: peak {peak:.0f} MB "
              f"{'<' if peak < PEAK_MEMORY_GOAL_MB else '>='} {PEAK_MEMORY_GOAL_MB} MB goal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=WORKLOADS + MODES, metavar="NAME",
                        help=f"workloads ({', '.join(WORKLOADS)}) and/or modes ({', '.join(MODES)}) "
                             f"to run (default: every workload, modes {', '.join(DEFAULT_MODES)})")
    parser.add_argument("--runs", type=int, default=3, help="runs of every measurement (default 3)")
    parser.add_argument("--size-mb", type=int, default=60,
                        help="size of the corpus mix and of the synthetic file (default 60)")
    parser.add_argument("--unique-lines", type=int, default=1_000_000,
                        help="lines of the unique-lines file (default 1,000,000)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"folder of real *.jsonl training files to mix (default {DEFAULT_CORPUS})")
    parser.add_argument("--tiny-examples", type=int, metavar="N",
                        help="measure memory on a file of N tiny examples instead of the three workloads")
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        run_measurement(*args.measure)
        return

    only = args.only or []
    modes = [m for m in MODES if m in only] or (["costcalc"] if args.tiny_examples else list(DEFAULT_MODES))
    workloads = [w for w in WORKLOADS if w in only] or list(WORKLOADS)
    if "corpus" in workloads and not args.corpus.is_dir():
        if "corpus" in only:
            sys.exit(f"no corpus folder {args.corpus}: pass --corpus DIR (a folder of real *.jsonl training files)")
        print(f"no corpus folder {args.corpus}: skipping the corpus mix, the workload the goals are set on "
              "(pass --corpus DIR)")
        workloads.remove("corpus")

    start = time.perf_counter()
    if args.tiny_examples:
        paths = {"tiny": generate_tiny(args.tiny_examples)}
    else:
        build = {"corpus": lambda: generate_corpus_mix(args.corpus, args.size_mb),
                 "synthetic": lambda: generate(args.size_mb),
                 "unique": lambda: generate_unique(args.unique_lines)}
        paths = {w: build[w]() for w in workloads}
    print(f"data in {DATA_DIR} (ready in {time.perf_counter() - start:.1f} s); "
          f"{len(os.sched_getaffinity(0))} cores; Python {sys.version.split()[0]}; {args.runs} runs each, "
          f"interleaved")
    runs: dict[tuple[str, str], list[dict]] = {(w, m): [] for w in paths for m in modes}
    for _ in range(args.runs):
        for workload, path in paths.items():
            for mode in modes:
                runs[workload, mode].append(measure(mode, path))
    for workload, path in paths.items():
        size = path.stat().st_size
        print_workload(workload, path, {m: summary(runs[workload, m], size) for m in modes})
    print(f"\ngoals: costcalc / cookbook >= 5x and costcalc / ceiling >= 1.5x on the corpus mix; "
          f"costcalc / naive >= 2x on unique lines; peak memory < {PEAK_MEMORY_GOAL_MB} MB\n"
          "(ceiling: tiktoken's own encoder on every core, strings only, so its tokens leave out the "
          "cookbook's per-message tokens; the most a scan counting with tiktoken could do, which a faster "
          "exact encoder lets costcalc pass)")


if __name__ == "__main__":
    main()
