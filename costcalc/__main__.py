"""`python -m costcalc` runs the CLI."""

from .cli import main

main()
