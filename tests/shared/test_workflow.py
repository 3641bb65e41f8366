"""The state machines: every action from every state is allowed or refused as DESIGN.md says."""

import pytest

from shared.workflow import (
    DOSSIER_TRANSITIONS,
    PARTICIPATION_TRANSITIONS,
    ApplicationStatus,
    DossierStatus,
    ParticipationStatus,
    TransitionRefused,
    application_transition,
    dossier_transition,
    participation_transition,
)

D = DossierStatus

EXPECTED = {
    ("under_review", "admit"): "open",
    ("under_review", "reject"): "rejected",
    ("open", "reject"): "rejected",
    ("failed", "reject"): "rejected",
    ("open", "await_deliberation"): "awaiting_deliberation",
    ("open", "fail"): "failed",
    ("awaiting_deliberation", "retain"): "retained",
    ("reserve", "retain"): "retained",
    ("awaiting_deliberation", "put_in_reserve"): "reserve",
    ("awaiting_deliberation", "not_retain"): "not_retained",
    ("retained", "accept_offer"): "offer_accepted",
    ("retained", "decline_offer"): "offer_declined",
    ("offer_accepted", "hire"): "hired",
    ("offer_accepted", "no_show"): "no_show",
    ("hired", "leave"): "left",
}


@pytest.mark.parametrize("state", list(D))
@pytest.mark.parametrize("action", sorted(DOSSIER_TRANSITIONS))
def test_dossier_transitions(state: str, action: str) -> None:
    if action == "withdraw":
        allowed = state not in {D.HIRED, D.LEFT, D.WITHDRAWN, D.REJECTED, D.NOT_RETAINED}
        expected = "withdrawn" if allowed else None
    else:
        expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(TransitionRefused) as refused:
            dossier_transition(state, action)
        assert refused.value.state == state
        assert state in str(refused.value)
    else:
        assert dossier_transition(state, action) == expected


@pytest.mark.parametrize("state", list(ApplicationStatus))
def test_application_validation(state: str) -> None:
    if state in {"submitted", "resubmitted"}:
        assert application_transition(state, "validate") == "validated"
    else:
        with pytest.raises(TransitionRefused, match=state):
            application_transition(state, "validate")


PARTICIPATION_EXPECTED = {
    ("invited", "accept"): "accepted",
    ("invited", "decline"): "declined",
    ("accepted", "decline"): "declined",  # a booked slot given up
    ("invited", "book_slot"): "accepted",
    ("accepted", "book_slot"): "accepted",  # another slot
    ("invited", "expire"): "expired",
    ("invited", "cancel"): "cancelled",
    ("accepted", "cancel"): "cancelled",
}


@pytest.mark.parametrize("state", list(ParticipationStatus))
@pytest.mark.parametrize("action", sorted(PARTICIPATION_TRANSITIONS))
def test_participation_transitions(state: str, action: str) -> None:
    expected = PARTICIPATION_EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(TransitionRefused) as refused:
            participation_transition(state, action)
        assert refused.value.entity == "participation"
        assert f"the participation is '{state}'" in str(refused.value)
    else:
        assert participation_transition(state, action) == expected
