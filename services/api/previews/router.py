"""HR previews any email kind in any language, rendered from the kind's sample data."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from services.api.deps import HR
from services.api.errors import NotFound
from services.api.openapi import problems, text
from shared.emails.kinds import KINDS
from shared.emails.texts import render
from shared.i18n import Language

router = APIRouter(prefix="/email-previews", tags=["emails"])


class EmailKindOut(BaseModel):
    kind: str
    description: str
    required: list[str]
    optional: list[str]


class PreviewOut(BaseModel):
    kind: str
    language: str
    subject: str
    text: str
    html: str


@router.get("", response_model=dict[str, list[EmailKindOut]])
def list_kinds(_: HR) -> object:
    """Every email kind Recrue sends, with the data each one takes."""
    return {
        "items": [
            {
                "kind": kind.name,
                "description": kind.description,
                "required": list(kind.required),
                "optional": list(kind.optional),
            }
            for kind in KINDS.values()
        ]
    }


@router.get(
    "/{kind}",
    response_model=PreviewOut,
    responses={
        200: {
            "description": "The email as JSON, or its HTML as a page (`format=html`)",
            "content": text("text/html"),
        },
        **problems(404, not_found="No such email kind (`kinds` lists them)"),
    },
)
def preview(
    kind: str,
    _: HR,
    language: Annotated[Language, Query()] = "fr",
    format: Annotated[Literal["json", "html"], Query()] = "json",
) -> object:
    """The email of `kind` in `language`, filled with sample data (format=html: as a page)."""
    if kind not in KINDS:
        raise NotFound(f"no email kind '{kind}'", kinds=sorted(KINDS))
    subject, text, html = render(kind, language, dict(KINDS[kind].sample))
    if format == "html":
        return HTMLResponse(html)
    return {"kind": kind, "language": language, "subject": subject, "text": text, "html": html}
