"""What needs HR's attention, as a list front-ends poll (newest first)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from services.api.deps import HR, SessionDep
from services.api.dossiers.schemas import HistoryEntryOut
from services.api.pagination import Listing, Page, PageParams, page_params, paginate
from services.api.schemas import BIGINT_MAX
from shared.models import Dossier, HistoryEntry

router = APIRouter(prefix="/notices", tags=["notices"])

# History events that call for HR: a candidate who did not answer, an offer that passed to
# the reserve (or found it empty), an email that failed for good or whose fate is unknown (its
# entry says how to resend it on purpose).
NOTICES = (
    "invitation_expired",
    "offer_declined",
    "retained_from_reserve",
    "reserve_exhausted",
    "no_show",
    # Answers through the calendar (shared/replies.py) that HR must read: a maybe, a proposed
    # time, an answer to an invitation that changed since, an answer the rules refused.
    "calendar_reply_tentative",
    "calendar_counter",
    "calendar_reply_outdated",
    "calendar_reply_refused",
    # A candidate asks for a copy of their data or its erasure (candidate_pages/privacy_pages).
    "privacy_request",
)


@router.get("", response_model=Page[HistoryEntryOut])
def notices(
    session: SessionDep,
    _: HR,
    page: Annotated[PageParams, Depends(page_params)],
    job_id: uuid.UUID | None = None,
    after_id: Annotated[int | None, Query(ge=0, le=BIGINT_MAX)] = None,
) -> object:
    """HR's notices, newest first; `after_id` returns only those newer than one already seen."""
    query = select(HistoryEntry).where(
        HistoryEntry.action.in_(NOTICES)
        | HistoryEntry.action.like("email_failed:%")
        | HistoryEntry.action.like("email_unknown:%")
    )
    if job_id is not None:
        query = query.join(Dossier, Dossier.id == HistoryEntry.dossier_id).where(
            Dossier.job_id == job_id
        )
    if after_id is not None:
        query = query.where(HistoryEntry.id > after_id)
    return paginate(session, Listing(query, (HistoryEntry.id,), descending=True), page)
