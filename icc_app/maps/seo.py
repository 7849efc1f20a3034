"""Crawlable public pages: the HTML of a dispensary or product page leaves the server with its own title,
description and canonical address (the frontend is a single-page app, so this middleware writes them into the
page shell), and /sitemap.xml lists every public page."""

from __future__ import annotations

import html
import re
from xml.sax.saxutils import escape

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response
from sqlmodel import Session

from icc_app.core.db import unit_of_work
from icc_app.core.errors import NotFound
from icc_app.maps import catalog, service
from icc_app.settings import get_settings

PAGE = re.compile(r"^/dispensaries/([a-z]{2})/([a-z0-9-]+)/([a-z0-9-]+)(?:/([a-z0-9-]+))?/?$")
router = APIRouter(include_in_schema=False)


def page_meta(session: Session, path: str) -> dict[str, str] | None:
    """{title, description, canonical} of a public dispensary or product page; None for any other path."""
    match = PAGE.match(path)
    if not match:
        return None
    state, _, slug, product_segment = match.groups()
    dispensary = service.by_slug(session, state=state, slug=slug)
    if dispensary is None:
        return None
    name, city = dispensary.dba or dispensary.name, (dispensary.city or "").title()
    where = ", ".join(p for p in (city, dispensary.state) if p)
    if product_segment:
        item_id = catalog.product_id_from(product_segment)
        try:
            listing, owner = catalog.product(session, item_id) if item_id else (None, None)
        except NotFound:
            return None
        if owner is None or owner.id != dispensary.id:
            return None
        item = listing.item
        potency = f", THC {item.thc_min:g}{item.thc_unit}" if item.thc_min is not None else ""
        price = f" from ${item.price:,.2f}" if item.price is not None else ""
        return {"title": f"{item.name} at {name} ({where}) | ICC Maps",
                "description": f"{item.name}{' by ' + item.brand if item.brand else ''}: "
                               f"{item.category.replace('_', ' ')}"
                               f"{potency}{price}, in stock at {name}, {where}. Terpenes, effects and reviews.",
                "canonical": catalog.product_path(dispensary, item)}
    address = ", ".join(p for p in (dispensary.street, city, dispensary.state) if p)
    return {"title": f"{name}: dispensary in {where} | ICC Maps",
            "description": f"{name}, licensed dispensary ({dispensary.state} {dispensary.license_number}) at {address}."
                           " Live menu, hours, reviews and effects.",
            "canonical": service.page_path(dispensary)}


def rewrite_head(document: str, meta: dict[str, str], base_url: str) -> str:
    """Put the page's own title, description and canonical link into the HTML shell."""
    title, description = html.escape(meta["title"]), html.escape(meta["description"], quote=True)
    canonical = html.escape(base_url.rstrip("/") + meta["canonical"], quote=True)
    tags = (f'<meta name="description" content="{description}"/>'
            f'<meta property="og:title" content="{title}"/><meta property="og:description" content="{description}"/>'
            f'<link rel="canonical" href="{canonical}"/>')
    document = re.sub(r'<meta name="description"[^>]*>', "", document)
    if re.search(r"<title>.*?</title>", document, flags=re.S):
        return re.sub(r"<title>.*?</title>", lambda _: f"<title>{title}</title>{tags}", document, count=1, flags=re.S)
    return document.replace("</head>", f"<title>{title}</title>{tags}</head>", 1)


def middleware(app):
    """ASGI middleware (a Reflex api_transformer) that writes each public page's head on its way out."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET" or not PAGE.match(scope.get("path", "")):
            return await app(scope, receive, send)
        # Ask for the body as bytes: a server offering `pathsend` would otherwise get a file path to send.
        extensions = {k: v for k, v in (scope.get("extensions") or {}).items() if k != "http.response.pathsend"}
        # and uncompressed, so that the head can be rewritten (the pages are small; a proxy compresses).
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]
        scope = {**scope, "extensions": extensions, "headers": headers}
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            content_type = dict(start.get("headers", [])).get(b"content-type", b"")
            encoded = any(k.lower() == b"content-encoding" for k, _ in headers)
            if start.get("status") == 200 and b"text/html" in content_type and not encoded:
                with unit_of_work() as session:
                    meta = page_meta(session, scope["path"])
                if meta:
                    body = rewrite_head(body.decode("utf-8", "replace"), meta, get_settings().public_url).encode()
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


@router.get("/sitemap.xml")
def sitemap() -> Response:
    base = get_settings().public_url.rstrip("/")
    with unit_of_work() as session:
        paths = catalog.sitemap_paths(session)
    urls = [f"<url><loc>{escape(base + '/dispensaries')}</loc></url>"] + [
        f"<url><loc>{escape(base + path)}</loc><lastmod>{modified:%Y-%m-%d}</lastmod></url>"
        for path, modified in paths]
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(urls) + "</urlset>")
    return Response(body, media_type="application/xml")


@router.get("/robots.txt")
def robots() -> PlainTextResponse:
    base = get_settings().public_url.rstrip("/")
    return PlainTextResponse(f"User-agent: *\nAllow: /dispensaries\nDisallow: /api/\nDisallow: /admin/\n"
                             f"Sitemap: {base}/sitemap.xml\n")

