"""From the short-list to the first day: the board's decision, the offer, the closing."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.api.deliberation import report
from services.api.dossiers.service import get_dossier
from services.api.errors import Conflict, Invalid, NotFound
from services.api.jobs.service import get_job
from shared import dossiers, history, loading, offers
from shared.messages import notify
from shared.models import Dossier, HistoryEntry, Job, Trial, utcnow
from shared.settings import get_settings
from shared.workflow import DOSSIER_TRANSITIONS, DossierStatus, TrialStatus

D = DossierStatus


# The history events of the board's decision, by the decision they record.
DECISION_EVENTS = {
    f"deliberation_{D.RETAINED}": "retained",
    f"deliberation_{D.RESERVE}": "reserve",
    f"deliberation_{D.NOT_RETAINED}": "not_retained",
}


def shortlist(*, session: Session, job_id: uuid.UUID) -> list[Dossier]:
    """The dossiers awaiting the deliberation, best global score first, ties by application;
    once the board decided, the dossiers it decided on, in the same order, whatever became of
    them since (the ranking stays readable and reprintable for the file)."""
    job = get_job(session=session, job_id=job_id)
    if job.deliberation_decided_on is None:
        which = Dossier.status == D.AWAITING_DELIBERATION
    else:
        which = Dossier.id.in_(_decided(job_id))
    return list(
        session.scalars(
            select(Dossier)
            .where(Dossier.job_id == job_id, which)
            .options(*loading.DOSSIER)
            .order_by(Dossier.global_score.desc(), Dossier.applied_at, Dossier.id)
        )
    )


def _decided(job_id: uuid.UUID) -> Select[Any]:
    return (
        select(HistoryEntry.dossier_id)
        .join(Dossier, Dossier.id == HistoryEntry.dossier_id)
        .where(Dossier.job_id == job_id, HistoryEntry.action.in_(DECISION_EVENTS))
    )


def decisions(session: Session, job_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """The board's decision on each dossier of the job: retained, reserve or not_retained."""
    rows = session.execute(
        select(HistoryEntry.dossier_id, HistoryEntry.action)
        .join(Dossier, Dossier.id == HistoryEntry.dossier_id)
        .where(Dossier.job_id == job_id, HistoryEntry.action.in_(DECISION_EVENTS))
        .order_by(HistoryEntry.id)
    )
    decided: dict[uuid.UUID, str] = {}
    for dossier_id, action in rows:
        if dossier_id is not None:
            decided.setdefault(dossier_id, DECISION_EVENTS[action])  # the board's, not a later one
    return decided


def shortlist_rows(dossiers: list[Dossier], decided: dict[uuid.UUID, str]) -> list[dict[str, Any]]:
    """Ranked rows with each trial's score (and the board's decision once taken), as the API
    and the report show them."""
    return [
        {
            "rank": rank,
            "dossier_id": d.id,
            "candidate": d.candidate,
            "applied_at": d.applied_at,
            "global_score": d.global_score,
            "status": d.status,
            "decision": decided.get(d.id),
            "reserve_rank": d.reserve_rank if decided.get(d.id) == "reserve" else None,
            "scores": [
                {
                    "trial_id": p.trial_id,
                    "title": p.trial.title,
                    "score": p.score,
                    "max": p.trial.max_score,
                }
                for p in sorted(d.participations, key=lambda p: p.trial.starts_at)
                if p.result_recorded_at is not None
            ],
        }
        for rank, d in enumerate(dossiers, start=1)
    ]


def shortlist_items(*, session: Session, job_id: uuid.UUID) -> list[dict[str, Any]]:
    """The short-list as the API shows it: ranked rows with the board's decision once taken."""
    return shortlist_rows(shortlist(session=session, job_id=job_id), decisions(session, job_id))


@dataclass(frozen=True)
class PrintedReport:
    content: bytes | str  # the PDF's bytes, or the HTML page
    filename: str


def shortlist_report(
    *, session: Session, job_id: uuid.UUID, format: str, language: str
) -> PrintedReport:
    """The printable short-list of a job for the board (no internal notes), in HTML or PDF."""
    job = get_job(session=session, job_id=job_id)
    data = report_data(session, job)
    if format == "pdf":
        return PrintedReport(report.render_pdf(data, language), f"shortlist-{job.reference}.pdf")
    return PrintedReport(report.render_html(data, language), f"shortlist-{job.reference}.html")


def report_data(session: Session, job: Job) -> report.Shortlist:
    """The printable short-list of a job: the trials, the ranking, and once the board decided,
    its decision on each dossier."""
    dossiers = shortlist(session=session, job_id=job.id)
    decided = decisions(session, job.id)
    trials = list(
        session.scalars(
            select(Trial)
            .where(Trial.job_id == job.id, Trial.status == TrialStatus.PLANNED)
            .order_by(Trial.starts_at)
        )
    )
    rows = []
    for rank, dossier in enumerate(dossiers, start=1):
        by_trial = {p.trial_id: p.score for p in dossier.participations}
        rows.append(
            report.ReportRow(
                rank=rank,
                candidate_name=dossier.candidate.full_name,
                applied_at=dossier.applied_at,
                global_score=dossier.global_score,
                scores=[by_trial.get(t.id) for t in trials],
                decision=decided.get(dossier.id),
                reserve_rank=dossier.reserve_rank,
            )
        )
    return report.Shortlist(
        job_title=job.title,
        job_reference=job.reference,
        department=job.department,
        year=job.year,
        campaign=job.campaign,
        generated_at=utcnow(),
        timezone=get_settings().default_timezone,
        trials=[
            report.ReportTrial(
                title=t.title,
                kind=t.kind,
                weight=t.weight,
                max_score=t.max_score,
                eliminatory=t.eliminatory,
            )
            for t in trials
        ],
        rows=rows,
        decided_on=job.deliberation_decided_on,
        decision_reference=job.deliberation_reference,
    )


