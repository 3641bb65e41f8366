import uuid
from typing import Any

from fastapi import APIRouter

from services.api.deps import Reader, SessionDep
from services.api.schemas import CampaignQuery, YearQuery
from services.api.stats import service

router = APIRouter(tags=["stats"])


@router.get("/stats", response_model=dict[str, Any])
def stats(
    session: SessionDep,
    _: Reader,
    year: YearQuery = None,
    campaign: CampaignQuery = None,
    job_id: uuid.UUID | None = None,
) -> object:
    """Funnel counts per state, pass rate per trial, days from application to hire."""
    return service.stats(session=session, year=year, campaign=campaign, job_id=job_id)
