"""How a fine-tuning job is billed: the one home of the epochs rule, billing tokens and the fee.

OpenAI bills a job as billing tokens × epochs × the training price of the sheet in force:

* **billing tokens** are one pass over the training file, each example truncated to the model's
  per-example limit (`max_tokens_per_example`): Σ min(tokens, limit) over the examples;
* **epochs** are given (1 to 50, what the fine-tuning API's `n_epochs` accepts) or `auto`, the
  cookbook's default rule for the number of examples (openai-cookbook Chat_finetuning_data_prep):
  3, raised to reach 100 example passes (at most 25 epochs) or lowered to stay within 25,000
  (at least 1). Without an example count (a bare token count) `auto` is the target, 3.

Everything here is arithmetic on counts: the dataset scan hands in its frequency table of tokens
per example, so billing the same file for another snapshot (another limit) needs no second scan.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Union

from .cost import check_token_count, tokens_cost
from .errors import UsageError
from .pricing import ModelPrice

MAX_EPOCHS = 50  # n_epochs accepts 1..50 (openai-python FineTuningJob docstring)
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25

Epochs = Union[int, str]  # a whole number from 1 to MAX_EPOCHS, or "auto"
Histogram = Iterable[tuple[int, int]]  # (tokens of an example, number of such examples)


@dataclass(frozen=True)
class TrainingBill:
    """What one fine-tuning job of `snapshot` is billed, and why.

    `training_usd` is exact, or None when the sheet has no training price for the snapshot (the
    dataset report says so; a comparison refuses such a model before it gets here).
    """

    snapshot: str
    billing_tokens: int  # one pass: each example truncated to the per-example limit
    epochs: int
    epochs_rule: str
    training_per_1m: Decimal | None
    training_usd: Decimal | None

    @property
    def billed_tokens(self) -> int:
        return self.billing_tokens * self.epochs


def default_epochs(n_examples: int) -> int:
    """The cookbook's default-epochs rule; 0 when there is nothing to train on."""
    if n_examples <= 0:
        return 0
    n_epochs = TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        n_epochs = min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    elif n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        n_epochs = max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return n_epochs


def parse_epochs(value: object) -> Epochs:
    """'auto' or a whole number from 1 to 50 (what --epochs and `epochs =` accept); else UsageError."""
    if value == "auto":
        return "auto"
    try:
        epochs = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        epochs = None
    exact = epochs is not None and str(epochs) == str(value).strip()  # "2.5" and "3x" are not 3
    if isinstance(value, bool) or epochs is None or not exact or not 1 <= epochs <= MAX_EPOCHS:
        raise UsageError(f"epochs must be auto or a whole number from 1 to {MAX_EPOCHS}, not {value!r}")
    return epochs


def resolve_epochs(epochs: Epochs, examples: int | None) -> tuple[int, str]:
    """(epochs, the rule that chose them) for a job on `examples` examples (None: not known)."""
    if epochs != "auto":
        return int(epochs), "as given"
    if examples == 0:
        return 0, "auto: no examples to train on"
    if examples is None:
        return TARGET_EPOCHS, (f"auto: {TARGET_EPOCHS}, OpenAI's target (the default rule needs the example "
                               "count: give a training_file)")
    return default_epochs(examples), (
        f"auto: cookbook default for {examples:,} example{'' if examples == 1 else 's'} (target {TARGET_EPOCHS}, "
        f"{MIN_TARGET_EXAMPLES:,} to {MAX_TARGET_EXAMPLES:,} example passes)")


def billing_tokens(histogram: Histogram, limit: int | None) -> int:
    """One pass over the examples, each truncated to `limit` tokens (None: no known limit)."""
    if limit is None:
        return sum(tokens * count for tokens, count in histogram)
    return sum(min(tokens, limit) * count for tokens, count in histogram)


def training_limit(model: ModelPrice) -> int | None:
    """The per-example token limit of fine-tuning `model`, None where no source gives one."""
    return model.fine_tuning.max_tokens_per_example if model.fine_tuning else None


