"""Command line of loyalty (`python -m icc_app.cli loyalty ...`)."""

import typer

app = typer.Typer(no_args_is_help=True, help="Loyalty and CRM.")
