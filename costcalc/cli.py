"""The `costcalc` command: a thin click layer over the library.

Only this module imports click, prints, or picks exit codes. Each command parses its flags, calls
the library and hands an `Output` to the shared renderer. Library errors (`CostCalcError`) become
one-line messages here, in one place: exit 1 for a failed run, exit 2 for bad usage.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from typing import Any
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .errors import CostCalcError
from .render import FORMATS, Output, render
from .scenario import MAX_REQUESTS, MAX_TOKENS, MAX_TOKENS_PER_REQUEST
from .training import MAX_EPOCHS

if TYPE_CHECKING:
    from .pricing import PriceBook
    from .scenario import Override, Scenario


OVER_BUDGET = 3  # the exit code of a --budget that the projection exceeds (README: Errors)


class _Failed(click.ClickException):
    exit_code = 1  # a failed run


class _BadUsage(click.ClickException):
    exit_code = 2


class _OverBudget(click.ClickException):
    exit_code = OVER_BUDGET


def failure(message: str, exit_code: int) -> click.ClickException:
    """`Error: <message>` with its exit code. click types `exit_code` as a class attribute, so each
    code is a class of its own rather than an attribute set on an instance."""
    kind = {2: _BadUsage, OVER_BUDGET: _OverBudget}.get(exit_code, _Failed)
    return kind(message)


# click 8.2+ raises this for a group called with nothing; older versions print the help themselves.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


class CostCalcGroup(click.Group):
    """Turns every CostCalcError raised by a command into `Error: <message>` and its exit code."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """click's main, with every error on one line as the README promises: `Error: <message>`,
        not click's usage block before it (the message names the flag; `--help` shows the usage)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            # Without standalone mode click raises errors and returns the code of ctx.exit().
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NO_ARGS_IS_HELP as exc:  # `costcalc` or `costcalc prices` alone: the help, as click shows it
            exc.show()
            sys.exit(0)  # asking for nothing is asking for the help, not a mistake
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort, unless it lands in its cleanup
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CostCalcError as exc:
            raise failure(str(exc), exc.exit_code) from None
        except BrokenPipeError:  # `costcalc prices list | head` is not an error
            sys.stderr.close()
            ctx.exit(0)


class DateType(click.ParamType):
    """YYYY-MM-DD, named in the error as the flag it came from."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        from .pricing import as_date

        try:
            return as_date(value)  # YYYY-MM-DD only, as the help says: not 20230901 or 2023-W35-5
        except CostCalcError:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)


DATE = DateType()


class EpochsType(click.ParamType):
    """`auto` or a whole number of epochs from 1 to 50, named in the error as the flag it came from."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        from .training import parse_epochs

        try:
            return parse_epochs(value)
        except CostCalcError:
            self.fail(f"{value!r} is not auto or a whole number from 1 to {MAX_EPOCHS}", param, ctx)


EPOCHS = EpochsType()


def output_options(command):
    """The one --format option every command shares."""

    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                  help="Output format.")
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        return command(*args, **kwargs)

    return wrapper


# The scenario overrides `compare` and `report` share: the scenario file's values, from the command line.
SCENARIO_OPTIONS = (
    click.option("--dataset", type=click.Path(dir_okay=False), metavar="FILE",
                 help="Training file (JSONL) of the fine-tuned strategies; its tokens and epochs set the "
                      "training fee."),
    click.option("--requests-per-month", metavar="N", help="Requests in the first month."),
    click.option("--requests-per-day", metavar="N", help="Requests per day (instead of --requests-per-month)."),
    click.option("--growth", metavar="PCT", help="Monthly traffic growth in % (compounding)."),
    click.option("--start-month", metavar="YYYY-MM", help="First month of the projection."),
    click.option("--months", metavar="N", help="Horizon: number of months to project."),
    click.option("--prompt-tokens", metavar="N", help="Prompt tokens per request with the full prompt."),
    click.option("--completion-tokens", metavar="N", help="Completion tokens per request."),
    click.option("--sample", type=click.Path(dir_okay=False), metavar="FILE",
                 help='Sample requests (JSONL, {"messages": [...]}) to measure prompt and completion tokens from.'),
    click.option("--batch-share", metavar="SHARE", help="Share of requests sent through the Batch API (0-1)."),
    click.option("--cached-share", metavar="SHARE", help="Share of requests whose cacheable prompt (1,024+ tokens, in 128-token steps) is served from the prompt cache (0-1)."),
    click.option("--example", type=click.Choice(("2023", "2026")), default=None,
                 help="Without a SCENARIO, which bundled example runs: 2023 (GPT-3.5 Turbo, the default) or "
                      "2026 (a team deciding in December 2026: OpenAI's fine-tuning wind-down, Azure, newer "
                      "models)."),
    click.option("--fine-tuning-customer", type=click.Choice(("new", "existing")), default=None,
                 help="Who asks: a team that never fine-tuned with the provider (new) or one that did "
                      "(existing); decides whether a training run can start during a wind-down."),
    click.option("--usage", "usage_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
                 help="A usage export or API log (see `costcalc usage`): the traffic comes from it: the last "
                      "full month's requests, growth fitted on the last --fit-months months, tokens per request, "
                      "batch and cached shares. Flags and --set still override. Repeat it for several files."),
    click.option("--fit-months", type=click.IntRange(1, 36), default=3, show_default=True,
                 help="Months of --usage history the growth is fitted on."),
    click.option("--usage-model", metavar="MODEL",
                 help="The model of the --usage history to measure (default: the baseline's model)."),
    click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
                 help='Set any scenario value, with the key as in the file: traffic.horizon_months=24, '
                      'strategies."GPT-4".model="gpt-4-32k". Repeatable.'),
)


