import re
import uuid

from pydantic import BaseModel, Field, field_validator, model_validator

from services.api.schemas import Input, Resource, UTCDateTime, case, rules
from shared.emails.kinds import KINDS

# Before links' ids were kept out of messages' keys, a proposed job's key was its link's id.
LINK_ID_KEY = re.compile(r"^job_proposed:[0-9a-fA-F-]{36}$")

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
    subject: str | None = Field(description="the subject as sent; null until the notifier wrote it")
    status: str
    attempts: int
    last_response: str | None
    idempotency_key: str
    person_id: uuid.UUID | None = Field(description="the person who had it sent, if a person")
    person_name: str | None
    service: str | None = Field(description="the key's name or the token's client id")
    sent_at: UTCDateTime | None

    @field_validator("idempotency_key")
    @classmethod
    def _no_link_id(cls, key: str) -> str:
        """A key never shows a candidate link's id, to any role (older rows had one)."""
        return "job_proposed:link-id-hidden" if LINK_ID_KEY.match(key) else key


class FreeMessage(Input):
    """A message written here (`subject` and `body`), or a `template`: an email kind that needs
    nothing but the candidate and the job (see GET /email-previews)."""

    model_config = rules(
        oneOf=[case(("subject", "body"), ("template",)), case(("template",), ("subject", "body"))]
    )

    dossier_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    subject: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=20_000)
    template: str | None = Field(
        default=None,
        max_length=50,
        json_schema_extra={"enum": sorted(TEMPLATES)},  # type: ignore[dict-item]
    )

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
