"""Candidates."""

import uuid

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from services.api import search
from services.api.candidates.schemas import CandidateCreate, CandidateUpdate
from services.api.errors import Conflict, Duplicate, NotFound
from services.api.pagination import Listing
from shared.models import Candidate


def get_candidate(*, session: Session, candidate_id: uuid.UUID) -> Candidate:
    """The candidate, or NotFound."""
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise NotFound(f"candidate {candidate_id} not found")
    return candidate


def refuse_anonymised(candidate: Candidate) -> None:
    """An erased person is neither written to nor exported again (409 `anonymised`)."""
    if candidate.anonymised_at is not None:
        raise Conflict(
            f"candidate {candidate.id} was anonymised on {candidate.anonymised_at:%Y-%m-%d}",
            state="anonymised",
        )


def _refuse_taken_email(
    session: Session, email: str, candidate_id: uuid.UUID | None = None
) -> None:
    """One candidate per email address, whatever its case: 409 naming the one who has it."""
    taken = session.scalar(
        select(Candidate.id).where(
            func.lower(Candidate.email) == email.lower(), Candidate.id != candidate_id
        )
    )
    if taken is not None:
        raise Duplicate(f"a candidate with the email {email} already exists", candidate_id=taken)


def create_candidate(*, session: Session, data: CandidateCreate) -> Candidate:
    """Create a candidate, unless one has this email already."""
    _refuse_taken_email(session, data.email)
    candidate = Candidate(**data.model_dump())
    session.add(candidate)
    session.flush()
    return candidate


def update_candidate(
    *, session: Session, candidate_id: uuid.UUID, data: CandidateUpdate
) -> Candidate:
    """Change the given fields of a candidate."""
    candidate = get_candidate(session=session, candidate_id=candidate_id)
    refuse_anonymised(candidate)
    if data.email is not None:
        _refuse_taken_email(session, data.email, candidate.id)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(candidate, field, value)
    session.flush()
    return candidate


def matches(q: str) -> ColumnElement[bool]:
    """A filter for candidates whose names or email contain `q`, whatever the case and the
    accents ("Muller" finds "Müller"), or whose full name does ("elise dupont")."""
    return search.contains_folded(Candidate.search_text, q)


def list_candidates(*, q: str | None) -> Listing:
    """The candidates whose name or email contains `q`, by name."""
    query = select(Candidate)
    if q:
        query = query.where(matches(q))
    return Listing(query, (Candidate.last_name, Candidate.first_name, Candidate.id))