def scenario_options(command):
    """The scenario flags (`--dataset`, the traffic flags, `--set`) of `compare` and `report`."""
    for option in reversed(SCENARIO_OPTIONS):
        command = option(command)
    return command


# The direct flags for the common traffic values: flag -> key path in the scenario file.
TRAFFIC_FLAGS = {
    "--requests-per-month": ("traffic", "requests_per_month"),
    "--requests-per-day": ("traffic", "requests_per_day"),
    "--growth": ("traffic", "monthly_growth_pct"),
    "--start-month": ("traffic", "start_month"),
    "--months": ("traffic", "horizon_months"),
    "--prompt-tokens": ("traffic", "prompt_tokens"),
    "--completion-tokens": ("traffic", "completion_tokens"),
    "--sample": ("traffic", "sample_file"),
    "--batch-share": ("traffic", "batch_share"),
    "--cached-share": ("traffic", "cached_share"),
}


def flag_override(flag: str, text: str) -> Override:
    """A direct flag (`--batch-share 0.5`) as an override of its scenario key."""
    from .scenario import Override, parse_plain_number

    path = TRAFFIC_FLAGS[flag]
    value = text if path[-1] in ("start_month", "sample_file") else parse_plain_number(text)
    return Override(path, value, flag)


def parse_set(text: str) -> Override:
    """`--set KEY=VALUE`, KEY dotted as in TOML (`strategies."Fine-tuned GPT-3.5".prompt_tokens`)."""
    from .errors import UsageError
    from .scenario import Override, parse_key_path, parse_value, split_assignment

    assignment = split_assignment(text)
    if assignment is None:
        raise UsageError(f"--set {text}: expected KEY=VALUE, e.g. --set traffic.requests_per_month=50000")
    key, value = assignment
    try:
        path = parse_key_path(key)
    except ValueError:
        raise UsageError(f"--set {text}: {key!r} is not a key path like traffic.batch_share or "
                         f'strategies."My strategy".model') from None
    return Override(path, parse_value(value), f"--set {key}")


def scenario_from_flags(scenario_file: str | None, dataset: str | None, settings: tuple[str, ...],
                        traffic: dict[str, Any], before: Sequence[Override] = ()) -> Scenario:
    """The scenario file (or the bundled example) with the traffic flags and --set overrides applied."""
    from .scenario import load_scenario

    from .errors import UsageError
    from .scenario import Override

    traffic = dict(traffic)
    example, customer = traffic.pop("example", None), traffic.pop("fine_tuning_customer", None)
    for name in ("usage_files", "fit_months", "usage_model"):
        traffic.pop(name, None)  # read by measured_traffic()
    if example is not None and scenario_file is not None:
        raise UsageError(f"--example {example}: give a SCENARIO or --example, not both")
    overrides = [*before]  # measured from --usage: the flags below override them
    overrides += [flag_override("--" + name.replace("_", "-"), value) for name, value in traffic.items()
                  if value is not None]
    if customer is not None:
        overrides.append(Override(("fine_tuning_customer",), customer, "--fine-tuning-customer"))
    overrides += [parse_set(setting) for setting in settings]
    return load_scenario(scenario_file, overrides, dataset=dataset, dataset_origin="--dataset", example=example)


def measured_traffic(ctx: click.Context, scenario: Scenario, files: tuple[str, ...], fit_months: int,
                     usage_model: str | None, rebuild):
    """With --usage: the history's traffic in the scenario (flags and --set still win), and the
    measured traffic for the assumptions; without it, the scenario as it is and None."""
    from .errors import UsageError
    from .progress import progress_bar
    from .scenario import measured_overrides
    from .usage import read_usage

    if not files:
        if usage_model:
            raise UsageError("--usage-model needs --usage")
        return scenario, None, ()
    history = read_usage(files, book=pricebook(ctx), progress=progress_bar("reading usage"))
    model = usage_model or _history_model(history, scenario.strategy(scenario.baseline).model)
    measured = history.traffic(model, fit_months)
    # The measured model's replayed cost before the forecast, month by month, for the report's chart.
    past = sorted((m, cost) for m, cost in history.replayed(history.same_model(model)).items() if m < measured.start)
    return rebuild(measured_overrides(measured)), measured, tuple(past)


def _history_model(history, wanted: str) -> str:
    """The export's name for `wanted` (the baseline's model): itself, or its dated snapshot."""
    from .errors import UsageError

    names = {r.model: 0 for r in history.rows}
    for r in history.rows:
        names[r.model] += r.requests
    matches = [n for n in names if n == wanted or n.startswith(f"{wanted}-") or
               any(r.snapshot == n for r in history.rows if r.model == wanted)]
    if not matches:
        raise UsageError(f"--usage: no traffic of the baseline's model {wanted} in the usage files; they have "
                         f"{', '.join(sorted(names)) or 'none'} (choose one with --usage-model)")
    return max(matches, key=lambda n: names[n])


