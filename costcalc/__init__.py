"""costcalc: should we fine-tune, and what will it cost?

The library behind the `costcalc` command. Everything the CLI does can be done from a script:

    >>> import datetime
    >>> import costcalc
    >>> book = costcalc.load_pricebook()                 # the bundled price sheets
    >>> model = book.as_of(datetime.date(2023, 9, 1)).model("gpt-3.5-turbo")
    >>> model.name                                       # what the alias meant that day
    'gpt-3.5-turbo-0613'
    >>> costcalc.training_cost(model, tokens=100_000, epochs=3)   # 300,000 tokens at $8 per 1M
    Decimal('2.4')
    >>> result = costcalc.compare(costcalc.load_scenario(), book)   # the bundled example
    >>> print(result.break_even.month)                    # months are dates: the 1st of the month
    2023-12-01
    >>> for strategy in result.strategies:               # exact Decimals; round to show
    ...     print(strategy.name, round(strategy.total_usd, 2))
    Base GPT-3.5 Turbo 3940.61
    Fine-tuned GPT-3.5 3725.18
    GPT-4 133703.86
    Retrieval (RAG) 3378.55

Importing costcalc loads neither pandas nor matplotlib; they are imported by the functions that
draw charts or build DataFrames.
"""

__version__ = "0.1.0"

from .compare import BreakEven, Comparison, MonthCost, StrategyResult, compare
from .cost import Usage, UsageCost, usage_cost
from .training import training_cost
from .dataset import DatasetReport, scan_dataset
from .errors import (
    CostCalcError,
    DatasetError,
    MissingPriceError,
    PricingError,
    ScenarioError,
    UnknownModelError,
    UsageError,
)
from .pricing import (
    FineTuningPrice,
    ModelPrice,
    PriceBook,
    PriceSheet,
    load_pricebook,
    load_sheet,
    split_fine_tuned,
)
from .scenario import Scenario, Strategy, Traffic, load_scenario
from .sensitivity import SensitivityGrid, sensitivity_grid
from .tokens import count_messages, count_text, get_encoding
from .usage import UsageHistory, read_usage

# Every public name above, sorted: tests/test_package.py checks both ways that nothing drifts.
__all__ = [
    "BreakEven",
    "Comparison",
    "CostCalcError",
    "DatasetError",
    "DatasetReport",
    "FineTuningPrice",
    "MissingPriceError",
    "ModelPrice",
    "MonthCost",
    "PriceBook",
    "PriceSheet",
    "PricingError",
    "Scenario",
    "ScenarioError",
    "SensitivityGrid",
    "Strategy",
    "StrategyResult",
    "Traffic",
    "UnknownModelError",
    "Usage",
    "UsageCost",
    "UsageError",
    "UsageHistory",
    "compare",
    "count_messages",
    "count_text",
    "get_encoding",
    "load_pricebook",
    "load_scenario",
    "load_sheet",
    "read_usage",
    "scan_dataset",
    "sensitivity_grid",
    "split_fine_tuned",
    "training_cost",
    "usage_cost",
]
