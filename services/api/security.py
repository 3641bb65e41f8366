"""Request checks and response headers that apply to every route (plain ASGI middlewares)."""

import html
from pathlib import Path
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import field_error, invalid


class RejectNulInQuery:
    """A NUL character in a query parameter is a 422 naming it: PostgreSQL cannot compare text
    holding one (request bodies are checked by their models, see `schemas.plain_text`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"%00" in query or b"\x00" in query:
            # decoded as Starlette decodes it
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            names = sorted({name for name, value in pairs if "\x00" in name + value})
            if names:
                shown = [name.replace("\x00", "\\0") for name in names]
                errors = [
                    field_error(f"query.{name}", "must not contain a NUL character")
                    for name in shown
                ]
                await invalid(errors)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# Candidate pages, the short-list report and every other answer: no script, no remote
# resource, inline <style> only (the pages and the report have one), forms posting to us only,
# never framed.
STRICT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# /docs: Swagger UI's own script and stylesheet, served from here (see `docs_routes`); its
# icons are data: URIs and it fetches /openapi.json and the routes one tries out.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Add a Content-Security-Policy, `X-Content-Type-Options: nosniff`, `X-Frame-Options`
    and `Referrer-Policy` to every answer that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        csp = DOCS_CSP if path == "/docs" or path.startswith("/docs/") else STRICT_CSP
        added = ((b"content-security-policy", csp.encode()), *_COMMON)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


# Swagger UI, from the swagger-ui-bundle-v2 package; the page has no inline script, so that
# DOCS_CSP can forbid them.
DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
DOCS_INIT = """\
const element = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: element.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def docs_routes(app: FastAPI) -> None:
    """/docs: Swagger UI with its scripts and stylesheet served here, never from a CDN."""
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    folder = Path(str(swagger_ui_path))
    cache = {"Cache-Control": "public, max-age=86400"}

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        assets = f"{root}/docs/assets"
        openapi = html.escape(f"{root}{app.openapi_url}")
        return HTMLResponse(
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(app.title)} - API docs</title>\n"
            f'<link rel="stylesheet" href="{assets}/swagger-ui.css">\n'
            f'<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">\n'
            "</head>\n<body>\n"
            f'<div id="swagger-ui" data-openapi-url="{openapi}"></div>\n'
            f'<script src="{assets}/swagger-ui-bundle.js"></script>\n'
            f'<script src="{assets}/init.js"></script>\n'
            "</body>\n</html>\n"
        )

    @app.get("/docs/assets/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(DOCS_INIT, media_type="text/javascript; charset=utf-8", headers=cache)

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        if name not in DOCS_ASSETS:
            raise StarletteHTTPException(404)
        return FileResponse(folder / name, media_type=DOCS_ASSETS[name], headers=cache)