def as_of_option(command):
    return click.option(
        "--as-of", "as_of", type=DATE, default=None,
        help="Use the prices in force on this date (YYYY-MM-DD). Default: the newest price sheet.",
    )(command)


def emit(output: Output, fmt: str) -> None:
    click.echo(render(output, fmt))


def pricebook(ctx: click.Context):
    """The price book, loaded once per run from --pricing-dir / $COSTCALC_PRICING_DIR / the bundle."""
    from .pricing import load_pricebook

    root = ctx.find_root()
    root.ensure_object(dict)
    if "book" not in root.obj:
        root.obj["book"] = load_pricebook(root.obj.get("pricing_dir"))
    return root.obj["book"]


def check_pricing_dir(ctx: click.Context, value: str | None) -> None:
    """--pricing-dir must be a folder; a value from $COSTCALC_PRICING_DIR is named as such, since
    the user typed no flag. (Checked in the group, once click knows where the value came from.)"""
    if value is None or Path(value).is_dir():
        return
    why = f"Directory {value!r} is a file." if Path(value).exists() else f"Directory {value!r} does not exist."
    from_env = ctx.get_parameter_source("pricing_dir") == click.core.ParameterSource.ENVIRONMENT
    raise click.BadParameter(why, ctx, param_hint="$COSTCALC_PRICING_DIR" if from_env else "'--pricing-dir'")


@click.group(cls=CostCalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="costcalc")
@click.option("--pricing-dir", type=click.Path(), envvar="COSTCALC_PRICING_DIR",
              help="Folder of price sheets to use instead of the bundled ones (OpenAI, Azure OpenAI, Mistral), "
                   "e.g. negotiated rates. Also $COSTCALC_PRICING_DIR.")
@click.pass_context
def cli(ctx, pricing_dir):
    """Should we fine-tune, and what will it cost?

    costcalc prices OpenAI models from dated, sourced price sheets, counts the tokens of a
    fine-tuning dataset the way OpenAI bills them, and compares the base model, the fine-tuned
    model and the alternatives month by month.

    \b
    Examples:
      costcalc prices list --as-of 2023-09-01
      costcalc prices show gpt-3.5-turbo --as-of 2023-09-01
      costcalc estimate gpt-3.5-turbo --input-tokens 800 --output-tokens 150 --requests 100000
    """
    check_pricing_dir(ctx, pricing_dir)
    ctx.ensure_object(dict)
    ctx.obj["pricing_dir"] = pricing_dir


# --- prices ------------------------------------------------------------------------------------


@cli.group(cls=CostCalcGroup)
def prices():
    """Browse the price catalogue: list, show, history, diff, validate.

    \b
    Examples:
      costcalc prices list
      costcalc prices show ft:gpt-3.5-turbo-0613:acme::abc123 --as-of 2023-10-01
      costcalc prices history gpt-3.5-turbo
      costcalc prices diff 2023-08-22 2023-11-06
    """


def today_option(command):
    """--as-of for the `prices` commands: the prices and the lifecycle of a date, today unless given."""
    return click.option(
        "--as-of", "as_of", type=DATE, default=None,
        help="The date to look at (YYYY-MM-DD). Default: today.",
    )(command)


# Who asks, for `dataset` and `estimate`: whether a training job can start during a wind-down.
customer_option = click.option(
    "--fine-tuning-customer", "customer", type=click.Choice(("new", "existing")), default="new", show_default=True,
    help="Who asks: a team that never fine-tuned with the provider (new) or one that did (existing); "
         "decides whether a job can start during a wind-down.")


def training_closed(book: PriceBook, model: str, as_of: dt.date | None, customer: str) -> str | None:
    """The warning that a training fee for `model` is of a job that cannot start on the day (as_of,
    or today), or None when one can: `dataset` and `estimate` print it beside the fee."""
    from .training import jobs_closed_warning

    day = on_date(as_of)
    closed = book.jobs_closed(model, day, customer)
    return jobs_closed_warning(model, day, closed.reason) if closed is not None else None


def on_date(as_of: dt.date | None) -> dt.date:
    from .months import today

    return as_of if as_of is not None else today()


def note_carried_forward(data: dict, fmt: str) -> None:
    """A date past the day a provider's prices were last checked: a note on stderr for tables (JSON has
    carried_forward_from and prices_checked)."""
    from . import views

    if fmt == "json":
        return
    for entry in data.get("providers") or [data]:
        newest = entry.get("carried_forward_from")
        if newest:
            click.echo(views.carried_forward_note(entry["provider"], dt.date.fromisoformat(newest),
                                                  dt.date.fromisoformat(entry["prices_checked"]),
                                                  dt.date.fromisoformat(data["as_of"])), err=True)


@prices.command("list")
@today_option
@click.option("--provider", metavar="NAME",
              help="Only this provider's models (openai, azure, ...). Default: every provider in the folder.")
