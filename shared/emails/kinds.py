"""Every email kind: the context keys its templates use, and a realistic sample context.

Datetimes are ISO 8601 strings with an offset and `timezone` is an IANA name: the templates
write them in the candidate's locale, in that zone. Dates (`answer_by`, `started_on`) are ISO
dates. Links are the candidate's signed http(s) links. `calendar_attached` and `privacy_link` are
not for callers to give: the notifier sets them from the message row, so that an email mentions a
calendar only when one goes with it, and every email to a candidate ends with the link to ask for
their data or its erasure. The samples serve the tests and the HR preview of a template.
"""

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class EmailKind:
    """The contract of one kind of email."""

    name: str
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    sample: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def keys(self) -> tuple[str, ...]:
        return self.required + self.optional


_BASE_URL = "https://recrutement.commune.example/c"
_CANDIDATE = {"candidate_name": "Élise Dupont"}
_JOB = {"job_title": "Juriste (niveau A1)"}
_TRIAL = _JOB | {"trial_title": "Épreuve écrite", "timezone": "Europe/Brussels"}
_PLACE = {
    "location": "Hôtel de ville, salle du Conseil, Grand-Place 1, 1000 Bruxelles",
    "info": "Apportez un stylo bleu et votre carte d'identité.\nLes calculatrices sont interdites.",
}
# Set by the notifier from the message row: whether a calendar part goes with the email.
_CALENDAR = ("calendar_attached",)
# Set by the notifier for every email to a candidate: the footer's link to ask for a copy of
# their data or its erasure.
_FOOTER = {"privacy_link": f"{_BASE_URL}/privacy/eyJjIjoicHJpdmFjeSJ9.privacy"}
_ANSWER = {
    "accept_link": f"{_BASE_URL}/eyJwIjoiYWNjZXB0In0.accept",
    "decline_link": f"{_BASE_URL}/eyJwIjoiZGVjbGluZSJ9.decline",
}


def _kind(
    name: str,
    description: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    sample: dict[str, Any],
) -> EmailKind:
    required = ("candidate_name", *required)
    optional = (*optional, *_FOOTER)
    unknown = set(sample) - set(required) - set(optional)
    assert not unknown, f"{name}: sample has keys outside the contract: {unknown}"
    sample = _CANDIDATE | _FOOTER | sample
    return EmailKind(name, description, required, optional, MappingProxyType(sample))


