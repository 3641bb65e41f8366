"""Answers through the calendar: an iTIP REPLY or COUNTER (RFC 5546) received by email (iMIP,
RFC 6047), read from one RFC 5322 message and applied exactly as the candidate's link would
(`shared.answers`).

One parser for both ways in: beat's IMAP poll (`services/scheduler/replies.py`) and
`recrue ingest-mail` (standard input). A message counts only when its calendar's UID is one
Recrue issued (`<participation id>@recrue`), its ATTENDEE is that participation's candidate and
the email's From is the same address (both case-insensitive). What it does:

- REPLY ACCEPTED / DECLINED: the answer, with the link's rules (deadline, state, once); a
  decline releases a booked slot. The history entry says `via: calendar` and the client
  (PRODID). An answer the rules refuse (past the deadline, the participation no longer
  invited) becomes an HR notice, `calendar_reply_refused`: the candidate believes they answered.
- REPLY TENTATIVE: the participation stays `invited`; HR gets `calendar_reply_tentative`.
- COUNTER: HR gets `calendar_counter` with the proposed time; nothing changes by itself.
- A REPLY or COUNTER to an older SEQUENCE than the current one: ignored, with an HR notice
  `calendar_reply_outdated` (the candidate answered an invitation that has since changed).

Anything else (auto-replies, unrelated mail, malformed calendars, another UID, a forged sender)
is ignored: left where it is. Every email read is counted by outcome in the database
(`calendar_reply_counts`), which the API's /metrics exports as
`recrue_calendar_replies_total{outcome=...}`: the processes that read them expose nothing.
A notice is written once per participation, SEQUENCE and answer, so the same email read twice
(two beats, a crash before it was moved) changes nothing more.
"""

import email
import email.policy
import enum
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import Message as EmailMessage
from email.utils import getaddresses
from typing import Any

import icalendar
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shared import answers, history, loading
from shared.answers import Answer, Result
from shared.db import session_scope
from shared.models import CalendarReplyCount, HistoryEntry, Participation
from shared.outbox import Publish, unit_of_work
from shared.workflow import TrialStatus

log = logging.getLogger(__name__)

_UID = re.compile(r"^([0-9a-fA-F-]{36})@recrue$")
_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
_MAX_COMMENT = 1000


class Outcome(enum.StrEnum):
    # Handled: the message was about one of our invitations and has done what it should.
    ACCEPTED = "accepted"
    DECLINED = "declined"
    UNCHANGED = "unchanged"  # the participation already says so (the same answer again)
    TENTATIVE = "tentative"
    COUNTER = "counter"
    OUTDATED = "outdated"
    REFUSED = "refused"  # past the deadline, or the participation can no longer answer
    # Ignored: not an answer to one of our invitations, or not from its candidate.
    NOT_CALENDAR = "not_calendar"
    MALFORMED = "malformed"
    NOT_A_REPLY = "not_a_reply"  # another METHOD, or a PARTSTAT that is no answer
    UNKNOWN_UID = "unknown_uid"
    WRONG_ATTENDEE = "wrong_attendee"
    WRONG_SENDER = "wrong_sender"

    @property
    def handled(self) -> bool:
        return self in _HANDLED


_HANDLED = frozenset(
    {
        Outcome.ACCEPTED,
        Outcome.DECLINED,
        Outcome.UNCHANGED,
        Outcome.TENTATIVE,
        Outcome.COUNTER,
        Outcome.OUTDATED,
        Outcome.REFUSED,
    }
)


class Unreadable(Exception):
    """The input is not an email at all (empty, or no header)."""


@dataclass(frozen=True)
class Reply:
    """What an iTIP REPLY or COUNTER says, as read from its email."""

    method: str  # REPLY or COUNTER
    uid: str
    sequence: int
    attendee: str  # the ATTENDEE's address, lower case
    partstat: str  # ACCEPTED, DECLINED, TENTATIVE... (upper case)
    client: str  # the PRODID of the calendar that answered
    sender: str  # the email's From address, lower case
    message_id: str
    proposed_start: datetime | None = None  # COUNTER: the time the candidate proposes
    proposed_end: datetime | None = None
    comment: str | None = None


def read(raw: bytes) -> Reply | Outcome:
    """The REPLY or COUNTER of one RFC 5322 message, or why it is none (Unreadable if the input
    is no email at all). Pure: no database."""
    if not raw.strip():
        raise Unreadable("empty input")
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not message.keys():
        raise Unreadable("no header: not an RFC 5322 message")
    calendars = list(_calendars(message))
    if not calendars:
        return Outcome.NOT_CALENDAR
    seen = Outcome.MALFORMED
    for text in calendars:
        found = _reply(text)
        if isinstance(found, tuple):
            event, method, client = found
            return _with_sender(message, event, method, client)
        if found is Outcome.NOT_A_REPLY:
            seen = found
    return seen


