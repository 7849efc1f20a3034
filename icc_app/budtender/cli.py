"""Command line of budtender (`python -m icc_app.cli budtender ...`)."""

import typer

app = typer.Typer(no_args_is_help=True, help="IVB, the virtual budtender.")
