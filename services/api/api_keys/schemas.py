from typing import Literal

from pydantic import Field

from services.api.schemas import Input, Resource, UTCDateTime

Role = Literal["admin", "hr", "examiner", "viewer"]


class ApiKeyCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    role: Role


class ApiKeyOut(Resource):
    name: str
    role: str
    revoked_at: UTCDateTime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="shown this once: only its hash is stored")