def _calendars(message: EmailMessage) -> Any:
    """The text of every calendar part (the inline `text/calendar` and any `.ics` file)."""
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = (part.get_filename() or "").lower()
        if part.get_content_type() not in _CALENDAR_TYPES and not filename.endswith(".ics"):
            continue
        payload = part.get_payload(decode=True)  # undoes base64 and quoted-printable
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            yield payload.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            yield payload.decode("utf-8", errors="replace")


def _reply(text: str) -> tuple[icalendar.cal.Component, str, str] | Outcome:
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except Exception:  # icalendar raises ValueError, KeyError... on broken input
        return Outcome.MALFORMED
    method = str(calendar.get("METHOD", "")).strip().upper()
    events = list(calendar.walk("VEVENT"))
    if not events or not events[0].get("UID"):
        return Outcome.MALFORMED
    if method not in ("REPLY", "COUNTER"):
        return Outcome.NOT_A_REPLY
    return events[0], method, str(calendar.get("PRODID", "")).strip()[:200]


def _address(value: object) -> str:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().lower()


def _moment(event: icalendar.cal.Component, name: str) -> datetime | None:
    prop = event.get(name)
    if prop is None:
        return None
    try:
        value = prop.dt
    except AttributeError:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _with_sender(
    message: EmailMessage, event: icalendar.cal.Component, method: str, client: str
) -> Reply | Outcome:
    attendees = event.get("ATTENDEE")
    if attendees is None:
        return Outcome.MALFORMED
    if not isinstance(attendees, list):
        attendees = [attendees]
    senders = getaddresses([str(value) for value in message.get_all("From", [])])
    sender = senders[0][1].strip().lower() if senders else ""
    # A REPLY names the one attendee who answers (RFC 5546 3.2.3); the one that is the sender,
    # if some client lists more.
    chosen = next((a for a in attendees if _address(a) == sender), attendees[0])
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        return Outcome.MALFORMED
    comment = event.get("COMMENT")
    if isinstance(comment, list):
        comment = comment[0] if comment else None
    params = getattr(chosen, "params", {})
    return Reply(
        method=method,
        uid=str(event.get("UID")).strip(),
        sequence=sequence,
        attendee=_address(chosen),
        partstat=str(params.get("PARTSTAT", "")).upper(),
        client=client,
        sender=sender,
        message_id=str(message.get("Message-ID", "")).strip()[:300],
        proposed_start=_moment(event, "DTSTART") if method == "COUNTER" else None,
        proposed_end=_moment(event, "DTEND") if method == "COUNTER" else None,
        comment=str(comment)[:_MAX_COMMENT] if comment else None,
    )


def ingest(raw: bytes, *, publish: Publish) -> Outcome:
    """Read one email and apply its calendar answer; returns what came of it (Unreadable if
    the input is no email). Counted by outcome (`count`)."""
    found = read(raw)
    outcome = found if isinstance(found, Outcome) else _apply(found, publish)
    count(outcome.value)
    if isinstance(found, Reply):
        log.info(
            "calendar %s %s for %s from %s (%s): %s",
            found.method,
            found.partstat,
            found.uid,
            found.client or "unknown client",
            found.message_id,
            outcome,
        )
    else:
        log.info("email ignored: %s", outcome)
    return outcome


def count(outcome: str) -> None:
    """One more email read with this outcome, in `calendar_reply_counts` (the API's /metrics
    exports it). Best effort: a database that does not answer loses the count, with a warning,
    and does not make an ignored email fail."""
    try:
        with session_scope() as session:
            added = (
                update(CalendarReplyCount)
                .where(CalendarReplyCount.outcome == outcome)
                .values(count=CalendarReplyCount.count + 1)
            )
            if not session.execute(added).rowcount:  # type: ignore[attr-defined]
                # The outcome's first email: its row. Two first emails at once: one of the
                # INSERTs fails on the key, and that process adds its one instead.
                try:
                    with session.begin_nested():
                        session.execute(insert(CalendarReplyCount).values(outcome=outcome, count=1))
                except SQLAlchemyError:
                    session.execute(added)
    except SQLAlchemyError as exc:
        log.warning("calendar answer not counted (%s): %s", outcome, exc)


