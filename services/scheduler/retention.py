"""Beat's retention sweeps (shared/retention.py says how long what is kept).

- `send_renewals`: a CV bank profile whose keeping ends within CV_BANK_RENEWAL_DAYS gets one
  email with a link to keep it another CV_BANK_MONTHS or to delete it now.
- `sweep_retention`: anonymises (shared/privacy.py) the profiles past their end and the
  applications and dossiers of jobs closed RETENTION_MONTHS_AFTER_CLOSING ago, except the held
  ones, the reserve while it is valid, and the recruit's, which is flagged for the personnel
  file instead.
Each sweep is idempotent, and two beats at once take different rows (`FOR UPDATE SKIP
LOCKED` on PostgreSQL, whose re-check of the conditions on a locked row also skips what the
other beat did meanwhile; SQLite has one writer at a time).
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, not_, or_, select, update
from sqlalchemy.orm import Session, joinedload

from shared import links, privacy
from shared.db import session_scope
from shared.messages import queue_message
from shared.models import Application, Dossier, Job, LinkPurpose, utcnow
from shared.outbox import Publish, unit_of_work
from shared.retention import acted_at, add_months, add_months_to_date, profile_kept_until
from shared.settings import get_settings
from shared.workflow import DossierStatus, JobStatus

ACTOR = "scheduler"
SWEEP_BATCH = 200  # rows per tick; the next tick takes the rest
SPONTANEOUS = "spontaneous"


def send_renewals(*, publish: Publish) -> int:
    """Email each profile that nears its end, once per period; returns how many."""
    settings = get_settings()
    now = utcnow()
    nearing = add_months(now, -settings.cv_bank_months) + timedelta(
        days=settings.cv_bank_renewal_days
    )
    with unit_of_work(publish) as session:
        claimed = _claim(
            session,
            select(Application.id)
            .where(
                Application.kind == SPONTANEOUS,
                Application.anonymised_at.is_(None),
                acted_at() <= nearing,
                or_(
                    Application.renewal_sent_at.is_(None), Application.renewal_sent_at < acted_at()
                ),
            )
            .order_by(acted_at()),
            renewal_sent_at=now,
        )
        due = session.scalars(
            select(Application)
            .where(Application.id.in_(claimed))
            .options(joinedload(Application.candidate))
        ).all()
        for application in due:
            kept_until = profile_kept_until(application)
            last = application.candidate_acted_at or application.created_at
            _, signed = links.issue(
                session,
                links.new_link(
                    purpose=LinkPurpose.KEEP_PROFILE,
                    candidate_id=application.candidate_id,
                    application_id=application.id,
                    expires_at=kept_until,
                ),
            )
            queue_message(
                session,
                kind="cv_bank_renewal",
                idempotency_key=f"cv_bank_renewal:{application.id}:{last.isoformat()}",
                candidate=application.candidate,
                context={
                    "candidate_name": application.candidate.full_name,
                    "kept_until": kept_until.date().isoformat(),
                    "months": settings.cv_bank_months,
                    "link": links.url(signed),
                },
                actor=ACTOR,
                application_id=application.id,
            )
        return len(due)


def sweep_retention() -> int:
    """Anonymise the applications whose keeping ended; returns how many."""
    settings = get_settings()
    now = utcnow()
    closed_before = add_months(now, -settings.retention_months_after_closing)
    reserve_decided_after = add_months_to_date(now.date(), -settings.reserve_valid_months)
    of_expired_job = and_(
        Job.status == JobStatus.CLOSED, Job.closed_at.is_not(None), Job.closed_at <= closed_before
    )
    with session_scope() as session:
        # The recruit's dossier goes to the personnel file: kept, and flagged once.
        session.execute(
            update(Dossier)
            .where(
                Dossier.status.in_(privacy.PERSONNEL_FILE_STATES),
                Dossier.personnel_file_since.is_(None),
                Dossier.job_id.in_(select(Job.id).where(of_expired_job)),
            )
            .values(personnel_file_since=now)
            .execution_options(synchronize_session=False)
        )
        reserve_valid = and_(
            Dossier.status == DossierStatus.RESERVE,
            Job.deliberation_decided_on.is_not(None),
            Job.deliberation_decided_on > reserve_decided_after,
        )
        expired_profile = and_(
            Application.kind == SPONTANEOUS,
            acted_at() <= add_months(now, -settings.cv_bank_months),
        )
        expired_dossier = and_(
            of_expired_job,
            or_(
                Dossier.id.is_(None),
                and_(
                    Dossier.legal_hold_since.is_(None),
                    Dossier.status.not_in(privacy.PERSONNEL_FILE_STATES),
                    not_(reserve_valid),
                ),
            ),
        )
        expired = _claim(
            session,
            select(Application.id)
            .outerjoin(Job, Job.id == Application.job_id)
            .outerjoin(Dossier, Dossier.application_id == Application.id)
            .where(Application.anonymised_at.is_(None), or_(expired_profile, expired_dossier))
            .order_by(Application.created_at),
            anonymised_at=now,
        )
        candidates = session.execute(
            select(Application.id, Application.candidate_id).where(Application.id.in_(expired))
        ).all()
        for candidate_id, application_ids in _per_candidate(candidates).items():
            privacy.anonymise(
                session,
                candidate_id=candidate_id,
                application_ids=application_ids,
                actor=ACTOR,
                reason="retention_period_ended",
            )
        return len(expired)


def _claim(session: Session, due: Select[Any], **values: Any) -> list[uuid.UUID]:
    """Mark the first SWEEP_BATCH rows of `due` with `values`, in one UPDATE whose sub-select
    skips the rows another beat holds (PostgreSQL) and which takes SQLite's write lock before
    it reads: two beats never take the same row. Returns their ids."""
    batch = due.limit(SWEEP_BATCH).with_for_update(skip_locked=True, of=Application)
    return list(
        session.scalars(
            update(Application)
            .where(Application.id.in_(batch.scalar_subquery()))
            .values(**values)
            .returning(Application.id)
            .execution_options(synchronize_session=False)
        )
    )


def _per_candidate(
    rows: Iterable[tuple[uuid.UUID, uuid.UUID]],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for application_id, candidate_id in rows:
        found[candidate_id].append(application_id)
    return found
