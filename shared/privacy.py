"""Anonymisation: the one operation that erases a person, called by `POST /candidates/{id}/erase`
and by beat's retention sweeps (services/scheduler/retention.py).

It replaces everything that identifies the person, or that was written by or about them, with
neutral values, deletes their files from storage and their links, and keeps what statistics and
the board's decision records need: the rows themselves, states, counts, scores, dates, the job.
What to blank is declared table by table in SCRUBS: a table gains a personal column, its line
here gains that column (tests/test_privacy.py dumps every table and column to prove nothing is
left).

A legal hold on a dossier stops it, and a hired (or departed) recruit's dossier is kept for the
personnel file: `refusal` names which, and the erasure is refused as a whole.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, Table, cast, delete, false, or_, select, update
from sqlalchemy.orm import Session

from shared import history
from shared.messages import WAITING
from shared.models import (
    Application,
    Base,
    Candidate,
    CandidateToken,
    Dossier,
    HistoryEntry,
    IdempotentRequest,
    Message,
    MessageStatus,
    Note,
    OutboxEvent,
    Participation,
    StoredFile,
    utcnow,
)
from shared.settings import get_settings
from shared.workflow import DossierStatus

ERASED = "[erased]"
# Dossiers that go to the personnel file instead of being anonymised.
PERSONNEL_FILE_STATES = frozenset({DossierStatus.HIRED, DossierStatus.LEFT})


ERASED_DOMAIN = "@erased.invalid"


def erased_email(candidate_id: uuid.UUID) -> str:
    """An address that names nobody and can never be delivered (RFC 2606 `.invalid`)."""
    return f"{candidate_id}{ERASED_DOMAIN}"


@dataclass(frozen=True)
class Owned:
    """The rows of one person to anonymise: their candidate row (when the whole person goes),
    applications, dossiers and participations."""

    candidate_id: uuid.UUID | None
    application_ids: frozenset[uuid.UUID]
    dossier_ids: frozenset[uuid.UUID]
    participation_ids: frozenset[uuid.UUID]

    def keys(self) -> dict[str, frozenset[uuid.UUID]]:
        """Each foreign key column name a row of this person may hold, with its values."""
        return {
            "candidate_id": frozenset({self.candidate_id}) if self.candidate_id else frozenset(),
            "application_id": self.application_ids,
            "dossier_id": self.dossier_ids,
            "participation_id": self.participation_ids,
        }

    def ids_as_text(self) -> list[str]:
        """Every id, as it appears in stored JSON answers and payloads."""
        ids: list[uuid.UUID] = [*self.application_ids, *self.dossier_ids, *self.participation_ids]
        if self.candidate_id is not None:
            ids.append(self.candidate_id)
        return [str(i) for i in ids]


def owned_rows(table: Table, owned: Owned) -> ColumnElement[bool]:
    """The rows of `table` that belong to the person: those whose `candidate_id`,
    `application_id`, `dossier_id` or `participation_id` (whichever the table has) is theirs."""
    clauses = [
        table.c[name].in_(values)
        for name, values in owned.keys().items()
        if name in table.c and values
    ]
    return or_(false(), *clauses)


Neutral = Callable[[Owned], dict[str, Any]]


@dataclass(frozen=True)
class Scrub:
    """What anonymisation writes in one table's rows of the person."""

    table: Table
    values: Neutral
    # Further rows than those found by foreign key (e.g. the candidate row by its own id).
    where: Callable[[Owned], ColumnElement[bool]] | None = None


def _fixed(**values: Any) -> Neutral:
    return lambda _owned: values


def _candidate_values(owned: Owned) -> dict[str, Any]:
    if owned.candidate_id is None:  # some applications only: the person stays
        return {}
    return {
        "first_name": ERASED,
        "last_name": ERASED,
        "email": erased_email(owned.candidate_id),
        "phone": None,
        "search_text": "",
        "anonymised_at": utcnow(),
    }


def _message_values(owned: Owned) -> dict[str, Any]:
    return {
        "to_address": erased_email(owned.candidate_id or uuid.UUID(int=0)),
        "to_name": "",
        "context": {},
        "subject": ERASED,
        "calendar_ics": None,
        "last_response": None,
    }


def _table(model: type[Base]) -> Table:
    return model.__table__  # type: ignore[return-value]


# Table by table, the columns that hold personal data or free text about the person, and the
# neutral value each gets. Rows are found by their candidate, application, dossier or
# participation key (`owned_rows`).
SCRUBS: tuple[Scrub, ...] = (
    Scrub(
        _table(Candidate),
        _candidate_values,
        where=lambda owned: _table(Candidate).c.id == owned.candidate_id,
    ),
    Scrub(
        _table(Application),
        lambda _owned: {
            "cover_letter": None,
            "profile": {},
            "unavailable_reason": None,
            "anonymised_at": utcnow(),
        },
        where=lambda owned: _table(Application).c.id.in_(owned.application_ids),
    ),
    Scrub(
        _table(Dossier),
        _fixed(summary=None, global_reason=None, left_reason=None, legal_hold_reason=None),
        where=lambda owned: _table(Dossier).c.id.in_(owned.dossier_ids),
    ),
    Scrub(
        _table(Participation),
        _fixed(comment=None),
        where=lambda owned: _table(Participation).c.id.in_(owned.participation_ids),
    ),
    Scrub(_table(Note), _fixed(text=ERASED)),
    # The story stays (who did what, when), not what was written: before/after held names,
    # addresses, reasons and answers.
    Scrub(_table(HistoryEntry), _fixed(before=None, after=None)),
    Scrub(_table(Message), _message_values),
)


