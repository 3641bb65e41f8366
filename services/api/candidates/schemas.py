import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.api.schemas import Input, Resource

Language = Literal["fr", "nl", "de", "en"]


class CandidateCreate(Input):
    first_name: str = Field(min_length=1, max_length=200)
    last_name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: str | None = Field(default=None, max_length=50)
    language: Language = "fr"


class CandidateUpdate(Input):
    first_name: str | None = Field(default=None, min_length=1, max_length=200)
    last_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)
    language: Language | None = None


class CandidateOut(Resource):
    first_name: str
    last_name: str
    email: str
    phone: str | None
    language: str


class CandidateRef(BaseModel):
    """The candidate as other resources show it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    language: str
