"""How long personal data is kept (docs/PRIVACY.md): the dates the retention sweeps and the
candidate's keep-or-delete page share.

- A profile of the CV bank (a spontaneous application) is kept CV_BANK_MONTHS after the
  candidate's last action on it (`candidate_acted_at`: made, resubmitted, kept through the
  renewal link); CV_BANK_RENEWAL_DAYS before that end the candidate is asked, once.
- The applications and dossiers of a closed job are kept RETENTION_MONTHS_AFTER_CLOSING after
  its closing, except the recruit's (the personnel file) and the reserve's while it is valid
  (RESERVE_VALID_MONTHS after the board's decision). A legal hold keeps a dossier.
"""

import calendar
from datetime import date, datetime

from sqlalchemy import ColumnElement, func

from shared.models import Application
from shared.settings import get_settings


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (earlier when negative), the day clamped to the
    month's last one (31 January + 1 month: 28 or 29 February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_months_to_date(day: date, months: int) -> date:
    """`add_months` for a date."""
    moment = add_months(datetime(day.year, day.month, day.day), months)
    return moment.date()


def acted_at() -> ColumnElement[datetime]:
    """The candidate's last action on an application (its making, for rows older than the
    column)."""
    return func.coalesce(Application.candidate_acted_at, Application.created_at)


def profile_kept_until(application: Application) -> datetime:
    """When a CV bank profile ends, without an answer from the candidate."""
    last = application.candidate_acted_at or application.created_at
    return add_months(last, get_settings().cv_bank_months)
