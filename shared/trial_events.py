"""The calendar event of a participation, as its emails carry it and its page offers it."""

from datetime import datetime

from shared.calendar import TrialEvent
from shared.emails.calendar_text import LinkKind, event_description
from shared.models import Participation, utcnow
from shared.settings import get_settings


def trial_event(
    participation: Participation,
    *,
    link: str | None = None,
    link_kind: LinkKind | None = None,
    until: datetime | None = None,
) -> TrialEvent:
    """The calendar event of one participation at its current SEQUENCE. Its DESCRIPTION says
    the trial's information, then the candidate's `link` (to answer, or to change their slot;
    working `until`) and the HR contact, in the candidate's language; URL is that link."""
    settings = get_settings()
    trial = participation.trial
    candidate = participation.dossier.candidate
    organizer_name, organizer_email = settings.sender
    assert participation.starts_at is not None
    description = event_description(
        language=candidate.language,
        info=trial.info,
        contact=settings.contact,
        timezone=trial.timezone,
        link=link,
        link_kind=link_kind,
        until=until,
    )
    return TrialEvent(
        uid=participation.calendar_uid,
        sequence=participation.sequence,
        summary=f"{trial.title} – {trial.job.title}",
        description=description,
        url=link or "",
        location=trial.location,
        starts_at=participation.starts_at,
        duration=participation.duration,
        timezone=trial.timezone,
        organizer_email=organizer_email,
        organizer_name=organizer_name or "Recrue",
        attendee_email=candidate.email,
        attendee_name=candidate.full_name,
        stamp=utcnow(),
    )
