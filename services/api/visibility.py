"""What each role reads of the free text HR writes: notes, comments, call notes and reasons are
for HR and admins only, wherever they appear (resources, histories, lists); an examiner also
reads the result comments of the trials they grade. Viewers (board members) and examiners see
every other field."""

import uuid
from collections.abc import Iterable
from typing import Any

from services.api.auth import Agent, Role, examines, reads_hr_text
from services.api.dossiers.schemas import DossierOut, HistoryEntryOut
from services.api.trials.schemas import ParticipationOut
from shared.models import Dossier, HistoryEntry

# The keys of history entries whose values HR wrote: a rejection's or a postponement's reason,
# an offer call's note, the message of a request for changes or a job proposal, a comment.
HR_TEXT = frozenset({"reason", "note", "message", "comment"})


def dossier(row: Dossier, agent: Agent) -> DossierOut:
    """The dossier as this agent may read it."""
    out = DossierOut.model_validate(row)
    if not reads_hr_text(agent):
        out.left_reason = None
        out.legal_hold_reason = None
        graded = {p.trial_id for p in row.participations if examines(agent, p.trial.examiner_ids)}
        participations(out.participations, agent, graded)
    return out


def participations(
    items: list[ParticipationOut], agent: Agent, graded: set[uuid.UUID]
) -> list[ParticipationOut]:
    """Result comments stay with HR, and with an examiner for the trials in `graded` (those
    assigned to them)."""
    if reads_hr_text(agent):
        return items
    for item in items:
        readable = Role.EXAMINER in agent.roles and item.trial_id in graded
        if item.result is not None and not readable:
            item.result = {k: v for k, v in item.result.items() if k != "comment"}
    return items


def history(entries: Iterable[HistoryEntry], agent: Agent) -> list[HistoryEntryOut]:
    """History entries without the free text HR wrote, for the roles that may not read it."""
    out = [HistoryEntryOut.model_validate(entry) for entry in entries]
    if reads_hr_text(agent):
        return out
    for entry in out:
        entry.before = _without_hr_text(entry.before)
        entry.after = _without_hr_text(entry.after)
    return out


def _without_hr_text(values: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if values is None else {k: v for k, v in values.items() if k not in HR_TEXT}