@click.option("--include-shut-down", is_flag=True,
              help="Also list the models shut down or not yet released on that date, marked with their status.")
@output_options
@click.pass_context
def prices_list(ctx, as_of, provider, include_shut_down, fmt):
    """List the models that could be used on a date, and their prices then.

    Names of models other than OpenAI's carry their provider (azure/gpt-4.1-mini-2025-04-14).

    \b
    Examples:
      costcalc prices list
      costcalc prices list --as-of 2023-08-22 --format markdown
      costcalc prices list --provider azure --include-shut-down
    """
    from . import views

    book = pricebook(ctx)
    date = on_date(as_of)
    if provider is not None:
        if provider not in book.providers:
            raise failure(f"--provider {provider}: no price sheets of {provider!r}; the folder has: "
                          f"{', '.join(book.providers)}", 2)
        sheets = [book.provider_book(provider).as_of(date)]
    else:
        # Every provider with a sheet in force that day (a provider whose first sheet is later has none).
        books = [book.provider_book(p) for p in book.providers]
        sheets = [b.as_of(date) for b in books if b.sheets[0].effective <= date] or [book.as_of(date)]
    output = views.prices_list(sheets, book, date, include_shut_down=include_shut_down)
    note_carried_forward(output.data, fmt)
    emit(output, fmt)


@prices.command("show")
@click.argument("model")
@today_option
@output_options
@click.pass_context
def prices_show(ctx, model, as_of, fmt):
    """Show one model's prices, lifecycle, limits and sources on a date.

    MODEL is a snapshot (gpt-3.5-turbo-0613), an alias (gpt-3.5-turbo, meaning the snapshot it
    pointed to on that date), a fine-tuned model name (ft:gpt-3.5-turbo-0613:acme::abc123), or
    any of them with its provider (azure/gpt-4.1-mini-2025-04-14). The output says whether the model
    could be used that day and whether, and by whom, a fine-tuning job could be started.

    \b
    Examples:
      costcalc prices show gpt-3.5-turbo --as-of 2023-09-01
      costcalc prices show gpt-4.1-mini --as-of 2027-02-01
      costcalc prices show gpt-4o-mini --format json
    """
    from . import views

    book = pricebook(ctx)
    date = on_date(as_of)
    sheet, price = book.model_on(model, date)
    output = views.price_show(price, sheet, model, book, date)
    note_carried_forward({**output.data, "as_of": date.isoformat()}, fmt)
    emit(output, fmt)


@prices.command("history")
@click.argument("model")
@today_option
@output_options
@click.pass_context
def prices_history(ctx, model, as_of, fmt):
    """Show how a model's prices changed: one row per price, from the sheet where it took effect.

    A name with a provider (azure/...) reads that provider's sheets. With --as-of, only the
    sheets in force up to that date (default: today).

    \b
    Examples:
      costcalc prices history gpt-3.5-turbo
      costcalc prices history gpt-3.5-turbo-0613 --format csv
      costcalc prices history azure/gpt-4.1-mini-2025-04-14
    """
    from . import views

    book = pricebook(ctx)
    date = on_date(as_of)
    entries = [e for e in book.history(model) if e.effective <= date]
    own = book.for_name(model)[0]
    if not entries:
        own.as_of(date)  # raises the "no sheet in force" error
    output = views.price_history(model, entries, forward=views.carried_forward(own, date), as_of=date)
    note_carried_forward(output.data, fmt)
    emit(output, fmt)


@prices.command("diff")
@click.argument("old", type=DATE)
@click.argument("new", type=DATE, required=False)
@today_option
@output_options
@click.pass_context
def prices_diff(ctx, old, new, as_of, fmt):
    """Show what changed between the sheets in force on two dates.

    NEW defaults to --as-of, which defaults to today.

    \b
    Examples:
      costcalc prices diff 2023-08-22 2023-11-06
      costcalc prices diff 2023-09-01 --as-of 2024-02-01 --format json
    """
    from . import views

    book = pricebook(ctx)
    date = new or on_date(as_of)
    output = views.sheet_diff(book.diff(book.as_of(old), book.as_of(date)),
                              forward=views.carried_forward(book, date))
    note_carried_forward({**output.data, "provider": book.provider, "as_of": date.isoformat()}, fmt)
    emit(output, fmt)


@prices.command("validate")
# A folder that is missing, or a file, is a problem of the folder (exit 1, and data with --format json).
@click.argument("directory", required=False, type=click.Path())
@output_options
@click.pass_context
def prices_validate(ctx, directory, fmt):
    """Check every price sheet in a folder and report every problem at once.

    DIRECTORY defaults to --pricing-dir, else the bundled sheets. Exit 1 if any sheet is invalid;
    with --format json the problems are printed as data ({"valid": false, "problems": [...]}).

    \b
    Examples:
      costcalc prices validate
      costcalc prices validate ./my-negotiated-prices --format json
    """
    from . import views
    from .errors import PricingError
    from .pricing import load_pricebook

    try:
        book = load_pricebook(directory) if directory else pricebook(ctx)
    except PricingError as exc:
        if fmt != "json":
            raise  # the one-line (or one-per-problem) error on stderr, as for every command
        # A script asked for data: the problems are the answer, on stdout, with the same exit code.
        emit(views.validation(exc), fmt)
        ctx.exit(exc.exit_code)
    emit(views.validation(book), fmt)


