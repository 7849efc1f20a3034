"""The Reflex app: theme, every product's pages, and the REST API mounted on the same server."""

import reflex as rx

from icc_app import api
from icc_app.core import web_security
from icc_app.exchange.ui import dispute_admin, marketplace, negotiation, order_pages, selling
from icc_app.identity.ui import admin as identity_admin
from icc_app.identity.ui import consent as identity_consent
from icc_app.identity.ui import onboarding as identity_onboarding
from icc_app.identity.ui import pages as identity_pages
from icc_app.identity.ui import security as identity_security
from icc_app.identity.ui import team as identity_team
from icc_app.identity.web_session import router as session_router
from icc_app.integrations.metrc.ui import pages as metrc_pages
from icc_app.integrations.partners.ui import pages as partner_pages
from icc_app.integrations.ui import pages as integrations_pages
from icc_app.integrations.partners.ui import pages as partner_api_pages
from icc_app.loyalty.ui import pages as loyalty_pages
from icc_app.operations.ui import pages as operations_pages
from icc_app.budtender.ui import pages as budtender_pages
from icc_app.labs import ui as labs_pages
from icc_app.maps import seo as maps_seo
from icc_app.maps.ui import console as maps_console
from icc_app.maps.ui import moderation as maps_moderation
from icc_app.maps.ui import pages as maps_pages
from icc_app.quality.ui import pages as quality_pages
from icc_app.ui import pages as platform_pages


def _backend():
    backend = api.build()
    backend.include_router(session_router)  # /auth/session and /auth/signout own the HttpOnly session cookie
    return backend


app = rx.App(
    # The REST API, the middleware that gives public dispensary pages their own title and description, and
    # (outermost) the security headers on every response.
    api_transformer=[_backend(), maps_seo.middleware, web_security.middleware],
    head_components=[rx.el.meta(name="color-scheme", content="light dark")],
    stylesheets=["/maps.css"],
)

platform_pages.register(app)
identity_pages.register(app)
identity_onboarding.register(app)
identity_team.register(app)
identity_security.register(app)
identity_admin.register(app)
identity_consent.register(app)
labs_pages.register(app)
for exchange_module in (marketplace, selling, negotiation, order_pages, dispute_admin):
    exchange_module.register(app)
quality_pages.register(app)
maps_pages.register(app)
maps_console.register(app)
maps_moderation.register(app)
integrations_pages.register(app)
partner_pages.register(app)
metrc_pages.register(app)
partner_api_pages.register(app)
operations_pages.register(app)
loyalty_pages.register(app)
budtender_pages.register(app)
