"""Pages of budtender."""

import reflex as rx


def register(app: rx.App) -> None:
    """Adds this product's pages to the app."""
