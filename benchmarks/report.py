"""Benchmark: `costcalc report` (the PDF, the Markdown and its five PNGs) and `costcalc report -o x.pdf`.

    python benchmarks/report.py                      # against `main`, when the repository has it
    python benchmarks/report.py --baseline-ref v0.4  # against any commit, tag or branch
    python benchmarks/report.py --no-baseline        # against `costcalc compare`, a fixed workload
    python benchmarks/report.py --profile            # where the time of one `costcalc report` goes
    python benchmarks/report.py --profile --baseline-ref v0.4  # ... here and in that commit, one after the other
    python benchmarks/report.py --profile --one-process        # ... with every chart and page drawn in this process

Each command runs in a fresh subprocess (imports included, as a user waits for them) in an empty
temporary folder, `--runs` times; min / median / max are printed. Both sides' costcalc is compiled
to bytecode first, as an installed one is. The baseline is the same
commands run from `git archive REF` unpacked into a temporary folder (PYTHONPATH), so both sides
run on this machine at the same time of day. Without a baseline, the ratio is to `costcalc compare`
of the bundled example, a workload that does not draw anything: the ratio holds across machines.

The goal of issue #13: `costcalc report` and `report -o x.pdf` in at most 0.4 of the time of the
previous release. The repository has no release tags; the release before issue #13's work is commit
b73591f, so `--baseline-ref b73591f` measures that goal.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.4

COMMANDS = {
    "report": ["report"],
    "report -o x.pdf": ["report", "-o", "x.pdf"],
}
REFERENCE = {"compare": ["compare"]}


def run_once(source: Path, args: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one `python -m costcalc ARGS` from `source`, in a new empty folder.
    CPU is user + system of the process and its children: it shows work saved even on a busy
    machine, and work moved to a second core (which wall time hides)."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("SOURCE_DATE_EPOCH", None)
    with tempfile.TemporaryDirectory() as folder:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "costcalc", *args], cwd=folder, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compile_bytecode(source: Path) -> None:
    """Each side's costcalc compiled to bytecode first, as `pip install` leaves it: with
    PYTHONDONTWRITEBYTECODE set (as on some machines) and no __pycache__, every run would compile
    the package's source again (a tenth of a second), which no installed costcalc does."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(source / "costcalc")], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def summary(times: list[float]) -> str:
    return f"min {min(times):6.2f} s  median {statistics.median(times):6.2f} s  max {max(times):6.2f} s"


def checkout(ref: str, into: Path) -> Path:
    """The tree of `ref` unpacked into `into` (no worktree, nothing left in the repository)."""
    archive = into / "tree.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def has_ref(ref: str) -> bool:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def compare_times(runs: int, baseline_ref: str | None) -> None:
    """Each command `runs` times from this tree and from the baseline, interleaved (this, baseline,
    this, ...) so a machine getting busier or quieter weighs on both alike."""
    with tempfile.TemporaryDirectory() as scratch:
        baseline = checkout(baseline_ref, Path(scratch)) if baseline_ref else None
        sides = {"this tree": ROOT, **({baseline_ref[:12]: baseline} if baseline is not None and baseline_ref else {})}
        commands = {**COMMANDS, **({} if baseline is not None else REFERENCE)}
        for source in sides.values():
            compile_bytecode(source)
        results: dict[str, dict[str, list[tuple[float, float]]]] = {}
        for name, args in commands.items():
            results[name] = {side: [] for side in sides}
            for _ in range(runs):
                for side, source in sides.items():
                    results[name][side].append(run_once(source, args))
            for side, times in results[name].items():
                print(f"{'costcalc ' + name:<26} {side:<12} wall {summary([w for w, _ in times])}")
                print(f"{'':<26} {'':<12} CPU  {summary([c for _, c in times])}")
            if baseline is not None:
                now, before = (statistics.median(w for w, _ in results[name][side]) for side in sides)
                ratio = now / before
                print(f"{'':<26} ratio of median wall times {ratio:.2f} "
                      f"(goal: at most {GOAL}: {'met' if ratio <= GOAL else 'NOT met'})")
        if baseline is None:
            compare = statistics.median(w for w, _ in results["compare"]["this tree"])
            for name in COMMANDS:
                median = statistics.median(w for w, _ in results[name]["this tree"])
                print(f"costcalc {name}: {median / compare:.2f} × the wall time of `costcalc compare`")


