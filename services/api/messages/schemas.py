import uuid

from pydantic import BaseModel, Field, model_validator

from services.api.schemas import Input, Resource, UTCDateTime
from shared.emails.kinds import KINDS

# Kinds that a message to selected candidates can use: they need only the candidate and job.
TEMPLATES = frozenset(
    k.name
    for k in KINDS.values()
    if set(k.required) <= {"candidate_name", "job_title", "job_reference"}
)


class MessageOut(Resource):
    dossier_id: uuid.UUID | None
    application_id: uuid.UUID | None
    kind: str
    language: str
    to_address: str
    status: str
    attempts: int
    last_response: str | None
    idempotency_key: str
    sent_at: UTCDateTime | None


class FreeMessage(Input):
    """A message written here (`subject` and `body`), or a `template`: an email kind that needs
    nothing but the candidate and the job (see GET /email-previews)."""

    dossier_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    subject: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=20_000)
    template: str | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _one_way(self) -> "FreeMessage":
        written = self.subject is not None and self.body is not None
        if written == (self.template is not None) or (self.subject is None) != (self.body is None):
            raise ValueError("give either subject and body, or template")
        if self.template is not None and self.template not in TEMPLATES:
            raise ValueError(f"template must be one of {', '.join(sorted(TEMPLATES))}")
        return self


class MessagesOut(BaseModel):
    items: list[MessageOut]
