"""Exact Decimal cost of a usage under one price sheet: the one home of tokens × price per 1M.

Pure arithmetic over `ModelPrice`: no I/O, no rounding (rounding happens once, in the renderer).
A price the sheet does not have is a `MissingPriceError` naming model, price and date, never $0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from .errors import MissingPriceError, UsageError
from .pricing import ModelPrice

ZERO = Decimal(0)
# OpenAI caches prompts of 1,024 tokens or more, in 128-token increments (PRICING_FACTS §6, S8):
# the cached part of a prompt is its longest prefix of a whole number of increments.
CACHE_MIN_TOKENS = 1024
CACHE_INCREMENT_TOKENS = 128


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


@dataclass(frozen=True)
class TokenPrices:
    """USD per 1M tokens for input, cached input and output in one mode; None = not needed and
    not offered (an embedding model's output)."""

    input_per_1m: Decimal | None
    cached_input_per_1m: Decimal | None
    output_per_1m: Decimal | None


def usage_prices(model: ModelPrice, *, fine_tuned: bool = False, batch: bool = False) -> dict[str, str]:
    """The JSON price names that apply to input, cached input and output in this mode."""
    prefix = ("ft_" if fine_tuned else "") + ("batch_" if batch else "")
    return {
        "input": f"{prefix}input_per_1m",
        "cached_input": f"{prefix}cached_input_per_1m",
        "output": f"{prefix}output_per_1m",
    }


def token_prices(model: ModelPrice, *, fine_tuned: bool = False, batch: bool = False,
                 needs_input: bool = True, needs_output: bool = True) -> TokenPrices:
    """The prices `usage_cost` applies. A price that is needed and missing is a MissingPriceError;
    the cached-input price falls back to the input price here, and only here."""
    names = usage_prices(model, fine_tuned=fine_tuned, batch=batch)
    prices = model.prices()
    input_price = model.price(names["input"]) if needs_input else prices[names["input"]]
    cached_price = prices.get(names["cached_input"])
    if cached_price is None:
        # No cached price listed means the model has no prompt-caching discount (PRICING_FACTS §6):
        # cached tokens are billed as ordinary input, which is what OpenAI charges.
        cached_price = input_price
    output_price = model.price(names["output"]) if needs_output else prices[names["output"]]
    return TokenPrices(input_price, cached_price, output_price)


@dataclass(frozen=True)
class ModePrices:
    """USD per 1M tokens one request pays in one mode: input, cached input, output, and the price of
    the input tokens written to the prompt cache (the input price where the model has no write price)."""

    input_per_1m: Decimal
    cached_input_per_1m: Decimal
    output_per_1m: Decimal
    cache_write_per_1m: Decimal


def mode_prices(model: ModelPrice, mode: str, *, fine_tuned: bool, input_tokens: Decimal,
                needs_output: bool = True) -> ModePrices:
    """The prices of one request of `input_tokens` in `mode` (a tier's where the input is above its
    threshold). A missing input or needed output price is a MissingPriceError; a missing cached or
    cache-write price falls back to the input price (no discount, no surcharge), as OpenAI bills."""
    input_price = model.rate("input", mode, fine_tuned=fine_tuned, input_tokens=input_tokens)
    output_price = (model.rate("output", mode, fine_tuned=fine_tuned, input_tokens=input_tokens)
                    if needs_output else Decimal(0))

    def optional(kind: str, tokens: Decimal) -> Decimal | None:
        try:
            return model.rate(kind, mode, fine_tuned=fine_tuned, input_tokens=tokens)
        except MissingPriceError:
            return None

    cached = optional("cached_input", input_tokens)
    write = optional("cache_write", input_tokens)
    untiered_input = model.rate("input", mode, fine_tuned=fine_tuned)
    if write is not None and input_price != untiered_input and write == optional("cache_write", Decimal(0)):
        # A long-context tier raised the input price but lists no write price of its own: a write costs
        # the same multiple of the input price as below the tier (gpt-5.6: 1.25x, PRICING_FACTS_2025_2026 §1b).
        write = input_price * write / untiered_input
    return ModePrices(input_price, cached if cached is not None else input_price, output_price,
                      write if write is not None else input_price)


def usage_cost(model: ModelPrice, usage: Usage, *, fine_tuned: bool = False, batch: bool = False) -> UsageCost:
    """Exact cost of `usage` on `model` (base or fine-tuned, standard or Batch API)."""
    prices = token_prices(model, fine_tuned=fine_tuned, batch=batch, needs_input=bool(usage.input_tokens),
                          needs_output=bool(usage.output_tokens))
    uncached = usage.input_tokens - usage.cached_input_tokens
    return UsageCost(
        model=model.name,
        effective=model.effective,
        fine_tuned=fine_tuned,
        batch=batch,
        usage=usage,
        input_per_1m=prices.input_per_1m,
        cached_input_per_1m=prices.cached_input_per_1m,
        output_per_1m=prices.output_per_1m,
        input_usd=tokens_cost(uncached, prices.input_per_1m),
        cached_input_usd=tokens_cost(usage.cached_input_tokens, prices.cached_input_per_1m),
        output_usd=tokens_cost(usage.output_tokens, prices.output_per_1m),
    )


def tokens_cost(tokens: int | Decimal, price_per_1m: Decimal | None) -> Decimal:
    """tokens × price per 1M tokens, exactly: the one place a price per 1M meets a token count.

    No tokens cost nothing whatever the price (None: a price the usage does not need)."""
    if not tokens:
        return Decimal(0)
    if price_per_1m is None:
        raise ValueError("tokens_cost: a price is needed for a non-zero token count")
    return tidy((Decimal(tokens) * price_per_1m).scaleb(-6))


def per_token(price_per_1m: Decimal | None) -> Decimal:
    """USD per token of a price per 1M tokens (None, a price not needed: 0)."""
    return ZERO if price_per_1m is None else price_per_1m.scaleb(-6)


def cacheable_tokens(prompt_tokens: Decimal) -> Decimal:
    """The part of a prompt the prompt cache can serve: 0 below 1,024 tokens, else the prompt
    rounded down to a multiple of 128 (2,500 -> 2,432; 1,100 -> 1,024; 1,000 -> 0)."""
    if prompt_tokens < CACHE_MIN_TOKENS:
        return ZERO
    return Decimal(int(prompt_tokens) // CACHE_INCREMENT_TOKENS * CACHE_INCREMENT_TOKENS)


def tidy(value: Decimal) -> Decimal:
    """The same value without trailing zeros (2.40000000 -> 2.4), never in exponent form (1.2E+3)."""
    value = value.normalize()
    exponent = value.as_tuple().exponent  # 'n', 'N' or 'F' for NaN and infinity
    return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value


def check_token_count(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{name} must be a whole number >= 0, not {value!r}")
