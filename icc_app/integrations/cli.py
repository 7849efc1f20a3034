"""Command line of integrations (`python -m icc_app.cli integrations ...`)."""

import typer

app = typer.Typer(no_args_is_help=True, help="POS and seed-to-sale connections.")