# --- estimate ----------------------------------------------------------------------------------


@cli.command()
@click.argument("model")
@click.option("--input-tokens", type=click.IntRange(0, MAX_TOKENS_PER_REQUEST), default=0, show_default=True,
              help="Prompt tokens per request (cached ones included).")
@click.option("--output-tokens", type=click.IntRange(0, MAX_TOKENS_PER_REQUEST), default=0, show_default=True,
              help="Completion tokens per request.")
@click.option("--cached-input-tokens", type=click.IntRange(0, MAX_TOKENS_PER_REQUEST), default=0, show_default=True,
              help="Of the prompt tokens, how many are served from the prompt cache.")
@click.option("--requests", type=click.IntRange(0, MAX_REQUESTS), default=1, show_default=True,
              help="Number of requests.")
@click.option("--fine-tuned", is_flag=True, help="Price the fine-tuned model (implied by an ft: name).")
@click.option("--batch", is_flag=True, help="Price through the Batch API.")
@click.option("--training-tokens", type=click.IntRange(0, MAX_TOKENS), default=None,
              help="Tokens in the training file, to add the fine-tuning fee (implies --fine-tuned).")
@click.option("--epochs", type=click.IntRange(1, MAX_EPOCHS), default=None,
              help="Training epochs (1-50). Default 3, OpenAI's target when a dataset is not given.")
@customer_option
@today_option
@output_options
@click.pass_context
def estimate(ctx, model, input_tokens, output_tokens, cached_input_tokens, requests, fine_tuned, batch,
             training_tokens, epochs, customer, as_of, fmt):
    """Estimate the cost of requests to a model, optionally with a fine-tuning fee.

    \b
    Examples:
      costcalc estimate gpt-3.5-turbo --input-tokens 800 --output-tokens 150 --requests 100000
      costcalc estimate gpt-3.5-turbo --fine-tuned --input-tokens 200 --output-tokens 150 \\
          --requests 100000 --training-tokens 100000 --epochs 3 --as-of 2023-09-01
      costcalc estimate gpt-4o-mini --batch --input-tokens 1000 --requests 50000 --format json
    """
    from . import views
    from .cost import Usage, usage_cost
    from .errors import UsageError
    from .pricing import split_fine_tuned
    from .training import bill_tokens, not_fine_tunable

    if cached_input_tokens > input_tokens:
        raise UsageError(f"--cached-input-tokens ({cached_input_tokens}) cannot exceed --input-tokens ({input_tokens})")
    if epochs is not None and training_tokens is None:
        raise UsageError("--epochs needs --training-tokens")
    fine_tuned = fine_tuned or split_fine_tuned(model)[1] or training_tokens is not None
    book = pricebook(ctx)
    as_of = on_date(as_of)  # today's prices unless a date is given, as the prices commands
    sheet, price = book.model_on(model, as_of)
    refusal = not_fine_tunable(model, price, sheet.revision, as_of) if fine_tuned else None
    if refusal is not None:  # the words dataset and compare use for a model that cannot be fine-tuned
        raise UsageError(refusal)
    usage = Usage(input_tokens * requests, output_tokens * requests, cached_input_tokens * requests)
    cost = usage_cost(price, usage, fine_tuned=fine_tuned, batch=batch)
    training = None
    if training_tokens is not None:
        training = bill_tokens(price, training_tokens, epochs or "auto")
    per_request = {"input": input_tokens, "cached_input": cached_input_tokens, "output": output_tokens}
    # Only a date asked for is priced as of a day; without --as-of the newest sheet is used as it is.
    forward = views.carried_forward(book.for_name(model)[0], as_of) if as_of is not None else None
    warning = training_closed(book, model, as_of, customer) if training is not None else None
    output = views.estimate(cost, requests, per_request, training, sheet, forward=forward, as_of=as_of,
                            training_warning=warning)
    note_carried_forward({**output.data, "provider": sheet.provider}, fmt)
    emit(output, fmt)


# --- dataset and tokens ------------------------------------------------------------------------


@cli.command()
@click.argument("file")
@click.option("--model", default="gpt-3.5-turbo", show_default=True,
              help="Model to fine-tune (snapshot, alias or ft: name): sets the tokenizer, the "
                   "per-example token limit and the training price.")
@click.option("--epochs", type=EPOCHS, default="auto", show_default=True,
              help="Training epochs, 1-50, or auto for the cookbook's default rule.")
