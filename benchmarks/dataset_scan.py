"""Benchmark: how fast and how lean is `costcalc dataset` on a large training file?

    python benchmarks/dataset_scan.py                # 200 MB synthetic file, every measurement
    python benchmarks/dataset_scan.py --size-mb 20   # a quick run
    python benchmarks/dataset_scan.py --repeat 3     # best of 3 runs each, on a busy machine
    python benchmarks/dataset_scan.py --tiny-examples 7000000   # memory: 7M tiny examples (608 MB)

It writes a synthetic chat dataset (mixed lengths; English, Portuguese, Japanese, Korean and emoji
text; some escaped as \\uXXXX; a few tool-calling examples) to benchmarks/_data/ (git-ignored; reused
when it already exists), then measures, each in a fresh subprocess:

* costcalc: `scan_dataset` with every core (the library call behind `costcalc dataset`);
* costcalc, memo off: the same with the string -> token-count memo disabled, to show what it buys;
* cookbook: a straightforward single-threaded cookbook scan (json.loads per line,
  `encoding.encode` per message value, as Chat_finetuning_data_prep does);
* ceiling: raw tiktoken `encode_ordinary` of the same strings on every core (no JSON, no checks).

Speeds are MB of the JSONL file per second, so all four measure the same work. Peak memory is the
maximum RSS of the process doing the work and of its worker processes (getrusage).

`--tiny-examples N` checks the memory goal where it is hardest: a file of N tiny, distinct
examples (`{"messages":[{"role":"user","content":"q<i>"},{"role":"assistant","content":"a"}]}`,
about 87 bytes a line), the most examples a file of its size can hold. It measures costcalc only
(unless --only says otherwise) and reports its peak memory against the goal.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "_data"
SEED = 20230822
MODES = ("costcalc", "costcalc-memo-off", "cookbook", "ceiling")
PEAK_MEMORY_GOAL_MB = 300

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
            "examples": report.examples, "total_tokens": report.total_tokens, "errors": len(report.errors)}


def measure_cookbook(path: str) -> dict:
    from costcalc.tokens import get_encoding  # the same encoding, built offline

    encoding = get_encoding("cl100k_base")

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
                   if m["role"] == "assistant" and isinstance(m.get("content"), str))

    cpu = cpu_seconds()
    start = time.perf_counter()
    convo_lens, assistant_lens = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            messages = json.loads(line)["messages"]
            convo_lens.append(num_tokens_from_messages(messages))
            assistant_lens.append(num_assistant_tokens_from_messages(messages))
    return {"seconds": time.perf_counter() - start, "cpu_seconds": cpu_seconds() - cpu,
            "examples": len(convo_lens), "total_tokens": sum(convo_lens)}


def measure_ceiling(path: str) -> dict:
    import multiprocessing

    from costcalc.tokens import get_encoding

    encoding = get_encoding("cl100k_base")
    workers = len(os.sched_getaffinity(0))
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(workers + 1)
    queue = context.Queue()

    def work(i):
        # Each worker extracts its share of the strings before the clock starts, then only encodes.
        texts = []
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f):
                if n % workers == i:
                    for message in json.loads(line)["messages"]:
                        texts.extend(v for v in message.values() if isinstance(v, str))
        ready.wait()
        cpu = time.process_time()
        n_tokens = sum(len(encoding.encode_ordinary(t)) for t in texts)
        queue.put((len(texts), n_tokens, time.process_time() - cpu))

    processes = [context.Process(target=work, args=(i,)) for i in range(workers)]
    for p in processes:
        p.start()
    ready.wait()
    start = time.perf_counter()
    results = [queue.get() for _ in processes]
    seconds = time.perf_counter() - start
    for p in processes:
        p.join()
    return {"seconds": seconds, "cpu_seconds": sum(c for _, _, c in results),
            "total_tokens": sum(t for _, t, _ in results), "strings": sum(s for s, _, _ in results)}


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
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": f"{repo}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run([sys.executable, __file__, "--measure", mode, str(path)], capture_output=True,
                         text=True, env=env, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="size of the synthetic file (default 200)")
    parser.add_argument("--only", nargs="*", choices=MODES,
                        help="measurements to run (default: all; costcalc only with --tiny-examples)")
    parser.add_argument("--tiny-examples", type=int, metavar="N",
                        help="measure memory on a file of N tiny examples instead of the synthetic chat file")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per measurement, keeping the fastest (on a shared machine, the least disturbed)")
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        run_measurement(*args.measure)
        return

    if args.only is None:
        args.only = ["costcalc"] if args.tiny_examples else list(MODES)
    start = time.perf_counter()
    path = generate_tiny(args.tiny_examples) if args.tiny_examples else generate(args.size_mb)
    size = path.stat().st_size
    print(f"dataset: {path} ({size / 1e6:,.1f} MB, ready in {time.perf_counter() - start:.1f} s); "
          f"{len(os.sched_getaffinity(0))} cores; Python {sys.version.split()[0]}")
    runs = {mode: [] for mode in args.only}
    for _ in range(args.repeat):
        for mode in args.only:  # interleaved, so a busy spell does not hit one measurement only
            runs[mode].append(measure(mode, path))
    results = {}
    for mode in args.only:
        results[mode] = r = min(runs[mode], key=lambda run: run["seconds"])
        r["mb_s"] = size / 1e6 / r["seconds"]
        r["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs[mode])
        r["peak_worker_rss_mb"] = max(run["peak_worker_rss_mb"] for run in runs[mode])
        print(f"  {mode:18} {r['mb_s']:6.2f} MB/s  {r['seconds']:6.1f} s wall  {r['cpu_seconds']:6.1f} s CPU  "
              f"tokens {r['total_tokens']:>12,}  peak RSS {r['peak_rss_mb']:5.0f} MB "
              f"(workers {r['peak_worker_rss_mb']:4.0f} MB)")

    def ratio(a, b, fmt):
        if {a, b} <= results.keys():
            wall = results[a]["mb_s"] / results[b]["mb_s"]
            cpu = results[b]["cpu_seconds"] / results[a]["cpu_seconds"]
            print(f"{a + ' / ' + b + ':':30} {wall:{fmt}} by wall time, {cpu:{fmt}} by CPU time")

    ratio("costcalc", "cookbook", ".2f")
    ratio("costcalc", "ceiling", ".0%")
    ratio("costcalc-memo-off", "ceiling", ".0%")
    print(f"goals: costcalc / cookbook >= 1.5x (wall), costcalc / ceiling >= 70%, "
          f"peak memory < {PEAK_MEMORY_GOAL_MB} MB")
    if "costcalc" in results:
        r = results["costcalc"]
        peak = max(r["peak_rss_mb"], r["peak_worker_rss_mb"])
        print(f"costcalc peak memory: main process {r['peak_rss_mb']:.0f} MB, each worker <= "
              f"{r['peak_worker_rss_mb']:.0f} MB; {r['examples']:,} examples: peak {peak:.0f} MB "
              f"{'<' if peak < PEAK_MEMORY_GOAL_MB else '>='} {PEAK_MEMORY_GOAL_MB} MB")


if __name__ == "__main__":
    main()