# Where the time goes: each group is the cumulative time of these functions (file suffix, function
# name). Groups overlap: drawing a figure runs its layout, writing a PDF or a PNG draws it.
GROUPS = {
    "imports": [("<frozen importlib._bootstrap>", "_find_and_load")],
    "layout (constrained layout engine)": [("matplotlib/layout_engine.py", "execute")],
    "drawing (artists, text layout)": [("matplotlib/figure.py", "draw")],
    "PDF writing (savefig + fonts)": [("matplotlib/backends/backend_pdf.py", "savefig"),
                                      ("matplotlib/backends/backend_pdf.py", "close")],
    "PDF font embedding": [("matplotlib/backends/backend_pdf.py", "writeFonts")],
    # The report's PNGs: charts.png_bytes from 7f1377a on (its jobs return the bytes), save_png
    # before; a `costcalc report` runs one or the other.
    "PNG writing (savefig)": [("costcalc/charts.py", "save_png"), ("costcalc/charts.py", "png_bytes")],
    "chart building (plot_*)": [("costcalc/report.py", "figure")],
    "joining the PDF's parts": [("costcalc/report.py", "_join_parts")],
}


def profile(top: int, source: Path, one_process: bool) -> None:
    """One `costcalc report`, of the costcalc in `source`, in this process under cProfile, in an
    empty temporary folder. cProfile sees this process only: what forked helpers draw (the PNGs,
    half the PDF's pages) is missing from the groups, unless `one_process`."""
    sys.path.insert(0, str(source))
    from costcalc import cli, report

    if one_process:
        # Every helper's work done here instead, where cProfile sees it (`workers=1` throughout).
        report._workers = lambda workers=None: 1  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        try:
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                cli.cli.main(["report"], prog_name="costcalc", standalone_mode=False)
        finally:
            profiler.disable()
        wall = time.perf_counter() - started
    stats = pstats.Stats(profiler, stream=sys.stdout)
    where = "in one process" if one_process else "(this process only)"
    print(f"\ncostcalc report from {source} under cProfile {where}: {wall:.2f} s "
          "(profiling slows it down about 1.5-2×)\n")
    raw = stats.stats  # type: ignore[attr-defined]
    for group, markers in GROUPS.items():
        total = 0.0
        for suffix, name in markers:
            # Of the functions of that name in that file, the outermost (Figure.draw, not SubFigure.draw):
            # cProfile's cumulative time of a recursive function already counts each call once.
            total += max((cumulative for (file, _line, function), (_cc, _nc, _tt, cumulative, _callers) in raw.items()
                          if function == name and (file.endswith(suffix) or file == suffix)), default=0.0)
        print(f"  {group:<38} {total:6.2f} s")
    print()
    if top:
        stats.sort_stats("cumulative").print_stats(top)


def profile_baseline(ref: str, one_process: bool) -> None:
    """The profile groups of `costcalc report` as of `ref`, in a fresh process (its own imports)."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = checkout(ref, Path(scratch))
        subprocess.run([sys.executable, __file__, "--profile", "--source", str(tree), "--top", "0",
                        *(["--one-process"] if one_process else [])], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-ref", help="commit, tag or branch to compare with (default: main, if any)")
    parser.add_argument("--no-baseline", action="store_true", help="compare with `costcalc compare` instead")
    parser.add_argument("--profile", action="store_true", help="profile one `costcalc report` instead")
    parser.add_argument("--top", type=int, default=25, help="entries of the profile to print")
    parser.add_argument("--one-process", action="store_true",
                        help="with --profile: draw everything in the profiled process (no forked helpers)")
    parser.add_argument("--source", type=Path, default=ROOT, help=argparse.SUPPRESS)  # the tree to profile
    options = parser.parse_args()
    if options.profile:
        if options.baseline_ref and options.source == ROOT:
            profile_baseline(options.baseline_ref, options.one_process)
        profile(options.top, options.source, options.one_process)
        return
    ref = None if options.no_baseline else (options.baseline_ref or ("main" if has_ref("main") else None))
    compare_times(options.runs, ref)


if __name__ == "__main__":
    main()
