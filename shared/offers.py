"""The offer to the retained dossier, and the fallback to the next of the reserve.

Shared by the api (HR records a decline, a no-show) and the scheduler (an offer left unanswered
past its deadline counts as declined).
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared import dossiers, history, links
from shared.messages import notify
from shared.models import Dossier, Job, LinkPurpose, utcnow
from shared.settings import get_settings
from shared.workflow import DossierStatus

D = DossierStatus


def make_offer(session: Session, dossier: Dossier, *, actor: str, from_reserve: bool) -> None:
    """Email the retained dossier's candidate the offer with accept and decline links."""
    expires = utcnow() + timedelta(days=get_settings().offer_days)
    dossier.offer_expires_at = expires
    _, signed = links.issue(
        session,
        links.new_link(
            purpose=LinkPurpose.ANSWER_OFFER,
            candidate_id=dossier.candidate_id,
            application_id=dossier.application_id,
            expires_at=expires,
        ),
    )
    page = links.url(signed)
    kind = "next_of_reserve_offer" if from_reserve else "offer_confirmation"
    notify(
        session,
        kind,
        dossier,
        actor=actor,
        context={
            "accept_link": f"{page}?answer=accept",
            "decline_link": f"{page}?answer=decline",
            "answer_by": expires.date().isoformat(),
        },
    )


def next_of_reserve(session: Session, job: Job, *, actor: str, after: Dossier) -> Dossier | None:
    """Retain the first dossier of the reserve and offer it the post; None when none is left
    (recorded in the history of `after`, the dossier that left the post open)."""
    nxt = session.scalars(
        select(Dossier)
        .where(Dossier.job_id == job.id, Dossier.status == D.RESERVE)
        .options(selectinload(Dossier.candidate), selectinload(Dossier.job))
        .order_by(Dossier.reserve_rank, Dossier.applied_at)
        .limit(1)
        .with_for_update(of=Dossier)
    ).first()
    if nxt is None:
        job.reserve_exhausted = True
        history.record(
            session,
            actor=actor,
            action="reserve_exhausted",
            dossier_id=after.id,
            after={"job_id": str(job.id), "job_reference": job.reference},
        )
        return None
    dossiers.move(
        session,
        nxt,
        "retain",
        actor=actor,
        event="retained_from_reserve",
        reserve_rank=nxt.reserve_rank,
    )
    make_offer(session, nxt, actor=actor, from_reserve=True)
    return nxt


def decline(
    session: Session, dossier: Dossier, *, reason: str | None, actor: str
) -> Dossier | None:
    """The candidate declines (or let the offer expire): the next of the reserve is retained."""
    dossiers.move(
        session, dossier, "decline_offer", actor=actor, event="offer_declined", reason=reason
    )
    dossier.offer_expires_at = None
    return next_of_reserve(session, dossier.job, actor=actor, after=dossier)


def accept(session: Session, dossier: Dossier, *, actor: str) -> None:
    """The candidate accepts the offer."""
    dossiers.move(session, dossier, "accept_offer", actor=actor, event="offer_accepted")
    dossier.offer_expires_at = None
