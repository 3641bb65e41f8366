"""`/c/{token}`: the pages candidates reach from their emails, without an account."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import Field

from services.api.candidate_pages import service
from services.api.candidate_pages.page import Page, browser_language, render
from services.api.deps import SessionDep
from services.api.openapi import text
from services.api.schemas import PlainText
from shared import links

router = APIRouter(prefix="/c", tags=["candidate pages"])
# Every answer of a page is a page (a form's invalid field, a body over its limit or of another
# type are problem+json, see services.api.openapi).
PAGES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": text("text/html")}
    for status, description in {
        200: "The page",
        400: "A link for another purpose, or an answer the page does not offer",
        404: "Not a link we sent (tampered, or unknown)",
        409: "What the page would do is no longer possible (a full slot, a closed step)",
        410: "The link expired or was revoked",
        503: "The database did not answer: try again later (`Retry-After`)",
    }.items()
}
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _html(page: Page, request: Request | None = None) -> HTMLResponse:
    if request is not None:  # in case the commit fails after: see `unavailable`
        request.state.page_language = page.language
    return HTMLResponse(render(page), status_code=page.status, headers=NO_STORE)


def unavailable(request: Request) -> HTMLResponse:
    """A candidate page's answer when the database does not answer (errors.install calls it):
    an HTML page in the candidate's language if it was found before, else the browser's."""
    language = getattr(request.state, "page_language", None)
    language = language or browser_language(request.headers.get("accept-language"))
    response = _html(service.unavailable_page(language))
    response.headers["Retry-After"] = "5"
    return response


@router.get(
    "/{signed}",
    response_class=HTMLResponse,
    responses=PAGES,
    description="A candidate's page, reached from an email; a GET changes nothing.",
)
def show(
    request: Request,
    signed: str,
    session: SessionDep,
    accept_language: Annotated[str | None, Header()] = None,
    answer: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    try:
        token = links.resolve(session=session, signed=signed)
    except links.LinkProblem as problem:
        return _html(service.problem_page(problem.reason, browser_language(accept_language)))
    return _html(service.show(session=session, token=token, answer=answer), request)


class PageForm(PlainText):
    """What the pages' forms post (each page uses some of these fields)."""

    action: str = Field(default="", max_length=50)
    answer: str = Field(default="", max_length=20)
    slot_id: str = Field(default="", max_length=50)
    cover_letter: str = Field(default="", max_length=20_000)
    summary: str = Field(default="", max_length=5000)
    phone: str = Field(default="", max_length=50)


@router.post(
    "/{signed}",
    response_class=HTMLResponse,
    responses=PAGES,
    description="What the page's form does, once: repeating it shows what was done.",
)
def act(
    request: Request,
    signed: str,
    data: Annotated[PageForm, Form()],
    session: SessionDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    form = data.model_dump()
    try:
        token = links.resolve(session=session, signed=signed, for_update=True)
    except links.LinkProblem as problem:
        return _html(service.problem_page(problem.reason, browser_language(accept_language)))
    return _html(service.act(session=session, token=token, form=form), request)
