"""The one Alembic history builds exactly the schema the models describe."""

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from services.api.migrations import alembic_config


def test_models_and_migrations_agree() -> None:
    # Raises if autogenerate would find any difference on the migrated run database.
    command.check(alembic_config(os.environ["DATABASE_URL"]))


def test_one_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_candidates_of_before_0007_are_found_without_accents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0006")
    engine = create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO candidates (id, first_name, last_name, email, language, created_at,"
                " updated_at) VALUES (:id, 'Jürgen', 'MÜLLER', 'j.muller@example.de', 'de', :now,"
                " :now)"
            ),
            {"id": uuid.uuid4().hex, "now": now},
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        found = connection.execute(text("SELECT search_text FROM candidates")).scalar_one()
    engine.dispose()
    assert found == "jurgen muller j.muller@example.de"


def test_rows_of_before_0010_get_their_retention_dates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0008")
    engine = create_engine(url)
    made = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    candidate, application = uuid.uuid4().hex, uuid.uuid4().hex
    with engine.begin() as connection:
        for status in ("open", "closed"):
            connection.execute(
                text(
                    "INSERT INTO jobs (id, title, reference, year, status, reserve_exhausted,"
                    " created_at, updated_at) VALUES (:id, 'Juriste', :ref, 2025, :status, 0,"
                    " :made, :made)"
                ),
                {"id": uuid.uuid4().hex, "ref": f"J-{status}", "status": status, "made": made},
            )
        connection.execute(
            text(
                "INSERT INTO candidates (id, first_name, last_name, email, language, created_at,"
                " updated_at) VALUES (:id, 'Ana', 'Lima', 'ana@example.org', 'fr', :made, :made)"
            ),
            {"id": candidate, "made": made},
        )
        connection.execute(
            text(
                "INSERT INTO applications (id, kind, candidate_id, profile, status, created_at,"
                " updated_at) VALUES (:id, 'spontaneous', :candidate, '{}', 'validated', :made,"
                " :made)"
            ),
            {"id": application, "candidate": candidate, "made": made},
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        acted = connection.execute(text("SELECT candidate_acted_at FROM applications")).scalar()
        closed = dict(connection.execute(text("SELECT status, closed_at FROM jobs")).all())
    engine.dispose()
    assert str(acted).startswith("2025-03-01 09:30")
    assert closed["open"] is None and str(closed["closed"]).startswith("2025-03-01 09:30")


def test_examiner_keys_of_before_0009_become_people(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0008")
    engine = create_engine(url)
    now = datetime.now(UTC)
    key_id, trial_id = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as connection:
        for role, name, kid in (("examiner", "jury-1", key_id), ("hr", "front", uuid.uuid4())):
            connection.execute(
                text(
                    "INSERT INTO api_keys (id, name, role, key_hash, created_at, updated_at)"
                    " VALUES (:id, :name, :role, :hash, :now, :now)"
                ),
                {"id": kid.hex, "name": name, "role": role, "hash": kid.hex, "now": now},
            )
        job_id = uuid.uuid4().hex
        connection.execute(
            text(
                "INSERT INTO jobs (id, title, reference, year, status, reserve_exhausted,"
                " created_at, updated_at) VALUES (:id, 'J', 'R-1', 2026, 'open', 0, :now, :now)"
            ),
            {"id": job_id, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO trials (id, job_id, kind, title, location, starts_at,"
                " duration_minutes, timezone, info, weight, max_score, eliminatory, status,"
                " auto_assign_slots, response_reminder_hours, trial_reminder_hours, created_at,"
                " updated_at) VALUES (:id, :job, 'written', 'T', 'L', :now, 60, 'UTC', '', 1,"
                " 20, 0, 'planned', 0, 48, 24, :now, :now)"
            ),
            {"id": trial_id.hex, "job": job_id, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO trial_examiners (id, trial_id, api_key_id, created_at, updated_at)"
                " VALUES (:id, :trial, :key, :now, :now)"
            ),
            {"id": uuid.uuid4().hex, "trial": trial_id.hex, "key": key_id.hex, "now": now},
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        people = connection.execute(text("SELECT id, name, roles, active FROM people")).all()
        key_person = connection.execute(
            text("SELECT person_id FROM api_keys WHERE id = :id"), {"id": key_id.hex}
        ).scalar_one()
        assigned, sequence = connection.execute(
            text("SELECT person_id, sequence FROM trial_examiners WHERE trial_id = :id"),
            {"id": trial_id.hex},
        ).one()
    engine.dispose()
    assert [(name, roles, active) for _, name, roles, active in people] == [
        ("jury-1", '["examiner"]', 1)
    ], "one person per examiner key, named after it"
    assert key_person == assigned == people[0][0], "the key and the trial now name the person"
    assert sequence == 0, "their calendar event as sent when assigned (0011)"


def test_keyed_answers_of_before_0012_stay_their_api_keys_and_one_owner_is_required(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0010")
    engine = create_engine(url)
    now = {"now": datetime.now(UTC)}
    key_id, person_id = uuid.uuid4().hex, uuid.uuid4().hex
    row = (
        "INSERT INTO idempotent_requests (id, api_key_id, {owner}key, fingerprint, status_code,"
        " created_at, updated_at) VALUES (:id, :key_id, {person}'k-1', 'f', 201, :now, :now)"
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO api_keys (id, name, role, key_hash, acts_for_people, created_at,"
                " updated_at) VALUES (:id, 'front', 'hr', :id, 0, :now, :now)"
            ),
            {"id": key_id, **now},
        )
        connection.execute(
            text(
                "INSERT INTO people (id, name, email, roles, active, language, created_at,"
                " updated_at) VALUES (:id, 'Ana', 'ana@example.org', '[\"hr\"]', 1, 'fr', :now,"
                " :now)"
            ),
            {"id": person_id, **now},
        )
        connection.execute(
            text(row.format(owner="", person="")), {"id": uuid.uuid4().hex, "key_id": key_id, **now}
        )
    command.upgrade(alembic_config(url), "head")
    with_person = row.format(owner="person_id, ", person=":person_id, ")
    with engine.begin() as connection:  # the same key, the person's own
        connection.execute(
            text(with_person),
            {"id": uuid.uuid4().hex, "key_id": None, "person_id": person_id, **now},
        )
    refused = []
    for owners in ({"key_id": None, "person_id": None}, {"key_id": key_id, "person_id": person_id}):
        try:
            with engine.begin() as connection:
                connection.execute(text(with_person), {"id": uuid.uuid4().hex, **owners, **now})
        except IntegrityError as error:
            refused.append("one_caller" in str(error.orig))
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT api_key_id, person_id, status_code FROM idempotent_requests")
        ).all()
    engine.dispose()
    assert sorted(kept, key=str) == sorted(
        [(key_id, None, 201), (None, person_id, 201)], key=str
    ), "the old answer still belongs to its API key"
    assert refused == [True, True], "no owner, or two: the CHECK refuses both"
