import uuid

from fastapi import APIRouter

from services.api.api_keys import service
from services.api.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from services.api.deps import Admin, SessionDep
from services.api.idempotency import Idempotent, not_replayable

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.post("", status_code=201, response_model=ApiKeyCreated, dependencies=[Idempotent])
@not_replayable  # the answer is the key itself: never stored for a repeat
def create_api_key(data: ApiKeyCreate, session: SessionDep, _: Admin) -> object:
    created, key = service.create_api_key(session=session, **data.model_dump())
    return {**ApiKeyOut.model_validate(created).model_dump(), "key": key}


@router.get("", response_model=dict[str, list[ApiKeyOut]])
def list_api_keys(session: SessionDep, _: Admin) -> object:
    return {"items": service.list_api_keys(session=session)}


@router.post("/{key_id}/revoke", response_model=ApiKeyOut, dependencies=[Idempotent])
def revoke_api_key(key_id: uuid.UUID, session: SessionDep, _: Admin) -> object:
    return service.revoke_api_key(session=session, key_id=key_id)
