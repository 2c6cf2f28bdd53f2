"""The cost engine: exact Decimal cost of a usage and of a training job under one price sheet.

Pure arithmetic over `ModelPrice`: no I/O, no rounding (rounding happens once, in the renderer).
A price the sheet does not have is a `MissingPriceError` naming model, price and date, never $0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from .errors import UsageError
from .pricing import ModelPrice

MAX_EPOCHS = 50  # OpenAI's n_epochs accepts 1..50 (openai-python FineTuningJob docstring)


@dataclass(frozen=True)
class Usage:
    """Tokens of some requests, counted as OpenAI's usage object counts them.

    `input_tokens` includes the cached ones; `cached_input_tokens` says how many of them were
    served from the prompt cache.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0

    def __post_init__(self):
        for name in ("input_tokens", "output_tokens", "cached_input_tokens"):
            check_token_count(getattr(self, name), name)
        if self.cached_input_tokens > self.input_tokens:
            raise UsageError(
                f"cached_input_tokens ({self.cached_input_tokens}) cannot exceed input_tokens ({self.input_tokens})"
            )


@dataclass(frozen=True)
class UsageCost:
    """What a usage costs, per component, with the prices (USD per 1M tokens) that were applied."""

    model: str
    effective: dt.date
    fine_tuned: bool
    batch: bool
    usage: Usage
    input_per_1m: Decimal | None
    cached_input_per_1m: Decimal | None
    output_per_1m: Decimal | None
    input_usd: Decimal
    cached_input_usd: Decimal
    output_usd: Decimal

    @property
    def total_usd(self) -> Decimal:
        return tidy(self.input_usd + self.cached_input_usd + self.output_usd)


def usage_prices(model: ModelPrice, *, fine_tuned: bool = False, batch: bool = False) -> dict[str, str]:
    """The JSON price names that apply to input, cached input and output in this mode."""
    prefix = ("ft_" if fine_tuned else "") + ("batch_" if batch else "")
    return {
        "input": f"{prefix}input_per_1m",
        "cached_input": f"{prefix}cached_input_per_1m",
        "output": f"{prefix}output_per_1m",
    }


def usage_cost(model: ModelPrice, usage: Usage, *, fine_tuned: bool = False, batch: bool = False) -> UsageCost:
    """Exact cost of `usage` on `model` (base or fine-tuned, standard or Batch API)."""
    names = usage_prices(model, fine_tuned=fine_tuned, batch=batch)
    prices = model.prices()
    uncached = usage.input_tokens - usage.cached_input_tokens

    input_price = model.price(names["input"]) if usage.input_tokens else prices[names["input"]]
    cached_price = prices.get(names["cached_input"])
    if cached_price is None:
        # No cached price listed means the model has no prompt-caching discount (PRICING_FACTS §6):
        # cached tokens are billed as ordinary input, which is what OpenAI charges.
        cached_price = input_price
    output_price = model.price(names["output"]) if usage.output_tokens else prices[names["output"]]

    return UsageCost(
        model=model.name,
        effective=model.effective,
        fine_tuned=fine_tuned,
        batch=batch,
        usage=usage,
        input_per_1m=input_price,
        cached_input_per_1m=cached_price,
        output_per_1m=output_price,
        input_usd=tokens_cost(uncached, input_price),
        cached_input_usd=tokens_cost(usage.cached_input_tokens, cached_price),
        output_usd=tokens_cost(usage.output_tokens, output_price),
    )


def training_cost(model: ModelPrice, tokens: int, epochs: int) -> Decimal:
    """Fee of a fine-tuning job: training tokens × epochs × training price (OpenAI's formula)."""
    check_token_count(tokens, "training tokens")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
        raise UsageError(f"epochs must be a whole number from 1 to {MAX_EPOCHS}, not {epochs!r}")
    return tokens_cost(tokens * epochs, model.price("training_per_1m"))


def tokens_cost(tokens: int, price_per_1m: Decimal | None) -> Decimal:
    """tokens × price / 1,000,000, exactly (scaleb shifts the decimal point without rounding)."""
    if not tokens:
        return Decimal(0)
    return tidy((Decimal(tokens) * price_per_1m).scaleb(-6))


def tidy(value: Decimal) -> Decimal:
    """The same value without trailing zeros (2.40000000 -> 2.4), never in exponent form (1.2E+3)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def check_token_count(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{name} must be a whole number >= 0, not {value!r}")
