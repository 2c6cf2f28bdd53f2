"""costcalc: should we fine-tune, and what will it cost?

The library behind the `costcalc` command. Everything the CLI does can be done from a script:

    >>> import costcalc
    >>> book = costcalc.load_pricebook()
    >>> model = book.as_of(datetime.date(2023, 9, 1)).model("gpt-3.5-turbo")
    >>> costcalc.training_cost(model, tokens=100_000, epochs=3)
    Decimal('2.4')
    >>> result = costcalc.compare(costcalc.load_scenario(), book)   # the bundled example
    >>> result.break_even.month
    '2023-12'


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

__all__ = [
    "BreakEven",
    "Comparison",
    "CostCalcError",
    "DatasetReport",
    "MonthCost",
    "Scenario",
    "SensitivityGrid",
    "Strategy",
    "StrategyResult",
    "Traffic",
    "compare",
    "count_messages",
    "count_text",
    "get_encoding",
    "load_scenario",
    "scan_dataset",
    "sensitivity_grid",
    "DatasetError",
    "FineTuningPrice",
    "MissingPriceError",
    "ModelPrice",
    "PriceBook",
    "PriceSheet",
    "PricingError",
    "ScenarioError",
    "UnknownModelError",
    "Usage",
    "UsageCost",
    "UsageError",
    "load_pricebook",
    "load_sheet",
    "split_fine_tuned",
    "training_cost",
    "usage_cost",
]