def _apply(reply: Reply, publish: Publish) -> Outcome:
    matched = _UID.match(reply.uid)
    if matched is None:
        return Outcome.UNKNOWN_UID
    try:
        participation_id = uuid.UUID(matched.group(1))
    except ValueError:
        return Outcome.UNKNOWN_UID
    with unit_of_work(publish) as session:
        # Take the participation's row first (on SQLite this write takes the database's lock):
        # a second reader of the same email waits here, then sees what the first one did.
        touched = session.execute(
            update(Participation)
            .where(Participation.id == participation_id)
            .values(sequence=Participation.sequence)
            .execution_options(synchronize_session=False)
        )
        if not touched.rowcount:  # type: ignore[attr-defined]
            return Outcome.UNKNOWN_UID
        participation = session.scalars(
            select(Participation)
            .where(Participation.id == participation_id)
            .options(*loading.PARTICIPATION)
        ).one()
        candidate = participation.dossier.candidate.email.strip().lower()
        if reply.attendee != candidate:
            return Outcome.WRONG_ATTENDEE
        if reply.sender != candidate:
            return Outcome.WRONG_SENDER
        return _answer(session, participation, reply)


def _details(reply: Reply) -> dict[str, Any]:
    return {
        "via": "calendar",
        "client": reply.client or None,
        "sequence": reply.sequence,
        "message_id": reply.message_id or None,
    }


def _answer(session: Session, participation: Participation, reply: Reply) -> Outcome:
    actor = f"candidate:{participation.dossier.candidate_id}"
    said = {"ACCEPTED": "accepted", "DECLINED": "declined"}.get(reply.partstat)
    if reply.method == "REPLY" and said == participation.status:
        # Already so: the same email read again (a decline's CANCEL has since raised the
        # SEQUENCE), or the same answer sent twice. Nothing to do, nothing to tell.
        return Outcome.UNCHANGED
    if reply.sequence < participation.sequence:
        _notice(
            session,
            participation,
            reply,
            "calendar_reply_outdated",
            actor,
            current_sequence=participation.sequence,
        )
        return Outcome.OUTDATED
    if reply.method == "COUNTER":
        if reply.proposed_start is None:
            return Outcome.MALFORMED
        _notice(
            session,
            participation,
            reply,
            "calendar_counter",
            actor,
            proposed_starts_at=reply.proposed_start.isoformat(),
            proposed_ends_at=reply.proposed_end.isoformat() if reply.proposed_end else None,
            comment=reply.comment,
        )
        return Outcome.COUNTER
    if reply.partstat == "TENTATIVE":
        if participation.status != "invited":
            return Outcome.UNCHANGED  # nothing to tell: they had answered, this is a maybe
        _notice(
            session,
            participation,
            reply,
            "calendar_reply_tentative",
            actor,
            comment=reply.comment,
        )
        return Outcome.TENTATIVE
    if reply.partstat not in ("ACCEPTED", "DECLINED"):
        return Outcome.NOT_A_REPLY  # NEEDS-ACTION, DELEGATED: no answer Recrue knows
    answer = Answer.ACCEPT if reply.partstat == "ACCEPTED" else Answer.DECLINE
    details = _details(reply)
    if reply.comment:
        details["comment"] = reply.comment
    result = answers.apply(session, participation, answer, actor=actor, details=details)
    if result is Result.APPLIED:
        return Outcome.ACCEPTED if answer is Answer.ACCEPT else Outcome.DECLINED
    if result is Result.UNCHANGED:
        return Outcome.UNCHANGED
    reason = (
        "deadline_passed"
        if result is Result.LATE
        else f"trial_{participation.trial.status}"
        if participation.trial.status != TrialStatus.PLANNED
        else f"participation_{participation.status}"
    )
    _notice(
        session,
        participation,
        reply,
        "calendar_reply_refused",
        actor,
        answer=reply.partstat.lower(),
        reason=reason,
        status=participation.status,
    )
    return Outcome.REFUSED


def _notice(
    session: Session,
    participation: Participation,
    reply: Reply,
    action: str,
    actor: str,
    **facts: Any,
) -> None:
    """An HR notice about this participation, once per SEQUENCE, answer and proposed time."""
    key = ":".join(
        (
            reply.method,
            str(reply.sequence),
            reply.partstat,
            reply.proposed_start.isoformat() if reply.proposed_start else "",
        )
    )
    for after in session.scalars(
        select(HistoryEntry.after).where(
            HistoryEntry.dossier_id == participation.dossier_id, HistoryEntry.action == action
        )
    ):
        if (after or {}).get("participation_id") == str(participation.id) and (after or {}).get(
            "reply"
        ) == key:
            return
    history.record(
        session,
        actor=actor,
        action=action,
        dossier_id=participation.dossier_id,
        after={
            "participation_id": str(participation.id),
            "trial_id": str(participation.trial_id),
            "partstat": reply.partstat or None,
            "reply": key,
            **_details(reply),
            **facts,
        },
    )
