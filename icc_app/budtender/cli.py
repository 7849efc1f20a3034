"""Command line of budtender (`python -m icc_app.cli budtender ...`)."""

from __future__ import annotations

from pathlib import Path

import typer

from icc_app.settings import PROJECT_ROOT

app = typer.Typer(no_args_is_help=True, help="IVB, the virtual budtender.")
DATA = PROJECT_ROOT.parent / "shared" / "data"


@app.command("import-strains")
def import_strains(effects_csv: Path = typer.Option(DATA / "strains" / "leafly-strain-effects.csv"),
                   reviews: Path = typer.Option(DATA / "reviews" / "leafly-reviews.csv.gz"),
                   terpenes: Path = typer.Option(DATA / "terpenes")) -> None:
    """Load the strain reference: effect shares with their review counts, and lab terpene means."""
    from icc_app.budtender import strains
    from icc_app.core.db import unit_of_work

    if not effects_csv.exists():
        raise typer.BadParameter(f"{effects_csv} not found", param_hint="--effects-csv")
    with unit_of_work() as session:
        count = strains.import_reference(session, effects_csv=effects_csv, reviews_gz=reviews, terpenes_dir=terpenes)
    typer.echo(f"{count:,} strains imported.")


@app.command("retrain")
def retrain(reviews: Path = typer.Option(DATA / "reviews" / "leafly-reviews.csv.gz",
                                         help="Reference reviews to warm-start with (skipped when absent)")) -> None:
    """Train a model now, evaluate it against the serving one, and promote it only if it is no worse."""
    from icc_app.budtender import training
    from icc_app.core.db import unit_of_work

    with unit_of_work() as session:
        row = training.retrain(session, reference_reviews=reviews if reviews.exists() else None)
        typer.echo(f"Model {row.version}: {row.status}. Offline {row.metrics}; serving model {row.compared_to or '-'}.")
