"""The states of jobs, trials, applications, dossiers and participations, and the state
machines of the last three: pure functions. A status column holds one of these enums
(shared/models), and a change of status goes through a transition below."""

from enum import StrEnum
from typing import TypeVar


class TransitionRefused(Exception):
    """An action that the current state does not allow (the API answers 409)."""

    def __init__(self, entity: str, state: str, action: str) -> None:
        super().__init__(f"cannot {action}: the {entity} is '{state}'")
        self.entity = entity
        self.state = state
        self.action = action


class JobStatus(StrEnum):
    OPEN = "open"  # candidates may apply through its offer page
    CLOSED = "closed"


class TrialStatus(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class ApplicationKind(StrEnum):
    SPECIFIC = "specific"  # for one job
    SPONTANEOUS = "spontaneous"  # for the CV bank, no job


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    RESUBMITTED = "resubmitted"
    VALIDATED = "validated"
    UNAVAILABLE = "unavailable"
    REJECTED = "rejected"


class DossierStatus(StrEnum):
    UNDER_REVIEW = "under_review"  # with DOSSIER_REVIEW: awaiting HR's acceptance for the post
    OPEN = "open"  # admitted for the post: eligible for trials
    REJECTED = "rejected"
    FAILED = "failed"
    AWAITING_DELIBERATION = "awaiting_deliberation"
    RETAINED = "retained"
    RESERVE = "reserve"
    NOT_RETAINED = "not_retained"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_DECLINED = "offer_declined"
    HIRED = "hired"
    LEFT = "left"
    NO_SHOW = "no_show"
    WITHDRAWN = "withdrawn"


class ParticipationStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


A = ApplicationStatus
D = DossierStatus
P = ParticipationStatus

APPLICATION_TRANSITIONS: dict[str, tuple[frozenset[A], A]] = {
    "validate": (frozenset({A.SUBMITTED, A.RESUBMITTED}), A.VALIDATED),
    "request_changes": (frozenset({A.SUBMITTED, A.RESUBMITTED}), A.CHANGES_REQUESTED),
    "resubmit": (frozenset({A.CHANGES_REQUESTED}), A.RESUBMITTED),
    "mark_unavailable": (
        frozenset({A.SUBMITTED, A.CHANGES_REQUESTED, A.RESUBMITTED, A.VALIDATED}),
        A.UNAVAILABLE,
    ),
}

# States in which HR may still edit an application or propose it a job.
APPLICATION_OPEN_STATES = frozenset(A) - {A.REJECTED}

_BEFORE_HIRED = frozenset(D) - {D.HIRED, D.LEFT, D.WITHDRAWN, D.REJECTED, D.NOT_RETAINED}

DOSSIER_TRANSITIONS: dict[str, tuple[frozenset[D], D]] = {
    "admit": (frozenset({D.UNDER_REVIEW}), D.OPEN),
    "reject": (frozenset({D.UNDER_REVIEW, D.OPEN, D.FAILED}), D.REJECTED),
    "await_deliberation": (frozenset({D.OPEN}), D.AWAITING_DELIBERATION),
    "fail": (frozenset({D.OPEN}), D.FAILED),
    "retain": (frozenset({D.AWAITING_DELIBERATION, D.RESERVE}), D.RETAINED),
    "put_in_reserve": (frozenset({D.AWAITING_DELIBERATION}), D.RESERVE),
    "not_retain": (frozenset({D.AWAITING_DELIBERATION}), D.NOT_RETAINED),
    "accept_offer": (frozenset({D.RETAINED}), D.OFFER_ACCEPTED),
    "decline_offer": (frozenset({D.RETAINED}), D.OFFER_DECLINED),
    "hire": (frozenset({D.OFFER_ACCEPTED}), D.HIRED),
    "no_show": (frozenset({D.OFFER_ACCEPTED}), D.NO_SHOW),
    "leave": (frozenset({D.HIRED}), D.LEFT),
    "withdraw": (_BEFORE_HIRED, D.WITHDRAWN),
}

# Dossiers that can still be invited to a trial.
INVITABLE_DOSSIER_STATES = frozenset({D.OPEN})

# A participation is answered once while invited, except that a booked slot (accepted) may be
# changed or given up; anything current can be cancelled, by HR or by the dossier's ending.
PARTICIPATION_TRANSITIONS: dict[str, tuple[frozenset[P], P]] = {
    "accept": (frozenset({P.INVITED}), P.ACCEPTED),
    "decline": (frozenset({P.INVITED, P.ACCEPTED}), P.DECLINED),
    "book_slot": (frozenset({P.INVITED, P.ACCEPTED}), P.ACCEPTED),
    "expire": (frozenset({P.INVITED}), P.EXPIRED),
    "cancel": (frozenset({P.INVITED, P.ACCEPTED}), P.CANCELLED),
}

# Participations still on: invited, or accepted and not yet taken place.
CURRENT_PARTICIPATION_STATES = frozenset({P.INVITED, P.ACCEPTED})

S = TypeVar("S", bound=StrEnum)


def _apply(machine: dict[str, tuple[frozenset[S], S]], entity: str, state: str, action: str) -> S:
    allowed_from, target = machine[action]
    if state not in allowed_from:
        raise TransitionRefused(entity, state, action)
    return target


def application_transition(state: str, action: str) -> ApplicationStatus:
    """The application's next state after `action`, or TransitionRefused."""
    return _apply(APPLICATION_TRANSITIONS, "application", state, action)


def dossier_transition(state: str, action: str) -> DossierStatus:
    """The dossier's next state after `action`, or TransitionRefused."""
    return _apply(DOSSIER_TRANSITIONS, "dossier", state, action)


def participation_transition(state: str, action: str) -> ParticipationStatus:
    """The participation's next state after `action`, or TransitionRefused."""
    return _apply(PARTICIPATION_TRANSITIONS, "participation", state, action)
