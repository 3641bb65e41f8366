"""What each kind of query loads with its rows: every relationship raises unless loaded
(shared.models.base.RAISE), so a query names here, or next to it, what its callers reach."""

from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from shared.models import Application, Dossier, Participation, Trial

# An application as the API shows it (its candidate, the dossier it became) and as its
# decisions use it (the job, in the emails).
APPLICATION = (
    joinedload(Application.candidate),
    joinedload(Application.job),
    selectinload(Application.dossier),
)
# A dossier's participations, with their trials and who grades them (an examiner reads the
# comments of their own trials; the grades name the trials).
PARTICIPATIONS_OF_DOSSIER = (
    selectinload(Dossier.participations)
    .joinedload(Participation.trial)
    .selectinload(Trial.examiner_links)
)
# A dossier as the API shows it and as its emails use it: its job, candidate and
# participations.
DOSSIER = (
    joinedload(Dossier.candidate),
    joinedload(Dossier.job),
    PARTICIPATIONS_OF_DOSSIER,
)
# A trial as the API shows it: the examiners assigned; and its job (the emails name it).
TRIAL = (joinedload(Trial.job), selectinload(Trial.examiner_links))
# A participation as its emails and pages use it: the trial with its job, the candidate, the
# slot booked (its length).
PARTICIPATION: tuple[_AbstractLoad, ...] = (
    joinedload(Participation.trial).joinedload(Trial.job),
    joinedload(Participation.dossier).joinedload(Dossier.candidate),
    joinedload(Participation.slot),
)
# The same, when HR or an examiner acts on it (who may grade it: the trial's examiners).
PARTICIPATION_GRADED = (
    *PARTICIPATION,
    joinedload(Participation.trial).selectinload(Trial.examiner_links),
)