_ALL = [
    _kind(
        "application_validated",
        "An application was validated: a dossier is open, or it joined the CV bank.",
        (),
        ("job_title", "job_reference"),
        _JOB | {"job_reference": "2026-JUR-01"},
    ),
    _kind(
        "changes_requested",
        "HR asks the candidate to change and resubmit an application.",
        ("message", "link"),
        ("job_title",),
        _JOB
        | {
            "message": "Votre CV ne mentionne pas votre diplôme.\nMerci de le joindre.",
            "link": f"{_BASE_URL}/eyJhIjoidXBkYXRlIn0.update",
        },
    ),
    _kind(
        "job_proposed",
        "HR proposes that a candidate of the CV bank apply to a job.",
        ("job_title", "job_reference", "link"),
        ("message",),
        _JOB
        | {
            "job_reference": "2026-JUR-01",
            "message": "Votre expérience en droit administratif correspond à ce poste.",
            "link": f"{_BASE_URL}/eyJqIjoiYXBwbHkifQ.apply",
        },
    ),
    _kind(
        "dossier_admitted",
        "HR accepts a dossier under review for the post (DOSSIER_REVIEW).",
        ("job_title",),
        (),
        _JOB,
    ),
    _kind(
        "dossier_rejected",
        "HR rejects a dossier for the post.",
        ("job_title",),
        ("reason",),
        _JOB | {"reason": "Le diplôme requis (master en droit) n'est pas présent dans le dossier."},
    ),
    _kind(
        "free_message",
        "A message written by HR to one or more candidates.",
        ("subject", "body"),
        (),
        {
            "subject": "Documents à apporter le jour de l'épreuve",
            "body": "Merci d'apporter une copie de votre diplôme.\n\nBien à vous.",
        },
    ),
    _kind(
        "trial_invitation",
        "Invitation to a trial at a fixed time, with its calendar invitation.",
        ("job_title", "trial_title", "starts_at", "timezone", "duration_minutes"),
        ("location", "info", "response_deadline", "accept_link", "decline_link", *_CALENDAR),
        _TRIAL
        | _PLACE
        | _ANSWER
        | {
            "calendar_attached": True,
            "starts_at": "2026-03-29T10:00:00+02:00",
            "duration_minutes": 90,
            "response_deadline": "2026-03-20T12:00:00+01:00",
        },
    ),
    _kind(
        "examiner_invitation",
        "To an examiner (`candidate_name`: the examiner's name), the trial they examine, with "
        "its calendar invitation (or its update, when the trial changes); for a slot trial, its "
        "slots (`slots`: their start times).",
        ("job_title", "trial_title", "starts_at", "timezone", "duration_minutes"),
        ("location", "info", "slots", *_CALENDAR),
        _TRIAL
        | _PLACE
        | {
            "calendar_attached": True,
            "starts_at": "2026-04-15T09:00:00+02:00",
            "duration_minutes": 90,
            "slots": ["2026-04-15T09:00:00+02:00", "2026-04-15T09:30:00+02:00"],
        },
    ),
    _kind(
        "examiner_unassigned",
        "To an examiner no longer assigned to a trial, or whose trial is cancelled, with the "
        "calendar cancellation.",
        ("job_title", "trial_title", "starts_at", "timezone"),
        _CALENDAR,
        _TRIAL | {"calendar_attached": True, "starts_at": "2026-04-15T09:00:00+02:00"},
    ),
    _kind(
        "slot_booking_invitation",
        "Invitation to a trial with slot booking: the candidate picks a time.",
        ("job_title", "trial_title", "booking_link", "timezone"),
        ("response_deadline", "location", "info"),
        _TRIAL
        | _PLACE
        | {
            "trial_title": "Entretien oral",
            "booking_link": f"{_BASE_URL}/eyJiIjoiYm9vayJ9.book",
            "response_deadline": "2026-04-10T18:00:00+02:00",
        },
    ),
    _kind(
        "booking_confirmation",
        "The candidate booked (or changed) a slot: the confirmed time and its calendar.",
        ("job_title", "trial_title", "starts_at", "timezone", "duration_minutes"),
        ("location", "info", "change_link", *_CALENDAR),
        _TRIAL
        | _PLACE
        | {
            "trial_title": "Entretien oral",
            "calendar_attached": True,
            "starts_at": "2026-04-14T14:30:00+02:00",
            "duration_minutes": 30,
            "change_link": f"{_BASE_URL}/eyJiIjoiY2hhbmdlIn0.change",
        },
    ),
    _kind(
        "postponement",
        "A trial moved to a new time, with the updated calendar invitation.",
        ("job_title", "trial_title", "old_starts_at", "starts_at", "timezone", "duration_minutes"),
        # The answer links while a fixed-time invitation awaits its answer; `change_link` for
        # a booked slot.
        ("location", "reason", "response_deadline", *_ANSWER, "change_link", *_CALENDAR),
        _TRIAL
        | {
            "calendar_attached": True,
            "location": _PLACE["location"],
            "old_starts_at": "2026-03-29T10:00:00+02:00",
            "starts_at": "2026-04-05T09:30:00+02:00",
            "duration_minutes": 90,
            "reason": "La salle n'est pas disponible à la date prévue.",
        },
    ),
    _kind(
        "trial_changed",
        "A trial's title, place, duration or information changed (not its time), with the "
        "updated calendar invitation. `changed` lists the fields: title, location, "
        "duration_minutes, info.",
        ("job_title", "trial_title", "starts_at", "timezone", "duration_minutes", "changed"),
        ("location", "info", "reason", "response_deadline", *_ANSWER, "change_link", *_CALENDAR),
        _TRIAL
        | _PLACE
        | {
            "calendar_attached": True,
            "starts_at": "2026-03-29T10:00:00+02:00",
            "duration_minutes": 120,
            "changed": ["location", "duration_minutes"],
            "reason": "La salle du Conseil est en travaux.",
        },
    ),
    _kind(
        "cancellation",
        "A trial was cancelled, with the calendar cancellation.",
        ("job_title", "trial_title", "timezone"),
        # `ending`: the participation ended otherwise (declined, dossier_rejected,
        # dossier_withdrawn, dossier_failed): the email says so instead of "cancelled".
        # No `starts_at`: an oral trial's slot never booked, no time to name.
        ("starts_at", "reason", "ending", *_CALENDAR),
        _TRIAL
        | {
            "calendar_attached": True,
            "starts_at": "2026-03-29T10:00:00+02:00",
            "reason": "Le recrutement est suspendu.",
        },
    ),
    _kind(
        "response_reminder",
        "Reminder before the deadline to answer an invitation.",
        ("job_title", "trial_title", "response_deadline", "timezone"),
        ("accept_link", "decline_link", "booking_link"),
        _TRIAL | _ANSWER | {"response_deadline": "2026-03-20T12:00:00+01:00"},
    ),
    _kind(
        "trial_reminder",
        "Reminder shortly before a trial.",
        ("job_title", "trial_title", "starts_at", "timezone"),
        ("location", "info"),
        _TRIAL | _PLACE | {"starts_at": "2026-03-29T10:00:00+02:00"},
    ),
    _kind(
        "invitation_expired",
        "The deadline to answer an invitation passed without an answer (with METHOD:CANCEL when "
        "the invitation had put an event in the calendar).",
        ("job_title", "trial_title"),
        _CALENDAR,
        {"job_title": _JOB["job_title"], "trial_title": "Épreuve écrite"},
    ),
    _kind(
        "result",
        "The result of a trial, when HR chooses to communicate it.",
        ("job_title", "trial_title", "passed"),
        ("score", "max_score"),
        {**_JOB, "trial_title": "Épreuve écrite", "passed": True, "score": 14.5, "max_score": 20},
    ),
    _kind(
        "not_retained",
        "The board did not retain the dossier.",
        ("job_title",),
        (),
        _JOB,
    ),
    _kind(
        "offer_confirmation",
        "The board retained the candidate: the offer to accept or decline.",
        ("job_title", "accept_link", "decline_link"),
        ("answer_by",),
        _JOB | _ANSWER | {"answer_by": "2026-06-15"},
    ),
    _kind(
        "next_of_reserve_offer",
        "The post is offered to the next candidate of the reserve.",
        ("job_title", "accept_link", "decline_link"),
        ("answer_by",),
        _JOB | _ANSWER | {"answer_by": "2026-07-01"},
    ),
    _kind(
        "welcome",
        "The recruit started in the post.",
        ("job_title", "started_on"),
        (),
        _JOB | {"started_on": "2026-09-01"},
    ),
    _kind(
        "cv_bank_renewal",
        "A profile of the CV bank reaches the end of its keeping: keep it or delete it now.",
        ("kept_until", "months", "link"),
        (),
        {
            "kept_until": "2026-10-31",
            "months": 12,
            "link": f"{_BASE_URL}/eyJrIjoia2VlcCJ9.keep",
        },
    ),
]

KINDS: MappingProxyType[str, EmailKind] = MappingProxyType({kind.name: kind for kind in _ALL})