@click.option("--strict", is_flag=True, help="Exit 1 when the file has any error (the report is still printed).")
@customer_option
@as_of_option
@output_options
@click.pass_context
def dataset(ctx, file, model, epochs, strict, customer, as_of, fmt):
    """Check a fine-tuning file, count its tokens and estimate the training fee.

    FILE is a JSONL file in the chat format (or prompt/completion for babbage-002 and
    davinci-002), or - for stdin. Every problem is reported by type with its first line numbers,
    and the scan goes on; the exit code is 0 unless --strict is given and there are errors, or the
    file cannot be read at all.

    \b
    Examples:
      costcalc dataset train.jsonl
      costcalc dataset train.jsonl --model gpt-4o-mini --epochs 3 --format json
      costcalc dataset train.jsonl --as-of 2023-09-01 --strict
      cat train.jsonl | costcalc dataset - --model babbage-002
    """
    from dataclasses import replace

    from . import views
    from .dataset import InvalidDatasetError, dataset_format, scan_dataset
    from .errors import UsageError
    from .progress import progress_bar
    from .training import not_fine_tunable

    book = pricebook(ctx)
    sheet, price = book.model_on(model, as_of)
    dataset_format(price)  # an embedding model is named as one
    refusal = not_fine_tunable(model, price, sheet.revision, as_of)
    if refusal is not None:  # the library still scans for it; a command that prices training refuses
        raise UsageError(refusal)
    # The file is still checked and counted for a model no job can start on (gpt-3.5-turbo after
    # its shutdown), but its fee is marked as one that cannot be paid.
    closed = training_closed(book, model, as_of, customer)

    def shown(report):
        return views.dataset_report(replace(report, warnings=(*report.warnings, closed)) if closed else report)

    bar = progress_bar()
    try:
        report = scan_dataset(file, model_price=price, epochs=epochs, strict=strict, progress=bar, sheet=sheet)
    except InvalidDatasetError as exc:
        emit(shown(exc.report), fmt)
        raise
    finally:
        if bar is not None:
            bar.close()
    emit(shown(report), fmt)


@cli.command()
@click.argument("text")
@click.option("--model", default="gpt-3.5-turbo", show_default=True,
              help="Model whose tokenizer to use (snapshot, alias or ft: name).")
@click.option("--text", "as_text", is_flag=True,
              help="Count TEXT itself, even when it names a file or looks like a path.")
@as_of_option
@output_options
@click.pass_context
def tokens(ctx, text, model, as_text, as_of, fmt):
    """Count the tokens of a text, a file, or a chat conversation given as JSON.

    TEXT is the text itself, the path of a file to read, or - for stdin. A TEXT that names no
    file but looks like a path (it has a / or ends in .jsonl, .json, .txt, .md, ...) is an error,
    so a typo is not counted as text: give --text to count it as text. A JSON list of messages,
    or an object with "messages" (and "tools" or "functions"), is counted as a conversation by
    the cookbook rule; anything else as plain text.

    \b
    Examples:
      costcalc tokens "How many tokens is this?"
      costcalc tokens prompt.txt --model gpt-4o
      costcalc tokens --text "see notes.txt"
      echo '[{"role": "user", "content": "Hi"}]' | costcalc tokens - --format json
    """
    from . import views
    from .tokens import count_input

    _, price = pricebook(ctx).model_on(model, as_of)
    emit(views.token_count(count_input(text if as_text else read_input(text), price)), fmt)


# What `costcalc tokens` takes for a file name rather than text when no such file exists.
FILE_SUFFIXES = frozenset({".jsonl", ".json", ".txt", ".md", ".csv", ".toml", ".yaml", ".yml", ".gz"})


def read_input(argument: str) -> str:
    """What `costcalc tokens ARG` counts: stdin for "-", the file's text for a path that exists,
    otherwise the argument itself, unless it looks like a path (a typo of a file name is an error,
    not four tokens of text)."""
    from .errors import DatasetError
    from .jsonl import STDIN, read_text

    if argument == STDIN:
        return read_text(STDIN)
    if not argument.strip():  # Path("") is the working directory: an empty text is 0 tokens, not a folder
        return argument
    path = Path(argument)
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except (OSError, ValueError):  # too long for a file name, or a NUL in it: text
        return argument
    hint = "(to count text that looks like a path, pass it with --text)"
    if is_file:
        return read_text(path, argument)
    if is_dir:
        raise DatasetError(f"{argument}: is a folder, not a file {hint}")
    if path.is_symlink():  # a link that leads nowhere (dangling, or a loop) is a file name, not text
        raise DatasetError(f"{argument}: cannot read: the link leads to no file")
    if looks_like_path(argument):
        raise DatasetError(f"{argument}: no such file {hint}")
    return argument


def looks_like_path(text: str) -> bool:
    """A file name rather than text: one line that ends in a file suffix (.jsonl, .txt, ...), or
    holds a path separator and no space ("docs/prompt"; "and/or" too, but not "is 1/2 a half?").
    JSON (a message list typed inline) is text."""
    if "\n" in text or text.lstrip().startswith(("{", "[")):
        return False
    if Path(text).suffix.lower() in FILE_SUFFIXES:
        return True
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(sep in text for sep in separators) and not any(c.isspace() for c in text)


# --- compare and scenario ------------------------------------------------------------------------


@cli.command("compare")
@click.argument("scenario_file", metavar="[SCENARIO]", required=False)
@scenario_options
@click.option("--monthly", is_flag=True, help="Add the month-by-month table (with --format csv: print only it).")
@click.option("--currency", metavar="CODE", help="Show amounts in this currency (needs --fx-rate).")
@click.option("--fx-rate", metavar="RATE", help="Units of --currency per 1 USD, e.g. 0.92.")
@click.option("--budget", metavar="USD",
              help="Exit 3 if the projected total of the cheapest strategy (or --budget-strategy) is above this.")
