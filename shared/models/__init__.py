"""All tables, imported here so that `Base.metadata` knows every one."""

from shared.models.api_key import ApiKey
from shared.models.application import Application
from shared.models.base import Base, utcnow
from shared.models.candidate import Candidate
from shared.models.candidate_token import CandidateToken, LinkPurpose
from shared.models.dossier import Dossier
from shared.models.examiner import TrialExaminer
from shared.models.history import HistoryEntry
from shared.models.idempotent_request import IdempotentRequest
from shared.models.job import Job
from shared.models.message import Message, MessageStatus
from shared.models.note import Note
from shared.models.outbox import OutboxEvent
from shared.models.person import Person
from shared.models.reply_count import CalendarReplyCount
from shared.models.stored_file import FilePurpose, StoredFile
from shared.models.trial import Participation, Slot, Trial

__all__ = [
    "ApiKey",
    "Application",
    "Base",
    "CalendarReplyCount",
    "Candidate",
    "CandidateToken",
    "Dossier",
    "FilePurpose",
    "HistoryEntry",
    "IdempotentRequest",
    "Job",
    "LinkPurpose",
    "Message",
    "MessageStatus",
    "Note",
    "OutboxEvent",
    "Participation",
    "Person",
    "Slot",
    "StoredFile",
    "Trial",
    "TrialExaminer",
    "utcnow",
]
