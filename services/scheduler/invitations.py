"""Trial invitations: build the participation's calendar and queue the email that carries it."""

import logging
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from shared.calendar import TrialEvent, build_request
from shared.messages import queue_message
from shared.models import Participation, utcnow
from shared.outbox import Publish, unit_of_work
from shared.settings import get_settings
from shared.tasks import SendInvitation

log = logging.getLogger(__name__)
ACTOR = "scheduler"
LOCAL_FORMAT = "%Y-%m-%d %H:%M"


def trial_event(participation: Participation) -> TrialEvent:
    """The calendar event of one participation at its current SEQUENCE."""
    settings = get_settings()
    trial = participation.trial
    candidate = participation.dossier.candidate
    organizer_name, organizer_email = parseaddr(settings.mail_from)
    return TrialEvent(
        uid=participation.calendar_uid,
        sequence=participation.sequence,
        summary=f"{trial.title} – {trial.job.title}",
        description=trial.info,
        location=trial.location,
        starts_at=participation.starts_at,
        duration=trial.duration,
        timezone=trial.timezone,
        organizer_email=organizer_email,
        organizer_name=organizer_name or "Recrue",
        attendee_email=candidate.email,
        attendee_name=candidate.full_name,
        stamp=utcnow(),
    )


def send_invitation(invitation: SendInvitation, *, publish: Publish) -> None:
    """Queue the invitation email of a participation, once per SEQUENCE."""
    with unit_of_work(publish) as session:
        participation = session.get(Participation, invitation.participation_id)
        if participation is None:
            log.error("participation %s does not exist", invitation.participation_id)
            return
        if participation.sequence != invitation.sequence:
            return  # superseded: the event of the newer SEQUENCE sends the current calendar
        trial = participation.trial
        zone = ZoneInfo(trial.timezone)
        deadline = participation.response_deadline
        ics = build_request(trial_event(participation)).decode()
        queue_message(
            session,
            kind="trial_invitation",
            idempotency_key=f"invitation:{participation.id}:{participation.sequence}",
            candidate=participation.dossier.candidate,
            context={
                "candidate_name": participation.dossier.candidate.full_name,
                "job_title": trial.job.title,
                "trial_title": trial.title,
                "starts_local": participation.starts_at.astimezone(zone).strftime(LOCAL_FORMAT),
                "timezone": trial.timezone,
                "duration_minutes": trial.duration_minutes,
                "location": trial.location,
                "info": trial.info,
                "response_deadline_local": (
                    deadline.astimezone(zone).strftime(LOCAL_FORMAT) if deadline else None
                ),
            },
            actor=ACTOR,
            dossier_id=participation.dossier_id,
            calendar_method="REQUEST",
            calendar_ics=ics,
        )
