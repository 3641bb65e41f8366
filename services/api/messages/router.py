import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from services.api.deps import Reader, SessionDep
from services.api.messages import service
from services.api.messages.schemas import MessageOut
from services.api.pagination import Page, PageParams, page_params, paginate

router = APIRouter(prefix="/messages", tags=["messages"])

MessageStatus = Literal["queued", "sending", "sent", "retrying", "failed", "unknown"]


@router.get("", response_model=Page[MessageOut])
def list_messages(
    session: SessionDep,
    _: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    dossier_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
    status: MessageStatus | None = None,
) -> object:
    query = service.list_messages(
        dossier_id=dossier_id, application_id=application_id, status=status
    )
    return paginate(session, query, page)
