"""Signed candidate links: signed (itsdangerous), scoped to one purpose and object, expiring,
revocable and used once (a row per link). The api and the scheduler both issue them."""

import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from shared.models import CandidateToken, LinkPurpose, utcnow
from shared.secret_key import signing_key
from shared.settings import get_settings


class LinkProblem(Exception):
    """A link that cannot be used: `reason` is invalid, expired, revoked or wrong_purpose."""

    def __init__(self, reason: str, token: CandidateToken | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token = token


@lru_cache(maxsize=8)
def _signer(key: str, salt: str) -> URLSafeSerializer:
    """One serializer per key and purpose: a bulk invitation signs thousands of links."""
    return URLSafeSerializer(key, salt=salt)


def _serializer() -> URLSafeSerializer:
    return _signer(signing_key(), "recrue.candidate-link")


def issue(session: Session, link: tuple[dict[str, Any], str]) -> tuple[CandidateToken, str]:
    """Add a link made with `new_link` to the session; returns its row and signed token."""
    row, signed = link
    token = CandidateToken(**row)
    session.add(token)
    return token, signed


def new_link(
    *,
    purpose: LinkPurpose,
    candidate_id: uuid.UUID,
    application_id: uuid.UUID | None = None,
    job_id: uuid.UUID | None = None,
    participation_id: uuid.UUID | None = None,
    message: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[dict[str, Any], str]:
    """A link's row, for the caller to insert (in bulk), and its signed token."""
    days = get_settings().candidate_link_days
    row = {
        "id": uuid.uuid4(),
        "purpose": purpose,
        "candidate_id": candidate_id,
        "application_id": application_id,
        "job_id": job_id,
        "participation_id": participation_id,
        "message": message,
        "expires_at": expires_at or utcnow() + timedelta(days=days),
    }
    return row, _serializer().dumps({"t": str(row["id"]), "p": purpose})


def insert_all(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write the rows of links made with `new_link`, in one statement."""
    if rows:
        session.execute(insert(CandidateToken), rows)


def _privacy_serializer() -> URLSafeSerializer:
    return _signer(signing_key(), "recrue.privacy-request")


def privacy_url(candidate_id: uuid.UUID) -> str:
    """The link in every email's footer to the page where the candidate asks for a copy of
    their data or its erasure: signed, with no row (one per person, not per email); it ends
    with the person's anonymisation, when their id no longer leads to them."""
    signed = _privacy_serializer().dumps({"c": str(candidate_id)})
    return f"{get_settings().public_base_url.rstrip('/')}/c/privacy/{signed}"


def privacy_candidate(signed: str) -> uuid.UUID:
    """The candidate a privacy link was made for; LinkProblem("invalid") if it was not ours."""
    try:
        return uuid.UUID(_privacy_serializer().loads(signed)["c"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkProblem("invalid") from None


def url(signed: str) -> str:
    """The link a candidate clicks."""
    return f"{get_settings().public_base_url.rstrip('/')}/c/{signed}"


def revoke_open(*, session: Session, application_id: uuid.UUID) -> int:
    """Revoke every unused link sent about an application; returns how many."""
    result = session.execute(
        update(CandidateToken)
        .where(
            CandidateToken.application_id == application_id,
            CandidateToken.used_at.is_(None),
            CandidateToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def resolve(*, session: Session, signed: str, for_update: bool = False) -> CandidateToken:
    """The link's row if the signature holds; LinkProblem says why it cannot be used otherwise.

    A used link resolves (its page shows what was done); expiry and revocation refuse it.
    """
    try:
        payload = _serializer().loads(signed)
        token_id = uuid.UUID(payload["t"])
        purpose = payload["p"]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkProblem("invalid") from None
    token = session.get(CandidateToken, token_id, with_for_update=for_update)
    if token is None or token.purpose != purpose:
        raise LinkProblem("invalid")
    if token.used_at is None and token.revoked_at is not None:
        raise LinkProblem("revoked", token)
    if token.used_at is None and token.expires_at <= utcnow():
        raise LinkProblem("expired", token)
    return token
