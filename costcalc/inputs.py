"""The files a comparison rests on, read before anything is priced.

A scenario may name sample files (requests to measure prompt and completion tokens from) and
training files (to bill fine-tuning jobs from). `read_inputs` reads each of them once, so the
engine in `costcalc.compare` is arithmetic over what was read:

* a sample is measured once per (file, tokenizer);
* a training file is scanned once per (file, tokenizer), whatever the number of retrainings: the
  scan's frequency table of tokens per example is all it takes to bill a job on another snapshot
  with another per-example limit (`costcalc.training.bill_examples`).

Models that cannot be resolved here are skipped, not reported: the engine reports them with the
scenario key at fault and the date, as it prices each month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CostCalcError, DatasetError
from .pricing import ModelPrice, PriceBook, PriceSheet, display_path
from .scenario import KeyPath, RequestSample, Scenario, Strategy, Traffic, measure_sample

if TYPE_CHECKING:
    from .dataset import DatasetReport

ScanProgress = Callable[[int, "int | None"], None]


@dataclass(frozen=True)
class SampleNeed:
    """The sample a strategy's tokens are measured from, and the scenario key that names it."""

    path: Path
    key: KeyPath


@dataclass(frozen=True)
class Inputs:
    """What the scenario's files hold: measured samples and training-file scans, by (file, tokenizer)."""

    samples: dict[tuple[Path, str], RequestSample] = field(default_factory=dict)
    scans: dict[tuple[Path, str], DatasetReport] = field(default_factory=dict)


def given_tokens(strategy: Strategy, traffic: Traffic) -> tuple[Decimal | None, Decimal | None]:
    """The prompt and completion tokens a scenario gives for `strategy` (None: to be measured).

    The strategy's own numbers come first; the traffic's fill in, unless the strategy names its own
    sample, which outranks the traffic's numbers."""
    prompt, completion = strategy.prompt_tokens, strategy.completion_tokens
    if strategy.sample_file is None:
        prompt = prompt if prompt is not None else traffic.prompt_tokens
        completion = completion if completion is not None else traffic.completion_tokens
    return prompt, completion


def sample_need(strategy: Strategy, traffic: Traffic) -> SampleNeed | None:
    """The sample to measure for `strategy`, or None when its prompt and completion are given:
    the strategy's own sample, else the traffic's (see `given_tokens` for which numbers count)."""
    prompt, completion = given_tokens(strategy, traffic)
    if prompt is not None and completion is not None:
        return None
    if strategy.sample_file is not None:
        return SampleNeed(strategy.sample_file, ("strategies", strategy.name, "sample_file"))
    if traffic.sample_file is not None:
        return SampleNeed(traffic.sample_file, ("traffic", "sample_file"))
    return None


def due(index: int, every: int) -> bool:
    """Whether a recurring job (a training run, a corpus refresh) runs in the `index`-th month
    (0-based): the first month, then every `every` months (0: only the first)."""
    return index == 0 or (every > 0 and index % every == 0)


def training_months(strategy: Strategy, months: list[dt.date]) -> list[int]:
    """Indexes of the months a fine-tuned strategy trains in: the first, then every N months."""
    return [i for i in range(len(months)) if due(i, strategy.retrain_every_months)]


def read_inputs(scenario: Scenario, book: PriceBook, *, scan_progress: ScanProgress | None = None) -> Inputs:
    """Measure every sample and scan every training file the scenario's strategies need."""
    inputs = Inputs()
    months = scenario.traffic.months()
    for strategy in scenario.strategies:
        need = sample_need(strategy, scenario.traffic)
        first = _model(book, strategy.model, months[0])
        if need is not None and first is not None and first.encoding is not None:
            memo = (need.path, first.encoding)
            if memo not in inputs.samples:
                try:
                    inputs.samples[memo] = measure_sample(need.path, first.encoding)
                except DatasetError as exc:
                    raise scenario.error(need.key, str(exc)) from None
        if strategy.type == "fine-tuned" and strategy.training_file is not None:
            runs = [(strategy.model, months[i]) for i in training_months(strategy, months)]
            if strategy.migrate_to:  # trained again on the model it migrates to, in the migration month
                runs.append((strategy.migrate_to, max(strategy.migrate_month or months[-1], months[0])))
            for name, month in runs:
                found = _sheet_and_model(book, name, month)
                if found is None or found[1].fine_tuning is None or found[1].encoding is None:
                    continue  # the engine says why this model cannot be trained
                sheet, model = found
                assert model.encoding is not None  # for mypy: checked just above
                memo = (strategy.training_file, model.encoding)
                if memo not in inputs.scans:
                    inputs.scans[memo] = _scan(scenario, strategy, model, sheet, scan_progress)
    return inputs


def _model(book: PriceBook, name: str, month: dt.date) -> ModelPrice | None:
    found = _sheet_and_model(book, name, month)
    return found[1] if found is not None else None


def _sheet_and_model(book: PriceBook, name: str, month: dt.date) -> tuple[PriceSheet, ModelPrice] | None:
    """The sheet in force in `month` for the provider `name` names, and the model (None if unknown)."""
    try:
        return book.model_on(name, month)
    except CostCalcError:
        return None


def _scan(scenario: Scenario, strategy: Strategy, model: ModelPrice, sheet: PriceSheet,
          progress: ScanProgress | None) -> DatasetReport:
    from .dataset import scan_dataset

    assert strategy.training_file is not None
    key = ("strategies", strategy.name, "training_file")
    name = strategy.training_file.name
    try:
        # Named relative to the working directory where it can be: shorter messages.
        report = scan_dataset(display_path(strategy.training_file), model_price=model, epochs=strategy.epochs,
                              sheet=sheet, progress=progress)
    except CostCalcError as exc:
        raise scenario.error(key, str(exc)) from None
    if report.examples == 0:
        raise scenario.error(key, f"{name} holds no valid training examples "
                                  f"(run `costcalc dataset {strategy.training_file}` to see why)")
    return report


__all__ = ["Inputs", "SampleNeed", "due", "given_tokens", "read_inputs", "sample_need", "training_months"]
