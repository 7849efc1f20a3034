"""Reflex configuration. Everything deployment-specific comes from icc_app.settings (the environment)."""

import reflex as rx

from icc_app.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="icc_app",
    db_url=settings.database_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Never "*": with credentials, Starlette would echo any Origin. PUBLIC_URL's origin plus CORS_ORIGINS.
    cors_allowed_origins=settings.allowed_origins,
    disable_plugins=[rx.plugins.SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                appearance="inherit", accent_color="grass", gray_color="sage", radius="medium", has_background=True
            )
        )
    ],
)
