import unicodedata
import uuid
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from services.api import visibility
from services.api.deliberation import service
from services.api.deliberation.schemas import (
    Deliberation,
    DeliberationOut,
    Departure,
    Hire,
    OfferCall,
    OfferDecline,
    ShortlistOut,
)
from services.api.deps import HR, Reader, SessionDep
from services.api.dossiers.schemas import DossierOut
from services.api.idempotency import Idempotent
from services.api.openapi import binary, text
from shared.i18n import Language

router = APIRouter(tags=["deliberation"])


@router.get("/jobs/{job_id}/shortlist", response_model=ShortlistOut)
def shortlist(job_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return {"items": service.shortlist_items(session=session, job_id=job_id)}


@router.get(
    "/jobs/{job_id}/shortlist/report",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "The report: an HTML page (`format=html`) or a PDF (`format=pdf`)",
            "content": {**text("text/html"), **binary("application/pdf")},
        }
    },
)
def shortlist_report(
    job_id: uuid.UUID,
    session: SessionDep,
    _: Reader,
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
    language: Annotated[Language, Query()] = "fr",
) -> Response:
    """The printable short-list for the board (no internal notes)."""
    printed = service.shortlist_report(
        session=session, job_id=job_id, format=format, language=language
    )
    if format == "pdf":
        return Response(
            printed.content,
            media_type="application/pdf",
            headers={"Content-Disposition": _inline(printed.filename)},
        )
    return HTMLResponse(printed.content)


def _inline(filename: str) -> str:
    """Content-Disposition for any file name (RFC 6266): the UTF-8 name as `filename*`
    (RFC 5987), after an ASCII fallback for clients that know only `filename`."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join(c if c.isalnum() or c in "._-" else "_" for c in ascii_name)
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post(
    "/jobs/{job_id}/deliberation",
    status_code=201,
    response_model=DeliberationOut,
    dependencies=[Idempotent],
)
def deliberate(job_id: uuid.UUID, data: Deliberation, session: SessionDep, agent: HR) -> object:
    return service.decide(
        session=session,
        job_id=job_id,
        decided_on=data.decided_on,
        reference=data.reference,
        retained_dossier_id=data.retained_dossier_id,
        reserve=data.reserve,
        notify_not_retained=data.notify_not_retained,
        actor=agent.actor,
    )


@router.post(
    "/dossiers/{dossier_id}/offer/call", response_model=DossierOut, dependencies=[Idempotent]
)
def offer_call(dossier_id: uuid.UUID, data: OfferCall, session: SessionDep, agent: HR) -> object:
    dossier = service.log_call(
        session=session,
        dossier_id=dossier_id,
        outcome=data.outcome,
        note=data.note,
        actor=agent.actor,
    )
    return visibility.dossier(dossier, agent)


@router.post(
    "/dossiers/{dossier_id}/offer/accept", response_model=DossierOut, dependencies=[Idempotent]
)
def accept_offer(dossier_id: uuid.UUID, session: SessionDep, agent: HR) -> object:
    return visibility.dossier(
        service.accept_offer(session=session, dossier_id=dossier_id, actor=agent.actor), agent
    )


@router.post(
    "/dossiers/{dossier_id}/offer/decline", response_model=DossierOut, dependencies=[Idempotent]
)
def decline_offer(
    dossier_id: uuid.UUID, data: OfferDecline, session: SessionDep, agent: HR
) -> object:
    dossier = service.decline_offer(
        session=session, dossier_id=dossier_id, reason=data.reason, actor=agent.actor
    )
    return visibility.dossier(dossier, agent)


@router.post("/dossiers/{dossier_id}/hire", response_model=DossierOut, dependencies=[Idempotent])
def hire(dossier_id: uuid.UUID, data: Hire, session: SessionDep, agent: HR) -> object:
    dossier = service.hire(
        session=session, dossier_id=dossier_id, started_on=data.started_on, actor=agent.actor
    )
    return visibility.dossier(dossier, agent)


@router.post("/dossiers/{dossier_id}/no-show", response_model=DossierOut, dependencies=[Idempotent])
def no_show(dossier_id: uuid.UUID, session: SessionDep, agent: HR) -> object:
    return visibility.dossier(
        service.no_show(session=session, dossier_id=dossier_id, actor=agent.actor), agent
    )


@router.post("/dossiers/{dossier_id}/left", response_model=DossierOut, dependencies=[Idempotent])
def left(dossier_id: uuid.UUID, data: Departure, session: SessionDep, agent: HR) -> object:
    dossier = service.leave(
        session=session,
        dossier_id=dossier_id,
        left_on=data.left_on,
        reason=data.reason,
        actor=agent.actor,
    )
    return visibility.dossier(dossier, agent)
