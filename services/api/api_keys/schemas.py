import uuid

from pydantic import Field, StrictBool

from services.api.auth import Role
from services.api.schemas import Input, Resource, UTCDateTime


class ApiKeyCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    person_id: uuid.UUID | None = Field(
        default=None,
        description="a person's own key: it acts as them (required for the examiner role)",
    )
    acts_for_people: StrictBool = Field(
        default=False,
        description="a service's key that may send `On-Behalf-Of: <email>` (never with more "
        "than its own role)",
    )


class ApiKeyOut(Resource):
    name: str
    role: Role
    person_id: uuid.UUID | None
    acts_for_people: bool
    revoked_at: UTCDateTime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="shown this once: only its hash is stored")
