"""Trial calendars: build each participation's invitation, update or cancellation and queue
the email that carries it, once per SEQUENCE."""

import logging
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shared import links, loading
from shared.calendar import build_cancel, build_request
from shared.emails.calendar_text import LinkKind
from shared.messages import Email, queue_messages, queued_keys
from shared.models import LinkPurpose, Participation, utcnow
from shared.outbox import Publish, mark_done, unit_of_work
from shared.participations import has_calendar_event
from shared.tasks import CalendarChange, SendCalendars
from shared.trial_events import trial_event
from shared.workflow import ParticipationStatus

log = logging.getLogger(__name__)
ACTOR = "scheduler"


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def trial_context(participation: Participation) -> dict[str, Any]:
    """What every email about a participation says of its trial."""
    trial = participation.trial
    zone = ZoneInfo(trial.timezone)
    return {
        "candidate_name": participation.dossier.candidate.full_name,
        "job_title": trial.job.title,
        "trial_title": trial.title,
        "timezone": trial.timezone,
        "location": trial.location,
        "info": trial.info,
        "starts_at": _local(participation.starts_at, zone),
        "duration_minutes": int(participation.duration.total_seconds() // 60),
        "response_deadline": _local(participation.response_deadline, zone),
    }


def _answers_until(participation: Participation) -> datetime:
    """Until when the candidate may answer or change: the answer deadline, or the trial."""
    return participation.response_deadline or participation.trial.starts_at


def link_for(
    tokens: list[dict[str, Any]], participation: Participation, purpose: LinkPurpose
) -> str:
    """A signed link for the candidate, valid until the answer deadline (or the trial); its
    row is added to `tokens`, for the caller to write with the others (`links.insert_all`)."""
    token, signed = links.new_link(
        purpose=purpose,
        candidate_id=participation.dossier.candidate_id,
        application_id=participation.dossier.application_id,
        participation_id=participation.id,
        expires_at=_answers_until(participation),
    )
    tokens.append(token)
    return links.url(signed)


def answer_links(tokens: list[dict[str, Any]], participation: Participation) -> dict[str, str]:
    """Accept and decline links for a fixed-time invitation (one page, two answers)."""
    return _answers(link_for(tokens, participation, LinkPurpose.ANSWER_INVITATION))


def _answers(page: str) -> dict[str, str]:
    return {"accept_link": f"{page}?answer=accept", "decline_link": f"{page}?answer=decline"}


def send_calendars(
    batch: SendCalendars, *, publish: Publish, event_id: uuid.UUID | None = None
) -> None:
    """Queue the email of each calendar change, once per SEQUENCE, in one transaction, which
    also marks the outbox event `event_id` done (until then the relay publishes it again)."""
    with unit_of_work(publish) as session:
        if event_id is not None:
            mark_done(session, event_id)
        ids = [change.participation_id for change in batch.items]
        participations = {
            p.id: p
            for p in session.scalars(
                select(Participation)
                .where(Participation.id.in_(ids))
                .options(*loading.PARTICIPATION)
            )
        }
        current = []
        for change in batch.items:
            participation = participations.get(change.participation_id)
            if participation is None:
                log.error("participation %s does not exist", change.participation_id)
            elif participation.sequence == change.sequence:
                kind = _kind(participation, change.purpose)
                current.append((change, participation, kind, message_key(kind, participation)))
            # else superseded: the change of the newer SEQUENCE sends the current calendar
        # One query for the whole block: the emails already queued (a batch delivered twice).
        queued = queued_keys(session, [key for *_, key in current])
        tokens: list[dict[str, Any]] = []
        emails = []
        for change, participation, kind, key in current:
            if key not in queued:
                queued.add(key)
                emails.append(_calendar_email(tokens, participation, change, kind, key))
        links.insert_all(session, tokens)
        queue_messages(session, emails, actor=ACTOR)


def _kind(participation: Participation, purpose: str) -> str:
    """The email that carries a calendar change."""
    if purpose == "cancel":
        return "cancellation"
    if purpose == "expire":
        return "invitation_expired"
    if purpose == "update":
        return "postponement"
    if purpose == "change":
        return "trial_changed"
    if purpose == "confirm_booking":
        return "booking_confirmation"
    if participation.trial.uses_slots and participation.starts_at is None:
        return "slot_booking_invitation"  # a link to choose a slot; no calendar yet
    return "trial_invitation"


_UPDATES = ("postponement", "trial_changed")
# The emails that end a participation: they remove its event from the candidate's calendar.
_ENDINGS = ("cancellation", "invitation_expired")


def _may_answer(participation: Participation) -> bool:
    """A fixed-time invitation still waiting for its answer, before the deadline."""
    return (
        participation.status == ParticipationStatus.INVITED
        and participation.slot_id is None
        and not participation.trial.uses_slots
        and _answers_until(participation) > utcnow()
    )


def _may_change_slot(participation: Participation) -> bool:
    """A booked slot, which its page can still change (until the deadline)."""
    return participation.slot_id is not None and _answers_until(participation) > utcnow()


def message_key(kind: str, participation: Participation) -> str:
    """An email about the participation, once per SEQUENCE of its calendar (a new time sends
    again): its calendar emails, and the reminders."""
    return f"{kind}:{participation.id}:{participation.sequence}"


def _calendar_email(
    tokens: list[dict[str, Any]],
    participation: Participation,
    event: CalendarChange,
    kind: str,
    key: str,
) -> Email:
    """The email (`kind`, under `key`) for one calendar change of a participation; the rows of
    the links it carries are added to `tokens`."""
    context = trial_context(participation)
    method: str | None = "REQUEST"
    # The candidate's link, in the email and in the event it puts in their calendar.
    link: str | None = None
    link_kind: LinkKind | None = None
    until: datetime | None = None
    if kind == "trial_invitation" or (kind in _UPDATES and _may_answer(participation)):
        link, link_kind = link_for(tokens, participation, LinkPurpose.ANSWER_INVITATION), "answer"
        until = participation.response_deadline
        context.update(_answers(link))
    elif kind in (*_UPDATES, "booking_confirmation") and _may_change_slot(participation):
        # Not a slot given at the deadline: nothing left to change.
        link, link_kind = link_for(tokens, participation, LinkPurpose.BOOK_SLOT), "change"
        until = _answers_until(participation)
        context["change_link"] = link
    if kind in _ENDINGS:
        # Never booked: no calendar entry to remove, and no time of theirs to name.
        method = "CANCEL" if has_calendar_event(participation) else None
    if kind == "cancellation":
        context["reason"] = event.reason
        if event.ending:
            context["ending"] = event.ending
    elif kind == "trial_changed":
        context["changed"] = event.changed or []
        context["reason"] = event.reason
    elif kind == "postponement":
        zone = ZoneInfo(participation.trial.timezone)
        context["old_starts_at"] = _local(event.previous_starts_at, zone) or context["starts_at"]
        context["reason"] = event.reason
    elif kind == "slot_booking_invitation":
        method = None
        context["booking_link"] = link_for(tokens, participation, LinkPurpose.BOOK_SLOT)
    ics = None
    if method == "CANCEL":
        ics = build_cancel(trial_event(participation)).decode()
    elif method == "REQUEST":
        ics = build_request(
            trial_event(participation, link=link, link_kind=link_kind, until=until)
        ).decode()
    return Email(
        kind=kind,
        idempotency_key=key,
        candidate=participation.dossier.candidate,
        context=context,
        dossier_id=participation.dossier_id,
        calendar_method=method,
        calendar_ics=ics,
    )
