import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from services.api.deps import HR, Reader, SessionDep
from services.api.idempotency import Idempotent
from services.api.messages import service
from services.api.messages.schemas import FreeMessage, MessageOut, MessagesOut
from services.api.openapi import problems
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


@router.post(
    "",
    status_code=202,
    response_model=MessagesOut,
    responses=problems(404, not_found="No such dossier (`dossier_ids` names them)"),
    dependencies=[Idempotent],
)
def write_to_candidates(
    data: FreeMessage,
    session: SessionDep,
    agent: HR,
) -> object:
    """Queue one email per selected dossier; repeating with the same Idempotency-Key sends none
    (it gets the first answer, as every write does)."""
    items = service.write_to_candidates(
        session=session,
        dossier_ids=data.dossier_ids,
        subject=data.subject,
        body=data.body,
        template=data.template,
        actor=agent.actor,
    )
    return {"items": items}


@router.post(
    "/{message_id}/resend", status_code=202, response_model=MessageOut, dependencies=[Idempotent]
)
def resend(message_id: uuid.UUID, session: SessionDep, agent: HR) -> object:
    """Send a `failed` or `unknown` email again, on purpose (an `unknown` one may have arrived:
    check with the candidate first). Same idempotency key and Message-ID; 409 in other states."""
    return service.resend(session=session, message_id=message_id, actor=agent.actor)