@click.option("--budget-strategy", metavar="NAME", help="The strategy --budget applies to (default: the cheapest).")
@output_options
@click.pass_context
def compare_command(ctx, scenario_file, dataset, settings, monthly, currency, fx_rate, budget, budget_strategy, fmt,
                    **traffic):
    """Compare the base model, fine-tuning and the alternatives, month by month.

    SCENARIO is a scenario file (write one with `costcalc scenario init`); without one, the
    bundled example runs: a support bot on GPT-3.5 Turbo from September 2023, with its own
    example training file. Flags override the file's values. Prints the answer in one sentence,
    a summary per strategy (total, per 1K requests, vs the baseline, break-even) and the
    assumptions (price sheets, traffic, tokens, training). Exit 3 when --budget is exceeded.

    \b
    Examples:
      costcalc compare
      costcalc compare --example 2026
      costcalc compare --requests-per-month 20000 --monthly
      costcalc compare scenario.toml --dataset train.jsonl --format json
      costcalc compare scenario.toml --set 'strategies."Fine-tuned GPT-3.5".prompt_tokens=300'
      costcalc compare --currency EUR --fx-rate 0.92
      costcalc compare scenario.toml --budget 5000 --format json > comparison.json
    """
    from . import views
    from .compare import compare
    from .errors import UsageError
    from .render import format_usd
    from .scenario import no_strategy_message, parse_amount

    display = views.DisplayCurrency.parse(currency, fx_rate, origins=("--currency", "--fx-rate"))
    budget_usd = parse_amount(budget, "--budget") if budget is not None else None
    if budget_strategy and budget_usd is None:
        raise UsageError("--budget-strategy needs --budget")

    scenario = scenario_from_flags(scenario_file, dataset, settings, traffic)
    scenario, measured, _ = measured_traffic(
        ctx, scenario, traffic.get("usage_files") or (), traffic.get("fit_months") or 3, traffic.get("usage_model"),
        lambda before: scenario_from_flags(scenario_file, dataset, settings, traffic, before))
    if budget_strategy and budget_strategy not in scenario.names():
        raise UsageError("--budget-strategy: " + no_strategy_message(budget_strategy, scenario.names(), "the scenario"))
    result = compare(scenario, pricebook(ctx))
    check = result.check_budget(budget_usd, budget_strategy) if budget_usd is not None else None
    output = views.comparison(result, monthly=monthly, currency=display, budget=check, measured=measured)
    if fmt == "csv" and monthly:  # CSV is one table: the month-by-month one, for spreadsheets
        output = Output(output.data, [output.table("monthly")])
    emit(output, fmt)
    if check is not None and check.over:
        raise failure("over budget: " + check.describe(display.format if display else format_usd), OVER_BUDGET)


@cli.group(cls=CostCalcGroup)
def scenario():
    """Write scenario files for `costcalc compare`.

    \b
    Examples:
      costcalc scenario init
      costcalc scenario init --preset large big-bot.toml
    """


@scenario.command("init")
@click.argument("path", default="scenario.toml", required=False)
@click.option("--preset", type=click.Choice(("small", "medium", "large", "2026")), default="medium", show_default=True,
              help="Traffic level to start from: 10,000, 100,000 or 1,000,000 requests a month (the 2023 "
                   "GPT-3.5 Turbo question), or 2026: a team deciding in December 2026.")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def scenario_init(path, preset, force):
    """Write a scenario to edit, with a comment giving the unit and meaning of every key.

    PATH defaults to scenario.toml; - prints the scenario instead. The small, medium and large
    scenarios compare base GPT-3.5 Turbo (the baseline), fine-tuned GPT-3.5 Turbo, GPT-4 and
    retrieval from 2023; 2026 compares fine-tuning gpt-4.1-mini at OpenAI or on Azure, an open model
    on Azure, newer base models and retrieval, from 2026-12.

    \b
    Examples:
      costcalc scenario init
      costcalc scenario init --preset small my-bot.toml
      costcalc scenario init --preset large - | less
    """
    from .errors import UsageError
    from .scenario import preset_text, write_scenario

    if path == "-":
        click.echo(preset_text(preset), nl=False)
        return
    if Path(path).exists() and not force:
        raise UsageError(f"{Path(path)}: already exists (give another path, or --force to overwrite it)")
    written = write_scenario(path, preset, force=force)
    click.echo(f"Wrote {written} ({preset} preset). Edit it, then run: costcalc compare {written}")


# --- usage ---------------------------------------------------------------------------------------


@cli.command("usage")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("-o", "--output", "chart", type=click.Path(dir_okay=False), metavar="PATH.png",
              help="Also draw the monthly cost by model as a PNG.")
