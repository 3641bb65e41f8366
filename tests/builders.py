"""Builders that make test data through the HTTP API, as a front-end would."""

import itertools
import uuid
from datetime import timedelta
from typing import Any

_counter = itertools.count(1)
# How far back a trial that "took place" moves: the test data's trials are in 2027.
PAST = timedelta(days=3 * 365)


class Builders:
    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.headers)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def job(self, **fields: Any) -> dict[str, Any]:
        n = next(_counter)
        body = {"title": f"Agent administratif {n}", "reference": f"ADM-{n:04d}", "year": 2026}
        return self._post("/jobs", {**body, **fields})

    def candidate(self, **fields: Any) -> dict[str, Any]:
        n = next(_counter)
        body = {
            "first_name": "Élise",
            "last_name": f"Dupont{n}",
            "email": f"elise{n}@example.org",
            "language": "fr",
        }
        return self._post("/candidates", {**body, **fields})

    def application(self, job: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        job = job or self.job()
        candidate = fields.pop("candidate", None) or self.candidate()
        body = {
            "kind": "specific",
            "job_id": job["id"],
            "candidate_id": candidate["id"],
            "cover_letter": "Je souhaite rejoindre votre administration.",
        }
        return self._post("/applications", {**body, **fields})

    def dossier(self, job: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        application = self.application(job, **fields)
        validated = self._post(f"/applications/{application['id']}/validate")
        response = self.client.get(
            f"/api/v1/dossiers/{validated['dossier_id']}", headers=self.headers
        )
        return dict(response.json())

    def written_trial(self, job: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {
            "kind": "written",
            "title": "Épreuve écrite",
            "location": "Hôtel de ville, salle du conseil",
            "starts_at": "2027-03-28T10:00:00+02:00",
            "duration_minutes": 120,
            "info": "Munissez-vous de votre carte d'identité.",
            "response_deadline": "2027-03-20T12:00:00+01:00",
        }
        return self._post(f"/jobs/{job['id']}/trials", {**body, **fields})

    def invite(self, trial: dict[str, Any], *dossiers: dict[str, Any]) -> dict[str, Any]:
        body = {"dossier_ids": [d["id"] for d in dossiers]}
        return self._post(f"/trials/{trial['id']}/invitations", body)

    def took_place(self, trial: dict[str, Any]) -> None:
        """The trial took place, and the candidates still invited to it had accepted: their
        results can be recorded."""
        took_place(trial["id"], accept_invited=True)


def examiner_id(key_name: str) -> str:
    """The id of the person whose own key is named `key_name` (see the api_key fixture)."""
    from sqlalchemy import select

    from shared.db import session_scope
    from shared.models import ApiKey

    with session_scope() as session:
        query = select(ApiKey.person_id).where(ApiKey.name == key_name)
        return str(session.scalars(query).one())


def took_place(trial_id: str, *, accept_invited: bool = False) -> None:
    """The trial took place: its times move back by a fixed span (so that several trials keep
    their order), and with `accept_invited` the candidates still invited had accepted. Times in
    the past cannot be given through the API, hence the rows."""
    from sqlalchemy import select

    from shared.db import session_scope
    from shared.models import Participation, Trial, utcnow

    with session_scope() as session:
        planned = session.get(Trial, uuid.UUID(trial_id))
        assert planned is not None
        participations = session.scalars(
            select(Participation).where(Participation.trial_id == planned.id)
        ).all()
        if planned.starts_at > utcnow():
            planned.starts_at -= PAST
            planned.response_deadline = None
            for participation in participations:
                participation.response_deadline = None
                if participation.starts_at is not None:
                    participation.starts_at -= PAST
        for participation in participations:
            if accept_invited and participation.status == "invited":
                participation.status = "accepted"
                participation.answered_at = utcnow()


def seed_dossiers(job_id: str | uuid.UUID, addresses: list[str], first_name: str = "Test") -> None:
    """An open dossier for the job per address (a candidate with a validated application),
    written straight to the database in bulk: thousands in a second, and no email. For the
    chaos suite and the bench, which need many."""
    from sqlalchemy import insert

    from shared.db import get_engine
    from shared.models import Application, Candidate, Dossier, utcnow
    from shared.models.candidate import search_text

    job = uuid.UUID(str(job_id))
    now = utcnow()
    stamp = {"created_at": now, "updated_at": now}
    candidates, applications, dossiers = [], [], []
    for n, email in enumerate(addresses):
        candidate_id, application_id = uuid.uuid4(), uuid.uuid4()
        candidates.append(
            {
                "id": candidate_id,
                "first_name": first_name,
                "last_name": str(n),
                "email": email,
                "language": "fr",
                "search_text": search_text(first_name, str(n), email),  # no ORM event here
                **stamp,
            }
        )
        applications.append(
            {
                "id": application_id,
                "kind": "specific",
                "job_id": job,
                "candidate_id": candidate_id,
                "profile": {},
                "status": "validated",
                **stamp,
            }
        )
        dossiers.append(
            {
                "id": uuid.uuid4(),
                "application_id": application_id,
                "candidate_id": candidate_id,
                "job_id": job,
                "status": "open",
                "applied_at": now,
                **stamp,
            }
        )
    with get_engine().begin() as connection:
        for model, rows in (
            (Candidate, candidates),
            (Application, applications),
            (Dossier, dossiers),
        ):
            for start in range(0, len(rows), 2000):
                connection.execute(insert(model), rows[start : start + 2000])


def booking_links(trial_id: str) -> list[str]:
    """A booking link (its path) for each participation of a slot trial, in invitation order,
    as the invitation emails carry them."""
    from sqlalchemy import select

    from services.scheduler.invitations import link_for
    from shared import links, loading
    from shared.db import session_scope
    from shared.models import LinkPurpose, Participation

    tokens: list[dict[str, Any]] = []
    with session_scope() as session:
        found = session.scalars(
            select(Participation)
            .where(Participation.trial_id == uuid.UUID(trial_id))
            .options(*loading.PARTICIPATION)
            .order_by(Participation.created_at, Participation.id)
        ).all()
        urls = [link_for(tokens, p, LinkPurpose.BOOK_SLOT) for p in found]
        links.insert_all(session, tokens)
    return [url[url.index("/c/") :] for url in urls]
