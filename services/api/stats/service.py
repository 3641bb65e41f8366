"""Recruitment statistics: the funnel per state, trial pass rates, time to hire."""

import statistics
import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shared.models import Dossier, Job, Participation, Trial

Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


def _scoped(query: Q, year: int | None, campaign: str | None, job_id: uuid.UUID | None) -> Q:
    if year is not None:
        query = query.where(Job.year == year)
    if campaign:
        query = query.where(Job.campaign == campaign)
    if job_id:
        query = query.where(Job.id == job_id)
    return query


def stats(
    *, session: Session, year: int | None, campaign: str | None, job_id: uuid.UUID | None
) -> dict[str, Any]:
    """Counts per dossier state, pass rate per trial, and days from application to hire."""
    by_status: dict[str, int] = {
        status: count
        for status, count in session.execute(
            _scoped(
                select(Dossier.status, func.count()).join(Job, Job.id == Dossier.job_id),
                year,
                campaign,
                job_id,
            ).group_by(Dossier.status)
        )
    }
    trials = []
    graded = _scoped(
        select(
            Trial.id,
            Trial.title,
            func.count(Participation.id),
            func.count(Participation.id).filter(Participation.passed.is_(True)),
        )
        .join(Job, Job.id == Trial.job_id)
        .join(Participation, Participation.trial_id == Trial.id)
        .where(Participation.result_recorded_at.is_not(None)),
        year,
        campaign,
        job_id,
    ).group_by(Trial.id, Trial.title)
    for trial_id, title, count, passed in session.execute(graded):
        trials.append(
            {
                "trial_id": trial_id,
                "title": title,
                "graded": count,
                "passed": passed,
                "pass_rate": round(passed / count, 4) if count else None,
            }
        )
    hires = session.execute(
        _scoped(
            select(Dossier.applied_at, Dossier.started_on)
            .join(Job, Job.id == Dossier.job_id)
            .where(Dossier.started_on.is_not(None)),
            year,
            campaign,
            job_id,
        )
    ).all()
    days = [(row.started_on - row.applied_at.date()).days for row in hires]
    return {
        "dossiers_by_status": by_status,
        "dossiers": sum(by_status.values()),
        "trials": trials,
        "days_to_hire": {
            "hires": len(days),
            "mean": round(statistics.fmean(days), 1) if days else None,
            "median": statistics.median(days) if days else None,
        },
    }
