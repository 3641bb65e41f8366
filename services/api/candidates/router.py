import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.api.candidates import service
from services.api.candidates.schemas import CandidateCreate, CandidateOut, CandidateUpdate
from services.api.deps import HR, Reader, SessionDep
from services.api.idempotency import Idempotent
from services.api.pagination import Page, PageParams, page_params, paginate

router = APIRouter(prefix="/candidates", tags=["candidates"])


@router.post("", status_code=201, response_model=CandidateOut, dependencies=[Idempotent])
def create_candidate(data: CandidateCreate, session: SessionDep, _: HR) -> object:
    return service.create_candidate(session=session, data=data)


@router.get("", response_model=Page[CandidateOut])
def list_candidates(
    session: SessionDep,
    _: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> object:
    return paginate(session, service.list_candidates(q=q), page)


@router.get("/{candidate_id}", response_model=CandidateOut)
def get_candidate(candidate_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return service.get_candidate(session=session, candidate_id=candidate_id)


@router.patch("/{candidate_id}", response_model=CandidateOut, dependencies=[Idempotent])
def update_candidate(
    candidate_id: uuid.UUID, data: CandidateUpdate, session: SessionDep, _: HR
) -> object:
    return service.update_candidate(session=session, candidate_id=candidate_id, data=data)
