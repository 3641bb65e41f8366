"""Request bodies are limited while they stream in, before anything buffers or authenticates.

The outermost middleware: a declared Content-Length over the limit is answered 413 at once,
without reading; a chunked (or understated) body is counted as the server hands it over, and
cut off at the limit. Limits per route class:
- uploads (`POST /api/v1/applications/{id}/cv`, `POST /api/v1/dossiers/{id}/attachments`, and
  the candidate pages' forms, `POST /c/{token}`: the update page carries the document HR asked
  for): MAX_UPLOAD_MB, plus a little for the multipart framing;
- everything else (JSON bodies): MAX_BODY_KB.
"""

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import problem
from shared.settings import get_settings

UPLOADS = re.compile(
    r"^(?:/api/v1/(?:applications/[^/]+/cv|dossiers/[^/]+/attachments)|/c/[^/]+)/?$"
)
MULTIPART_FRAMING = 64 * 1024  # boundaries and part headers around the file


class _TooLarge(Exception):
    """The body went past its limit (raised into whoever was reading it)."""


def limit_for(path: str) -> tuple[int, str]:
    """The largest body accepted on `path`, in bytes, and how to say it."""
    settings = get_settings()
    if UPLOADS.match(path):
        size = int(settings.max_upload_mb * 1024 * 1024) + MULTIPART_FRAMING
        return size, f"files are limited to {settings.max_upload_mb:g} MB"
    return settings.max_body_kb * 1024, f"request bodies are limited to {settings.max_body_kb} KB"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """Answer 413 (problem+json) to a body over its route's limit, reading no more of it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, detail = limit_for(scope["path"])
        too_large = problem("too-large", detail)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await too_large(scope, receive, send)
            return
        received = 0
        exceeded = started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if exceeded:  # what the app answers to a body cut short: the 413 goes instead
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await too_large(scope, receive, send)