@output_options
@click.pass_context
def usage_command(ctx, files, chart, fmt):
    """Replay what your traffic cost, month by month, at the prices in force each day.

    FILE... are OpenAI Usage API pages (completions, saved as JSON, one page or several per file),
    Costs API pages (what OpenAI billed: shown beside the replay, with the difference per month and
    the line items that differ), JSONL logs of API responses (chat completions or Responses API
    objects, one per line) and CSV exports with the columns date (or month), model, requests,
    input_tokens, cached_input_tokens, output_tokens, batch. A model no sheet prices is listed with
    its tokens, never counted as $0; a malformed line is reported with its file and line while the
    rest is read.

    \b
    Examples:
      costcalc usage usage-2026-*.json costs-2026.json
      costcalc usage responses.jsonl --format json
      costcalc usage gateway-export.csv -o monthly-cost.png
    """
    from . import views
    from .errors import UsageError
    from .progress import progress_bar
    from .usage import read_usage

    if chart is not None and Path(chart).suffix.lower() != ".png":
        raise UsageError(f"-o {chart}: the chart is a PNG: give a path ending in .png")
    history = read_usage(files, book=pricebook(ctx), progress=progress_bar("reading usage"))
    emit(views.usage(history), fmt)
    if fmt == "csv":  # a CSV holds the rows only: the problems go to stderr, where JSON has them as data
        for line in views.usage_problems(history):
            click.echo(line, err=True)
    if chart is not None:
        from . import charts

        written = charts.save_png(charts.plot_usage(history), chart)
        click.echo(f"Wrote {written}", err=fmt in ("json", "csv"))
    if not history.rows and not history.unpriced:
        raise UsageError("no usage could be read from " + ", ".join(files) + (
            ": see the problems above" if history.problems and fmt != "json" else ""))


# --- report --------------------------------------------------------------------------------------


@cli.command("report")
@click.argument("scenario_file", metavar="[SCENARIO]", required=False)
@scenario_options
@click.option("-o", "--output", type=click.Path(), metavar="PATH",
              help="File to write; its suffix picks the format: .pdf (the full report), .png (the "
                   "cumulative-cost chart) or .md (Markdown, with its PNGs beside it). Default: "
                   "reports/costcalc-report.pdf and reports/costcalc-report.md.")
@click.option("--all-charts", is_flag=True, help="Write every chart as a PNG into the folder -o names.")
@click.option("--dpi", type=click.IntRange(50, 600), default=150, show_default=True,
              help="Resolution of the PNGs (the PDF is vector).")
@click.pass_context
def report_command(ctx, scenario_file, output, all_charts, dpi, dataset, settings, **traffic):
    """Write the comparison as a PDF report, PNG charts or a Markdown summary.

    SCENARIO and the overrides are those of `costcalc compare` (the bundled example without a
    SCENARIO). Prints the answer in one sentence, the summary per strategy and every file
    written. Without -o, writes reports/costcalc-report.pdf, a Markdown summary and every chart
    as PNG. Files are replaced
    atomically, all once everything is drawn (a failed or interrupted run leaves them as they
    were), and the same input gives a byte-identical PDF.

    \b
    Examples:
      costcalc report
      costcalc report scenario.toml --dataset train.jsonl -o budget.pdf
      costcalc report -o cumulative.png --requests-per-month 20000
      costcalc report -o charts/ --all-charts
      costcalc report -o summary.md
    """
    from . import report
    from .errors import UsageError
    from .progress import progress_bar

    # The output is checked before the comparison runs, which can take a while (a training file scan).
    if all_charts and output is None:
        raise UsageError("--all-charts needs -o FOLDER")
    if all_charts and not report.is_chart_folder(output):
        raise UsageError(f"--all-charts writes a folder of PNGs: give a folder, not {Path(output)}")
    if output is not None and not all_charts and Path(output).suffix.lower() not in report.SUFFIXES:
        raise UsageError(f"{Path(output)}: the output's suffix picks the format: .pdf, .png or .md "
                         "(or --all-charts and a folder)")
    scenario = scenario_from_flags(scenario_file, dataset, settings, traffic)
    scenario, measured, past = measured_traffic(
        ctx, scenario, traffic.get("usage_files") or (), traffic.get("fit_months") or 3, traffic.get("usage_model"),
        lambda before: scenario_from_flags(scenario_file, dataset, settings, traffic, before))
    # Progress on stderr only when it is a terminal: a step line, and the bar of a long dataset scan.
    bar = progress_bar("scanning the training file")
    say = None
    if bar is not None:
        def say(message):
            click.echo(f"\r{message}…\x1b[K", err=True, nl=False)
    targets = [output] if output is not None else report.default_paths()
    try:
        # A forked copy imports matplotlib while the comparison runs, then writes the files.
        with report.writer_ahead(targets, all_charts=all_charts, dpi=dpi, progress=say) as write:
            result = report.report_for(scenario, pricebook(ctx), progress=say, scan_progress=bar,
                                       measured=measured, history=past)
            # The summary table's title is the one-sentence answer. Made while the forked copy
            # still imports matplotlib, printed once the files are written.
            summary = render(Output({}, [result.output.table("summary")]), "table")
            written = write(result)
    finally:
        if bar is not None:
            bar.close()
            click.echo("\r\x1b[K", err=True, nl=False)
    click.echo(summary)
    for path in written:
        click.echo(f"Wrote {path}")


def main() -> None:
    cli(prog_name="costcalc")


if __name__ == "__main__":  # pragma: no cover
    main()
