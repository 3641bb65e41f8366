"""Trial results per participation, and the dossier's global score."""

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from services.api.auth import Agent, records_results
from services.api.dossiers.service import get_dossier
from services.api.errors import Conflict, Forbidden, Invalid
from services.api.results.schemas import ResultInput
from services.api.trials.service import get_participation
from shared import dossiers, history
from shared.messages import notify
from shared.models import Dossier, Participation, Trial, utcnow
from shared.workflow import DossierStatus, ParticipationStatus

P = ParticipationStatus
CENT = Decimal("0.01")
# Participations that count for the global score: the others (declined, cancelled) were never
# due. Of these, only an accepted one (answered or booked) gets a result; one never accepted
# counts as absent once its trial has started.
GRADED_STATES = frozenset({P.INVITED, P.ACCEPTED, P.EXPIRED})


def _may_record(agent: Agent, participation: Participation) -> None:
    if not records_results(agent, participation.trial.examiner_ids):
        raise Forbidden("only HR or an examiner assigned to this trial records its results")


def record_result(
    *, session: Session, participation_id: uuid.UUID, data: ResultInput, agent: Agent
) -> Participation:
    """Record (or correct) a result; the candidate is told once if HR chooses to."""
    participation = get_participation(session=session, participation_id=participation_id)
    _may_record(agent, participation)
    _require_gradable(participation)
    _check(participation.trial, data)
    before = participation.result
    _store(participation, data, _passed(participation.trial, data), agent)
    _record_history(session, participation, before, agent.actor)
    if data.communicate:
        _tell_candidate(session, participation, data, agent.actor)
    session.flush()
    return participation


def _require_gradable(participation: Participation) -> None:
    """A result is for a candidate expected at a trial that started, in a dossier still open."""
    if participation.status != P.ACCEPTED:
        raise Conflict(
            f"participation is {participation.status}: a result is recorded for a candidate "
            "expected at the trial (accepted or booked); an accepted candidate who did not come "
            "is recorded absent",
            state=participation.status,
        )
    if not _started(participation):
        raise Conflict("the trial has not started yet: no result to record", state="not_started")
    if participation.dossier.status != DossierStatus.OPEN:
        raise Conflict(
            f"dossier is {participation.dossier.status}: its results are closed",
            state=participation.dossier.status,
        )


def _check(trial: Trial, data: ResultInput) -> None:
    if data.score is not None and data.score > trial.max_score:
        raise Invalid(f"score cannot exceed {trial.max_score}", field="score")


def _passed(trial: Trial, data: ResultInput) -> bool:
    """As given; else from the pass score (passed when the trial has none). Absent: failed."""
    if not data.present:
        return False
    if data.passed is not None:
        return data.passed
    return trial.pass_score is None or (data.score or 0) >= trial.pass_score


def _store(participation: Participation, data: ResultInput, passed: bool, agent: Agent) -> None:
    participation.present = data.present
    participation.score = data.score
    participation.passed = passed
    participation.comment = data.comment
    participation.communicate = data.communicate
    participation.result_recorded_at = utcnow()
    participation.result_recorded_by = agent.actor
    acting = agent.acting
    participation.result_person_id = acting.person_id
    participation.result_person_name = acting.person_name
    participation.result_service = acting.service


def _record_history(
    session: Session, participation: Participation, before: dict[str, Any] | None, actor: str
) -> None:
    """The dossier's history: the result, and the one it corrects if any."""
    history.record(
        session,
        actor=actor,
        action="result_recorded",
        dossier_id=participation.dossier_id,
        before={"passed": before["passed"], "score": str(before["score"])} if before else None,
        after={
            "participation_id": str(participation.id),
            "trial_id": str(participation.trial_id),
            "present": participation.present,
            "passed": participation.passed,
            "score": str(participation.score) if participation.score is not None else None,
        },
    )