def decide(
    *,
    session: Session,
    job_id: uuid.UUID,
    decided_on: date,
    reference: str,
    retained_dossier_id: uuid.UUID,
    reserve: list[uuid.UUID],
    notify_not_retained: bool,
    actor: str,
) -> dict[str, Any]:
    """Record the board's decision: one retained (offered the post), a ranked reserve, and
    every other dossier on the short-list not retained."""
    job = session.get(Job, job_id, with_for_update={"of": Job})
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if job.deliberation_decided_on is not None:
        raise Conflict("the board already decided for this job", state="decided")
    candidates = {d.id: d for d in shortlist(session=session, job_id=job_id)}
    named = [retained_dossier_id, *reserve]
    strangers = [str(i) for i in named if i not in candidates]
    if strangers:
        raise Invalid(
            f"not on this job's short-list: {', '.join(strangers)}",
            field="retained_dossier_id" if str(retained_dossier_id) in strangers else "reserve",
            dossier_ids=strangers,
        )
    job.deliberation_decided_on = decided_on
    job.deliberation_reference = reference
    decision = {"decided_on": decided_on.isoformat(), "reference": reference}
    retained = candidates.pop(retained_dossier_id)
    _move(session, retained, "retain", actor, decision)
    offers.make_offer(session, retained, actor=actor, from_reserve=False)
    for rank, dossier_id in enumerate(reserve, start=1):
        dossier = candidates.pop(dossier_id)
        dossier.reserve_rank = rank
        _move(session, dossier, "put_in_reserve", actor, {**decision, "reserve_rank": rank})
    for dossier in candidates.values():
        _move(session, dossier, "not_retain", actor, decision)
        if notify_not_retained:
            notify(session, "not_retained", dossier, actor=actor)
    session.flush()
    return {
        "job_id": job.id,
        "decided_on": decided_on,
        "reference": reference,
        "retained_dossier_id": retained.id,
        "reserve": reserve,
        "not_retained": list(candidates),
    }


def _move(
    session: Session, dossier: Dossier, action: str, actor: str, details: dict[str, Any]
) -> None:
    target = DOSSIER_TRANSITIONS[action][1]
    dossiers.move(session, dossier, action, actor=actor, event=f"deliberation_{target}", **details)


def log_call(
    *, session: Session, dossier_id: uuid.UUID, outcome: str, note: str | None, actor: str
) -> Dossier:
    """Log the phone call that announces the offer (the dossier must be retained)."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    if dossier.status != D.RETAINED:
        raise Conflict(f"dossier is {dossier.status}: no offer to call about", state=dossier.status)
    history.record(
        session,
        actor=actor,
        action="offer_call",
        dossier_id=dossier.id,
        after={"outcome": outcome, "note": note},
    )
    return dossier


def accept_offer(*, session: Session, dossier_id: uuid.UUID, actor: str) -> Dossier:
    """HR records that the candidate accepts the post."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    offers.accept(session, dossier, actor=actor)
    session.flush()
    return dossier


def decline_offer(
    *, session: Session, dossier_id: uuid.UUID, reason: str | None, actor: str
) -> Dossier:
    """HR records a decline: the next of the reserve is retained and offered the post."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    offers.decline(session, dossier, reason=reason, actor=actor)
    session.flush()
    return dossier


def hire(*, session: Session, dossier_id: uuid.UUID, started_on: date, actor: str) -> Dossier:
    """The recruit started: the dossier is closed as hired, and welcomed."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    dossiers.move(
        session, dossier, "hire", actor=actor, event="hired", started_on=started_on.isoformat()
    )
    dossier.started_on = started_on
    notify(session, "welcome", dossier, actor=actor, context={"started_on": started_on.isoformat()})
    session.flush()
    return dossier


def no_show(*, session: Session, dossier_id: uuid.UUID, actor: str) -> Dossier:
    """The recruit did not start: the process reopens with the next of the reserve."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    dossiers.move(session, dossier, "no_show", actor=actor, event="no_show")
    offers.next_of_reserve(session, dossier.job, actor=actor, after=dossier)
    session.flush()
    return dossier


def leave(
    *, session: Session, dossier_id: uuid.UUID, left_on: date, reason: str | None, actor: str
) -> Dossier:
    """A hired recruit left the post, on or after the day they started."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    if dossier.started_on is not None and left_on < dossier.started_on:
        raise Invalid(
            f"the departure ({left_on}) cannot precede the start ({dossier.started_on})",
            field="left_on",
        )
    dossiers.move(
        session,
        dossier,
        "leave",
        actor=actor,
        event="left",
        left_on=left_on.isoformat(),
        reason=reason,
    )
    dossier.left_on = left_on
    dossier.left_reason = reason
    session.flush()
    return dossier
