"""`/c/{token}`: the pages candidates reach from their emails, without an account."""

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import Field
from sqlalchemy.orm import Session

from services.api.candidate_pages import privacy_pages, service
from services.api.candidate_pages.page import Page, browser_language, render
from services.api.deps import SessionDep
from services.api.openapi import text
from services.api.schemas import PlainText
from shared import links
from shared.models import Candidate

router = APIRouter(prefix="/c", tags=["candidate pages"])
# The accessibility statement: a page of the site, not of a link (every page's footer names it).
statement_router = APIRouter(tags=["candidate pages"])
# Every answer of a page is a page (a form's invalid field, a body over its limit or of another
# type are problem+json, see services.api.openapi).
PAGES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": text("text/html")}
    for status, description in {
        200: "The page",
        400: "A link for another purpose, an answer the page does not offer, or a file it "
        "cannot take (its type, its size: MAX_UPLOAD_MB)",
        404: "Not a link we sent (tampered, or unknown)",
        409: "What the page would do is no longer possible (a full slot, a closed step)",
        410: "The link expired or was revoked",
        503: "The database did not answer: try again later (`Retry-After`)",
    }.items()
}
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _html(page: Page, request: Request | None = None, signed: str = "") -> HTMLResponse:
    if request is not None:  # in case the commit fails after: see `unavailable`
        request.state.page_language = page.language
    if page.context.get("calendar"):  # the link to the calendar file, relative to the page
        page.context["calendar"] = f"{signed}/calendar.ics"
    return HTMLResponse(render(page), status_code=page.status, headers=NO_STORE)


def unavailable(request: Request) -> HTMLResponse:
    """A candidate page's answer when the database does not answer (errors.install calls it):
    an HTML page in the candidate's language if it was found before, else the browser's."""
    language = getattr(request.state, "page_language", None)
    language = language or browser_language(request.headers.get("accept-language"))
    response = _html(service.unavailable_page(language))
    response.headers["Retry-After"] = "5"
    return response


def _problem_page(
    session: Session, problem: links.LinkProblem, accept_language: str | None
) -> HTMLResponse:
    """An unusable link's page: in its candidate's language when the link is ours (expired,
    revoked), else in the browser's."""
    if problem.token is not None:
        language = service.language_of(session, problem.token)
    else:
        language = browser_language(accept_language)
    return _html(service.problem_page(problem.reason, language))


def _privacy_person(session: SessionDep, signed: str) -> Candidate | None:
    try:
        return privacy_pages.candidate(session, links.privacy_candidate(signed))
    except links.LinkProblem:
        return None


@router.get(
    "/privacy/{signed}",
    response_class=HTMLResponse,
    responses=PAGES,
    description="The page every email's footer links to: ask for a copy of one's data or its "
    "erasure.",
)
def show_privacy(
    request: Request,
    signed: str,
    session: SessionDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    person = _privacy_person(session, signed)
    if person is None:
        return _html(service.problem_page("invalid", browser_language(accept_language)))
    return _html(privacy_pages.show(person), request)


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
        return _problem_page(session, problem, accept_language)
    return _html(service.show(session=session, token=token, answer=answer), request, signed)


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
    document: Annotated[UploadFile | None, File(description="the document HR asked for")] = None,
) -> HTMLResponse:
    form = data.model_dump()
    try:
        token = links.resolve(session=session, signed=signed, for_update=True)
    except links.LinkProblem as problem:
        return _problem_page(session, problem, accept_language)
    upload = (document.file, document.filename) if document and document.filename else None
    page = service.act(session=session, token=token, form=form, document=upload)
    return _html(page, request, signed)


@router.get(
    "/{signed}/calendar.ics",
    response_class=Response,
    responses={
        **PAGES,
        200: {"description": "The trial's calendar file", "content": text("text/calendar")},
        409: {"description": "Nothing booked or accepted", "content": text("text/html")},
    },
    description="A booked or accepted trial's calendar file: the same event (UID, SEQUENCE) as "
    "the last email's, for a candidate who deleted it.",
)
def calendar(
    request: Request,
    signed: str,
    session: SessionDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response:
    try:
        token = links.resolve(session=session, signed=signed)
    except links.LinkProblem as problem:
        return _problem_page(session, problem, accept_language)
    found = service.calendar(session=session, token=token, link=links.url(signed))
    if isinstance(found, Page):
        return _html(found, request)
    return Response(
        found,
        media_type="text/calendar; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="invite.ics"'},
    )


@statement_router.get(
    "/accessibility",
    response_class=HTMLResponse,
    responses={200: PAGES[200]},
    description="The candidate pages' accessibility statement, in `lang` or the browser's.",
)
def accessibility(
    lang: Annotated[str | None, Query(pattern="^(en|fr|de|nl)$")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    return _html(service.statement_page(lang or browser_language(accept_language)))


@router.post(
    "/privacy/{signed}",
    response_class=HTMLResponse,
    responses=PAGES,
    description="Record the request for HR, who answer within one month.",
)
def ask_privacy(
    request: Request,
    signed: str,
    data: Annotated[PageForm, Form()],
    session: SessionDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    person = _privacy_person(session, signed)
    if person is None:
        return _html(service.problem_page("invalid", browser_language(accept_language)))
    return _html(privacy_pages.act(session, person, data.model_dump()), request)
