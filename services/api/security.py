"""Request checks and response headers that apply to every route (plain ASGI middlewares)."""

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.errors import problem


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
                    {
                        "loc": ["query", name],
                        "msg": "must not contain a NUL character",
                        "type": "nul_character",
                    }
                    for name in shown
                ]
                detail = "invalid " + ", ".join(shown)
                response = problem(
                    422, "validation-error", "Invalid request", detail, errors=errors
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