def training_price(model: ModelPrice) -> Decimal | None:
    return model.fine_tuning.training_per_1m if model.fine_tuning else None


def not_fine_tunable(requested: str, model: ModelPrice, revision: str,
                     in_force_on: datetime.date | None = None) -> str | None:
    """Why `model` (what the name `requested` resolved to in the sheet effective `revision`) cannot
    be fine-tuned, or None when it can: the sheet has no training price for it. The one wording of
    the refusal, for `compare` (a scenario's fine-tuned strategy) and `costcalc dataset --model`."""
    if can_be_trained(model):
        return None
    named = model.name if model.name == requested else f"{requested} ({model.name})"
    when = f" (in force on {in_force_on.isoformat()})" if in_force_on is not None else ""
    if model.fine_tuning is not None:  # Mistral: a minimum per job and storage, no sourced training price
        return (f"{named} has no training price (per token or per training hour) in the price sheet effective "
                f"{revision}{when}: write your own sheet with the price you pay (see pricing/README.md)")
    return f"{named} has no fine-tuning prices in the price sheet effective {revision}{when}"


def jobs_closed_warning(requested: str, day: datetime.date, reason: str) -> str:
    """What `costcalc dataset` and `estimate` say when the fee they print is of a job that cannot be
    started on `day` (the model shut down, or its provider takes no fine-tuning jobs then): the one
    wording, beside the fee, so it is never read as a price that can be paid."""
    return (f"no fine-tuning job can start on {requested} on {day.isoformat()} ({reason}): the training "
            "fee is what the job cost at these prices, not one that can be paid then; give --as-of for a "
            "day it could start, or another model")


def can_be_trained(model: ModelPrice) -> bool:
    """Whether a sheet gives a price for training `model`, per token or per hour, in some mode."""
    tables = list(model.fine_tuning_by_mode.values()) or ([model.fine_tuning] if model.fine_tuning else [])
    return any(ft.training_per_1m is not None or ft.training_per_hour is not None for ft in tables)


def training_cost(model: ModelPrice, tokens: int, epochs: int) -> Decimal:
    """Fee of a fine-tuning job: billing tokens × epochs × training price (OpenAI's formula)."""
    check_token_count(tokens, "training tokens")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
        raise UsageError(f"epochs must be a whole number from 1 to {MAX_EPOCHS}, not {epochs!r}")
    return tokens_cost(tokens * epochs, model.price("training_per_1m"))


def bill_tokens(model: ModelPrice, tokens: int, epochs: Epochs) -> TrainingBill:
    """A job on a given number of billing tokens (no file, so no example count)."""
    n_epochs, rule = resolve_epochs(epochs, None)
    return TrainingBill(model.name, tokens, n_epochs, rule, training_price(model),
                        training_cost(model, tokens, n_epochs))


def bill_examples(model: ModelPrice, histogram: Histogram, epochs: Epochs) -> TrainingBill:
    """A job on examples counted by the scan: `histogram` holds (tokens, examples) pairs.

    The fee is None when the sheet has no training price; an empty file bills $0 at 0 epochs.
    """
    pairs = list(histogram)
    examples = sum(count for _, count in pairs)
    n_epochs, rule = resolve_epochs(epochs, examples)
    billing = billing_tokens(pairs, training_limit(model))
    price = training_price(model)
    fee = None
    if price is not None:
        fee = Decimal(0) if n_epochs == 0 else training_cost(model, billing, n_epochs)
    return TrainingBill(model.name, billing, n_epochs, rule, price, fee)


__all__ = [
    "MAX_EPOCHS",
    "TARGET_EPOCHS",
    "TrainingBill",
    "bill_examples",
    "bill_tokens",
    "billing_tokens",
    "default_epochs",
    "jobs_closed_warning",
    "not_fine_tunable",
    "parse_epochs",
    "resolve_epochs",
    "training_cost",
    "training_limit",
]