def refusal(dossiers: Iterable[Dossier]) -> tuple[str, str] | None:
    """Why these dossiers may not be anonymised, as (state, sentence), or None."""
    for dossier in dossiers:
        if dossier.legal_hold_since is not None:
            return "legal_hold", (
                f"dossier {dossier.id} is under a legal hold: {dossier.legal_hold_reason}"
            )
        if dossier.status in PERSONNEL_FILE_STATES:
            return "personnel_file", (
                f"dossier {dossier.id} is the recruit's ({dossier.status}): "
                "it is kept for the personnel file"
            )
    return None


def owned(
    session: Session, candidate_id: uuid.UUID, application_ids: Sequence[uuid.UUID] | None
) -> Owned:
    """The person's rows: every application of the candidate (and the candidate row), or only
    `application_ids` (the candidate row is then left to `anonymise`)."""
    query = select(Application.id).where(Application.candidate_id == candidate_id)
    if application_ids is not None:
        query = query.where(Application.id.in_(application_ids))
    applications = frozenset(session.scalars(query))
    dossiers = frozenset(
        session.scalars(select(Dossier.id).where(Dossier.application_id.in_(applications)))
    )
    participations = frozenset(
        session.scalars(select(Participation.id).where(Participation.dossier_id.in_(dossiers)))
    )
    return Owned(
        candidate_id if application_ids is None else None,
        applications,
        dossiers,
        participations,
    )


def anonymise(
    session: Session,
    *,
    candidate_id: uuid.UUID,
    actor: str,
    reason: str,
    application_ids: Sequence[uuid.UUID] | None = None,
) -> Owned:
    """Anonymise the person (every application) or some of their applications, in the
    caller's transaction; once none of the candidate's applications is left, the candidate row
    is anonymised too. The caller checked `refusal`. The history says who erased, when and
    why (the reason is the caller's own wording: a rule, never personal data)."""
    rows = owned(session, candidate_id, application_ids)
    if rows.candidate_id is None and not _other_applications(session, candidate_id, rows):
        rows = owned(session, candidate_id, None)
    files = _files(session, rows)
    now = utcnow()
    session.flush()
    for scrub in SCRUBS:
        where = scrub.where(rows) if scrub.where is not None else owned_rows(scrub.table, rows)
        values = scrub.values(rows)
        if values:
            session.execute(
                update(scrub.table).where(where).values(**values),
                execution_options={"synchronize_session": False},
            )
    # Emails not sent yet never leave: their recipient is gone.
    session.execute(
        update(Message)
        .where(owned_rows(_table(Message), rows), Message.status.in_(WAITING))
        .values(
            status=MessageStatus.FAILED, last_response="not sent: the recipient's data was erased"
        )
        .execution_options(synchronize_session=False)
    )
    _forget_stored_answers(session, rows)
    _forget_calendar_reasons(session, rows)
    session.execute(
        delete(CandidateToken)
        .where(
            or_(
                owned_rows(_table(CandidateToken), rows),
                CandidateToken.result_application_id.in_(rows.application_ids),
            )
        )
        .execution_options(synchronize_session=False)
    )
    _delete_files(session, rows, files)
    for application_id in rows.application_ids:
        history.record(
            session,
            actor=actor,
            action="anonymised",
            application_id=application_id,
            after={"reason": reason, "at": now.isoformat()},
        )
    session.expire_all()
    return rows


def _other_applications(session: Session, candidate_id: uuid.UUID, rows: Owned) -> bool:
    """Whether the candidate has applications not anonymised besides `rows`."""
    return (
        session.scalar(
            select(Application.id)
            .where(
                Application.candidate_id == candidate_id,
                Application.anonymised_at.is_(None),
                Application.id.not_in(rows.application_ids),
            )
            .limit(1)
        )
        is not None
    )


def _files(session: Session, rows: Owned) -> list[StoredFile]:
    return list(session.scalars(select(StoredFile).where(owned_rows(_table(StoredFile), rows))))


def _delete_files(session: Session, rows: Owned, files: list[StoredFile]) -> None:
    """The bytes go from storage, and the rows with their names and hashes."""
    if not files:
        return
    ids = [stored.id for stored in files]
    session.execute(
        update(Application)
        .where(Application.cv_file_id.in_(ids))
        .values(cv_file_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(StoredFile)
        .where(StoredFile.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    folder = get_settings().resolved_storage_dir
    for stored in files:
        # Gone even if the transaction then fails: an anonymisation is never undone, and the
        # caller runs it again (the rows then name no file: a missing file is no error).
        (folder / stored.storage_name).unlink(missing_ok=True)


def _forget_stored_answers(session: Session, rows: Owned) -> None:
    """Answers kept for Idempotency-Key repeats that show the person (they name their ids):
    a repeat then gets `idempotent-answer-lost` instead of the erased data."""
    ids = rows.ids_as_text()
    if not ids:
        return
    session.execute(
        update(IdempotentRequest)
        .where(or_(*(IdempotentRequest.body.contains(i) for i in ids)))
        .values(body=None, headers=None)
        .execution_options(synchronize_session=False)
    )


def _forget_calendar_reasons(session: Session, rows: Owned) -> None:
    """Calendar changes in the outbox keep the reason HR gave for one participation."""
    if not rows.participation_ids:
        return
    ids = {str(i) for i in rows.participation_ids}
    events = session.scalars(
        select(OutboxEvent).where(
            or_(*(cast(OutboxEvent.payload, String).contains(i) for i in ids))
        )
    ).all()
    for event in events:
        items = [
            {**item, "reason": None} if item.get("participation_id") in ids else item
            for item in event.payload.get("items", [])
        ]
        event.payload = {**event.payload, "items": items}