def _tell_candidate(
    session: Session, participation: Participation, data: ResultInput, actor: str
) -> None:
    """The result email, once per participation (a correction sends no second one)."""
    trial = participation.trial
    notify(
        session,
        "result",
        participation.dossier,
        idempotency_key=f"result:{participation.id}",
        context={
            "trial_title": trial.title,
            "passed": participation.passed,
            "score": str(data.score) if data.communicate_score and data.score else None,
            "max_score": str(trial.max_score) if data.communicate_score else None,
        },
        actor=actor,
    )


def _started(participation: Participation) -> bool:
    return (participation.starts_at or participation.trial.starts_at) <= utcnow()


def _breakdown(dossier: Dossier) -> tuple[Decimal, bool, list[dict[str, Any]]]:
    counted = [p for p in dossier.participations if p.status in GRADED_STATES]
    if not counted:
        raise Conflict("the dossier has no trial to grade", state=dossier.status)
    # Still to grade: an accepted candidate's trial, or a trial that has not taken place yet.
    missing = [
        p.trial.title
        for p in counted
        if p.result_recorded_at is None and (p.status == P.ACCEPTED or not _started(p))
    ]
    if missing:
        raise Conflict(f"not every trial is graded yet: {', '.join(missing)}", state=dossier.status)
    rows = []
    total_weight = sum((p.trial.weight for p in counted), Decimal(0))
    weighted = Decimal(0)
    passed = True
    for p in counted:
        trial = p.trial
        part = (p.score or Decimal(0)) / trial.max_score * trial.weight
        weighted += part
        sat = p.result_recorded_at is not None  # else never accepted: absent, failed
        if trial.eliminatory and not (sat and p.passed):
            passed = False
        rows.append(
            {
                "trial_id": trial.id,
                "title": trial.title,
                "score": p.score,
                "max": trial.max_score,
                "weight": trial.weight,
                "contribution": (part / total_weight * 100).quantize(CENT, ROUND_HALF_UP),
                "eliminatory": trial.eliminatory,
                "passed": p.passed if sat else False,
            }
        )
    score = (weighted / total_weight * 100).quantize(CENT, ROUND_HALF_UP)
    return score, passed, rows


def set_global_score(
    *,
    session: Session,
    dossier_id: uuid.UUID,
    score: Decimal | None,
    reason: str | None,
    actor: str,
) -> dict[str, Any]:
    """Compute the global score from the trials (or take HR's, with a reason); the dossier then
    awaits the deliberation, or fails on a failed eliminatory trial."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    if dossier.status != DossierStatus.OPEN:
        raise Conflict(
            f"dossier is {dossier.status}: its global score is set", state=dossier.status
        )
    computed, passed, rows = _breakdown(dossier)
    overridden = score is not None
    final = score.quantize(CENT, ROUND_HALF_UP) if score is not None else computed
    if overridden:
        passed = True  # HR's decision, recorded with its reason
    dossiers.move(
        session,
        dossier,
        "await_deliberation" if passed else "fail",
        actor=actor,
        event="global_score_set",
        global_score=str(final),
        computed=str(computed),
        overridden=overridden,
        reason=reason,
    )
    dossier.global_score = final
    dossier.global_passed = passed
    dossier.global_breakdown = [{**r, "trial_id": str(r["trial_id"]), **_strs(r)} for r in rows]
    dossier.global_overridden = overridden
    dossier.global_reason = reason
    session.flush()
    return global_score_answer(dossier)


def _strs(row: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) for k, v in row.items() if isinstance(v, Decimal)}


def global_score_answer(dossier: Dossier) -> dict[str, Any]:
    """The stored global score and how it was made."""
    return {
        "dossier_id": dossier.id,
        "status": dossier.status,
        "global_score": dossier.global_score,
        "passed": dossier.global_passed,
        "breakdown": dossier.global_breakdown or [],
        "overridden": dossier.global_overridden,
        "reason": dossier.global_reason,
    }
