"""Command line of operations (`python -m icc_app.cli operations ...`)."""

import typer

app = typer.Typer(no_args_is_help=True, help="Operations suite: forecasts, reorder, pricing.")
