"""Each API's Swagger UI page (``/docs``), where a partner may type its secret to try the API.

FastAPI's own page loads the newest Swagger UI 5 from a CDN, whatever was published there last. Here the
version is pinned and the browser checks each file against its integrity hash (computed from npm's
swagger-ui-dist tarball, which the CDN serves byte for byte), so a file changed on the CDN is refused,
not run. The page's Content-Security-Policy lets it run nothing but that script and its own start, send
the specification and the tried requests nowhere but this server, and be framed by no other site.
Swagger UI's validator badge, which would send the document's URL to validator.swagger.io, is off.
"""

from __future__ import annotations

import base64
import hashlib
import html

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

DOCS_PATH = "/docs"
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.36.0"
_SCRIPT_INTEGRITY = "sha384-fUpRgC19yPykTqzdrUbdAg8NTiu16NEKf9U12J+IJWCg8/1mEI8f2+PEIz60Wyd+"
_STYLE_INTEGRITY = "sha384-z/AtSaOHGn5MJ5auAHXUypohywlIWLBZo1jeGmhdpVIbCnFhxAH92cwdV41oyINc"

# The document is named relative to the page (<prefix>/docs -> <prefix>/openapi.json), so that the page
# works behind a proxy that serves the API under a path of its own.
_START = (
    'SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", layout: "BaseLayout", deepLinking: true,'
    " showExtensions: true, showCommonExtensions: true, validatorUrl: null,"
    " presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]});"
)
_START_HASH = base64.b64encode(hashlib.sha256(_START.encode()).digest()).decode()

# Swagger UI styles its elements inline ('unsafe-inline' for styles alone) and draws icons from data: URLs.
CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src {SWAGGER_UI}/swagger-ui-bundle.js 'sha256-{_START_HASH}'; "
    f"style-src {SWAGGER_UI}/swagger-ui.css 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def docs_page(title: str) -> HTMLResponse:
    page = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="referrer" content="no-referrer">
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css" integrity="{_STYLE_INTEGRITY}" crossorigin="anonymous">
<title>{html.escape(title)} - Swagger UI</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js" integrity="{_SCRIPT_INTEGRITY}" crossorigin="anonymous"></script>
<script>{_START}</script>
</body>
</html>
"""
    return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def serve_docs_page(app: FastAPI) -> None:
    """The Swagger UI page at DOCS_PATH (the app is made with ``docs_url=None``: FastAPI's page is not served)."""
    title = app.title

    async def swagger_ui(request: Request) -> Response:
        return docs_page(title)

    app.add_route(DOCS_PATH, swagger_ui, include_in_schema=False)  # a plain route, as FastAPI adds its page
