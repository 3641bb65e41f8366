import uuid

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.api.schemas import Input, Omittable, Resource, UTCDateTime
from shared.i18n import Language


class CandidateCreate(Input):
    first_name: str = Field(min_length=1, max_length=200)
    last_name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: str | None = Field(default=None, max_length=50)
    language: Language = "fr"


class CandidateUpdate(Input):
    first_name: Omittable[str] = Field(default=None, min_length=1, max_length=200)
    last_name: Omittable[str] = Field(default=None, min_length=1, max_length=200)
    email: Omittable[EmailStr] = None
    phone: str | None = Field(default=None, max_length=50)
    language: Omittable[Language] = None


class CandidateOut(Resource):
    first_name: str
    last_name: str
    email: str
    phone: str | None
    language: str
    anonymised_at: UTCDateTime | None = Field(description="when the person's data was erased")


class CandidateRef(BaseModel):
    """The candidate as other resources show it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    language: str
