"""Results, global scores, the short-list and its report, the board's decision, the offer with
its fallback to the reserve, and closing: through the API, in-process."""

import io
import uuid
from decimal import Decimal
from typing import Any

import pypdfium2
import pytest
from sqlalchemy import select, update

from shared.db import session_scope
from shared.models import Dossier, Message, Participation
from tests.builders import Builders, examiner_id, took_place


def _trials(build: Any, job: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    written = build.written_trial(
        job, weight="2", max_score="20", pass_score="10", eliminatory=True
    )
    oral = build.written_trial(
        job,
        title="Entretien",
        starts_at="2027-03-29T10:00:00+02:00",
        weight="1",
        max_score="10",
        pass_score="5",
    )
    return written, oral


def _participation(
    client: Any, hr: dict[str, str], trial: dict[str, Any], dossier: dict[str, Any]
) -> str:
    items = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()["items"]
    return next(p["id"] for p in items if p["dossier_id"] == dossier["id"])


def _grade(
    client: Any, hr: dict[str, str], trial: Any, dossier: Any, score: str | None, **extra: Any
) -> Any:
    body = {"present": score is not None, "score": score, **extra}
    Builders(client, hr).took_place(trial)
    pid = _participation(client, hr, trial, dossier)
    return client.post(f"/api/v1/participations/{pid}/result", json=body, headers=hr)


def _scored(
    client: Any, build: Any, hr: dict[str, str], job: Any, scores: list[tuple[str, str]]
) -> list[Any]:
    """Dossiers graded on both trials and given their computed global score."""
    dossiers = [build.dossier(job) for _ in scores]
    written, oral = _trials(build, job)
    build.invite(written, *dossiers)
    build.invite(oral, *dossiers)
    for dossier, (w, o) in zip(dossiers, scores, strict=True):
        assert _grade(client, hr, written, dossier, w).status_code == 200
        assert _grade(client, hr, oral, dossier, o).status_code == 200
        response = client.post(
            f"/api/v1/dossiers/{dossier['id']}/global-score", json={}, headers=hr
        )
        assert response.status_code == 200, response.text
    return dossiers


def test_results_default_from_the_pass_score(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    dossier = build.dossier(job)
    written, _ = _trials(build, job)
    build.invite(written, dossier)
    passed = _grade(client, hr, written, dossier, "12.5", comment="Bonne copie")
    assert passed.status_code == 200
    assert passed.json()["result"]["passed"] is True
    failed = _grade(client, hr, written, dossier, "9")
    assert failed.json()["result"]["passed"] is False
    absent = _grade(client, hr, written, dossier, None)
    assert absent.json()["result"] == {**absent.json()["result"], "present": False, "passed": False}
    too_high = _grade(client, hr, written, dossier, "25")
    assert too_high.status_code == 422


def test_result_communicated_once(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    dossier = build.dossier(job)
    written, _ = _trials(build, job)
    build.invite(written, dossier)
    _grade(client, hr, written, dossier, "14", communicate=True, communicate_score=True)
    _grade(client, hr, written, dossier, "15", communicate=True)
    with session_scope() as session:
        results = session.scalars(select(Message).where(Message.kind == "result")).all()
        assert len(results) == 1
        assert results[0].context["score"] == "14"


def test_viewers_never_see_comments(
    client: Any, build: Any, hr: dict[str, str], api_key: Any
) -> None:
    job = build.job()
    dossier = build.dossier(job)
    written, _ = _trials(build, job)
    build.invite(written, dossier)
    _grade(client, hr, written, dossier, "14", comment="hésitant à l'oral")
    viewer = api_key("viewer")
    for path in (
        f"/api/v1/dossiers/{dossier['id']}",
        f"/api/v1/trials/{written['id']}/participations",
    ):
        assert "hésitant" not in client.get(path, headers=viewer).text
        assert "hésitant" in client.get(path, headers=hr).text


def test_examiners_grade_only_their_trials(
    client: Any, build: Any, hr: dict[str, str], api_key: Any
) -> None:
    examiner = api_key("examiner", name="jury-x")
    key_id = examiner_id("jury-x")
    job = build.job()
    dossier = build.dossier(job)
    mine = build.written_trial(job, examiner_ids=[key_id])
    other = build.written_trial(job, title="Autre", starts_at="2027-03-30T10:00:00+02:00")
    build.invite(mine, dossier)
    build.invite(other, dossier)
    build.took_place(mine)
    build.took_place(other)
    ok = client.post(
        f"/api/v1/participations/{_participation(client, hr, mine, dossier)}/result",
        json={"present": True, "score": "15"},
        headers=examiner,
    )
    assert ok.status_code == 200
    refused = client.post(
        f"/api/v1/participations/{_participation(client, hr, other, dossier)}/result",
        json={"present": True, "score": "15"},
        headers=examiner,
    )
    assert refused.status_code == 403


def test_global_score_is_weighted_and_eliminatory(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    good, bad = _scored(client, build, hr, job, [("15", "8"), ("8", "10")])
    answer = client.get(f"/api/v1/dossiers/{good['id']}", headers=hr).json()
    # (2 * 15/20 + 1 * 8/10) / 3 * 100 = 76.67
    assert Decimal(str(answer["global_score"])) == Decimal("76.67")
    assert answer["status"] == "awaiting_deliberation"
    failed = client.get(f"/api/v1/dossiers/{bad['id']}", headers=hr).json()
    assert failed["status"] == "failed", "8/20 fails the eliminatory written trial"
    reject = client.post(
        f"/api/v1/dossiers/{bad['id']}/reject", json={"reason": "échec"}, headers=hr
    )
    assert reject.json()["status"] == "rejected"


def test_global_score_answer_and_override(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    dossier = build.dossier(job)
    written, oral = _trials(build, job)
    build.invite(written, dossier)
    build.invite(oral, dossier)
    path = f"/api/v1/dossiers/{dossier['id']}/global-score"
    early = client.post(path, json={}, headers=hr)
    assert early.status_code == 409 and "not every trial" in early.json()["detail"]
    _grade(client, hr, written, dossier, "12")
    _grade(client, hr, oral, dossier, "6")
    assert client.post(path, json={"score": "90"}, headers=hr).status_code == 422
    answer = client.post(path, json={"score": "90", "reason": "jury unanime"}, headers=hr).json()
    assert answer["overridden"] is True and answer["reason"] == "jury unanime"
    assert Decimal(str(answer["global_score"])) == Decimal("90.00")
    assert {row["title"] for row in answer["breakdown"]} == {"Épreuve écrite", "Entretien"}
    assert client.post(path, json={}, headers=hr).json()["state"] == "awaiting_deliberation"


def test_shortlist_ranks_and_the_report_shows_it(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job(title="Juriste", reference="JUR-9")
    dossiers = _scored(client, build, hr, job, [("12", "6"), ("18", "9"), ("14", "7")])
    rows = client.get(f"/api/v1/jobs/{job['id']}/shortlist", headers=hr).json()["items"]
    assert [r["dossier_id"] for r in rows] == [
        dossiers[1]["id"],
        dossiers[2]["id"],
        dossiers[0]["id"],
    ]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert len(rows[0]["scores"]) == 2

    html = client.get(f"/api/v1/jobs/{job['id']}/shortlist/report?format=html", headers=hr)
    assert html.status_code == 200 and "Juriste" in html.text
    pdf = client.get(f"/api/v1/jobs/{job['id']}/shortlist/report?format=pdf", headers=hr)
    assert pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(io.BytesIO(pdf.content))
    page = document[0]
    image = page.render(scale=100 / 72).to_pil().convert("L")
    assert sum(1 for value in image.getdata() if value < 100) > 1000, "the page shows a table"
    text = page.get_textpage().get_text_range()
    first = rows[0]["candidate"]["last_name"]
    assert "JUR-9" in text and first in text
    assert text.index(first) < text.index(rows[2]["candidate"]["last_name"])


def test_deliberation_offer_fallback_and_closing(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    first, second, third, fourth = _scored(
        client, build, hr, job, [("18", "9"), ("16", "8"), ("14", "7"), ("12", "6")]
    )
    decision = {
        "decided_on": "2027-04-02",
        "reference": "COLL-2027-07",
        "retained_dossier_id": first["id"],
        "reserve": [second["id"], third["id"]],
        "notify_not_retained": True,
    }
    answer = client.post(f"/api/v1/jobs/{job['id']}/deliberation", json=decision, headers=hr)
    assert answer.status_code == 201, answer.text
    assert answer.json()["not_retained"] == [fourth["id"]]
    again = client.post(f"/api/v1/jobs/{job['id']}/deliberation", json=decision, headers=hr)
    assert again.status_code == 409

    def status(dossier: dict[str, Any]) -> str:
        return str(client.get(f"/api/v1/dossiers/{dossier['id']}", headers=hr).json()["status"])

    assert [status(d) for d in (first, second, third, fourth)] == [
        "retained",
        "reserve",
        "reserve",
        "not_retained",
    ]
    call = client.post(
        f"/api/v1/dossiers/{first['id']}/offer/call",
        json={"outcome": "reached", "note": "réfléchit"},
        headers=hr,
    )
    assert call.status_code == 200
    client.post(
        f"/api/v1/dossiers/{first['id']}/offer/decline", json={"reason": "autre poste"}, headers=hr
    )
    assert status(first) == "offer_declined" and status(second) == "retained"

    client.post(f"/api/v1/dossiers/{second['id']}/offer/accept", headers=hr)
    client.post(f"/api/v1/dossiers/{second['id']}/no-show", headers=hr)
    assert status(second) == "no_show" and status(third) == "retained"

    client.post(f"/api/v1/dossiers/{third['id']}/offer/accept", headers=hr)
    hired = client.post(
        f"/api/v1/dossiers/{third['id']}/hire", json={"started_on": "2027-05-01"}, headers=hr
    )
    assert hired.json()["status"] == "hired" and hired.json()["started_on"] == "2027-05-01"
    too_early = client.post(
        f"/api/v1/dossiers/{third['id']}/left", json={"left_on": "2027-04-30"}, headers=hr
    )
    assert too_early.status_code == 422 and "left_on" in too_early.text
    assert status(third) == "hired"
    left = client.post(
        f"/api/v1/dossiers/{third['id']}/left",
        json={"left_on": "2028-01-31", "reason": "mutation"},
        headers=hr,
    )
    assert left.json()["status"] == "left"

    # The ranking the board decided on stays readable and reprintable, whatever came after.
    rows = client.get(f"/api/v1/jobs/{job['id']}/shortlist", headers=hr).json()["items"]
    assert [(r["dossier_id"], r["rank"], r["decision"], r["reserve_rank"]) for r in rows] == [
        (first["id"], 1, "retained", None),
        (second["id"], 2, "reserve", 1),
        (third["id"], 3, "reserve", 2),
        (fourth["id"], 4, "not_retained", None),
    ]
    assert [r["status"] for r in rows] == ["offer_declined", "no_show", "left", "not_retained"]
    report_url = f"/api/v1/jobs/{job['id']}/shortlist/report"
    page = client.get(f"{report_url}?format=html", headers=hr).text
    assert "Décision du jury" in page and "2 avril 2027 (COLL-2027-07)" in page
    for name in ("Retenu·e", "Réserve n° 1", "Réserve n° 2", "Non retenu·e"):
        assert f"<td>{name}</td>" in page
    pdf = client.get(f"{report_url}?format=pdf&language=en", headers=hr)
    text = pypdfium2.PdfDocument(io.BytesIO(pdf.content))[0].get_textpage().get_text_range()
    assert "Reserve no. 2" in text and "Not retained" in text
    found = client.get(f"/api/v1/dossiers?job_id={job['id']}&status=left", headers=hr).json()
    assert [d["id"] for d in found["items"]] == [third["id"]]

    with session_scope() as session:
        kinds = sorted(
            m.kind
            for m in session.scalars(select(Message))
            if m.kind in ("offer_confirmation", "next_of_reserve_offer", "not_retained", "welcome")
        )
    assert kinds == [
        "next_of_reserve_offer",
        "next_of_reserve_offer",
        "not_retained",
        "offer_confirmation",
        "welcome",
    ]
    stats = client.get(f"/api/v1/stats?job_id={job['id']}", headers=hr).json()
    assert stats["dossiers_by_status"]["left"] == 1
    assert stats["days_to_hire"]["hires"] == 1


def test_an_empty_reserve_is_recorded(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    [only] = _scored(client, build, hr, job, [("18", "9")])
    decision = {"decided_on": "2027-04-02", "reference": "C-1", "retained_dossier_id": only["id"]}
    client.post(f"/api/v1/jobs/{job['id']}/deliberation", json=decision, headers=hr)
    client.post(f"/api/v1/dossiers/{only['id']}/offer/decline", json={}, headers=hr)
    shown = client.get(f"/api/v1/jobs/{job['id']}", headers=hr).json()
    assert shown["reserve_exhausted"] is True
    assert shown["deliberation_reference"] == "C-1"
    notices = client.get(f"/api/v1/notices?job_id={job['id']}", headers=hr).json()["items"]
    assert [n["action"] for n in notices] == ["reserve_exhausted", "offer_declined"]
    newest = notices[0]["id"]
    assert client.get(f"/api/v1/notices?after_id={newest}", headers=hr).json()["items"] == []


def test_an_unanswered_offer_passes_to_the_reserve(client: Any, build: Any, hr: Any) -> None:
    from services.scheduler.deadlines import expire_offers
    from shared.models import utcnow

    job = build.job()
    first, second = _scored(client, build, hr, job, [("18", "9"), ("16", "8")])
    decision = {
        "decided_on": "2027-04-02",
        "reference": "C-2",
        "retained_dossier_id": first["id"],
        "reserve": [second["id"]],
    }
    client.post(f"/api/v1/jobs/{job['id']}/deliberation", json=decision, headers=hr)
    assert expire_offers(publish=lambda _: None) == 0, "the offer is still open"
    with session_scope() as session:
        session.execute(
            update(Dossier)
            .where(Dossier.id == uuid.UUID(first["id"]))
            .values(offer_expires_at=utcnow())
        )
    assert expire_offers(publish=lambda _: None) == 1
    assert expire_offers(publish=lambda _: None) == 0, "once"
    states = [
        client.get(f"/api/v1/dossiers/{d['id']}", headers=hr).json()["status"]
        for d in (first, second)
    ]
    assert states == ["offer_declined", "retained"]
    history = client.get(f"/api/v1/dossiers/{first['id']}/history", headers=hr).json()["items"]
    assert history[-1]["after"]["reason"] == "no answer by the deadline"


ACTIONS = {
    "reject": ("POST", "/reject", {"reason": "x"}),
    "withdraw": ("POST", "/withdraw", {}),
    "accept_offer": ("POST", "/offer/accept", None),
    "decline_offer": ("POST", "/offer/decline", {}),
    "hire": ("POST", "/hire", {"started_on": "2027-05-01"}),
    "no_show": ("POST", "/no-show", None),
    "leave": ("POST", "/left", {"left_on": "2028-01-01"}),
    "offer_call": ("POST", "/offer/call", {"outcome": "reached"}),
    "global_score": ("POST", "/global-score", {"score": "50", "reason": "r"}),
}
ALLOWED = {
    "reject": {"open", "failed"},
    "withdraw": {
        "open",
        "failed",
        "awaiting_deliberation",
        "retained",
        "reserve",
        "offer_accepted",
        "offer_declined",
        "no_show",
    },
    "accept_offer": {"retained"},
    "decline_offer": {"retained"},
    "hire": {"offer_accepted"},
    "no_show": {"offer_accepted"},
    "leave": {"hired"},
    "offer_call": {"retained"},
    "global_score": {"open"},
}
STATES = [
    "open",
    "rejected",
    "failed",
    "awaiting_deliberation",
    "retained",
    "reserve",
    "not_retained",
    "offer_accepted",
    "offer_declined",
    "hired",
    "left",
    "no_show",
    "withdrawn",
]


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_illegal_transitions_answer_409_naming_the_state(
    client: Any, build: Any, hr: dict[str, str], action: str
) -> None:
    job = build.job()
    dossier = build.dossier(job)
    method, suffix, body = ACTIONS[action]
    for state in STATES:
        if state in ALLOWED[action]:
            continue
        with session_scope() as session:
            session.execute(
                update(Dossier).where(Dossier.id == uuid.UUID(dossier["id"])).values(status=state)
            )
        response = client.request(
            method, f"/api/v1/dossiers/{dossier['id']}{suffix}", json=body, headers=hr
        )
        assert response.status_code == 409, (
            f"{action} from {state}: {response.status_code} {response.text}"
        )
        assert response.json()["state"] == state
        assert state in response.json()["detail"]


@pytest.mark.parametrize(
    ("reference", "encoded"),
    [("POP–2026–01", "POP%E2%80%932026%E2%80%9301"), ("Łódź-2026", "%C5%81%C3%B3d%C5%BA-2026")],
)
def test_report_of_a_reference_outside_latin1_downloads(
    client: Any, build: Any, hr: dict[str, str], reference: str, encoded: str
) -> None:
    job = build.job(reference=reference)
    pdf = client.get(f"/api/v1/jobs/{job['id']}/shortlist/report?format=pdf", headers=hr)
    assert pdf.status_code == 200, pdf.text
    disposition = pdf.headers["content-disposition"]
    assert disposition.startswith('inline; filename="')
    assert disposition.encode("ascii")  # every header byte is ASCII
    assert disposition.endswith(f"filename*=UTF-8''shortlist-{encoded}.pdf")
    assert pypdfium2.PdfDocument(io.BytesIO(pdf.content))[0] is not None


def test_hr_free_text_stays_with_hr(
    client: Any, build: Any, hr: dict[str, str], api_key: Any
) -> None:
    examiner = api_key("examiner", name="jury-y")
    viewer = api_key("viewer")
    key_id = examiner_id("jury-y")
    job = build.job()
    dossier = build.dossier(job)
    mine = build.written_trial(job, examiner_ids=[key_id])
    other = build.written_trial(job, title="Autre", starts_at="2027-03-30T10:00:00+02:00")
    build.invite(mine, dossier)
    build.invite(other, dossier)
    mine_pid = _participation(client, hr, mine, dossier)
    build.took_place(mine)
    graded = client.post(
        f"/api/v1/participations/{mine_pid}/result",
        json={"present": True, "score": "15", "comment": "EXAMINER-COMMENT"},
        headers=examiner,
    )
    assert graded.status_code == 200
    assert _grade(client, hr, other, dossier, "12", comment="HR-COMMENT").status_code == 200
    postponed = client.post(
        f"/api/v1/participations/{mine_pid}/postpone",
        json={"starts_at": "2027-04-02T10:00:00+02:00", "reason": "HR-REASON"},
        headers=hr,
    )
    assert postponed.status_code == 200, postponed.text

    path = f"/api/v1/dossiers/{dossier['id']}"
    as_hr, as_examiner = client.get(path, headers=hr).text, client.get(path, headers=examiner).text
    assert "EXAMINER-COMMENT" in as_hr and "HR-COMMENT" in as_hr
    assert "EXAMINER-COMMENT" in as_examiner, "the examiner reads the comments of their trial"
    assert "HR-COMMENT" not in as_examiner, "not another trial's"
    assert "COMMENT" not in client.get(path, headers=viewer).text

    history = f"{path}/history"
    assert "HR-REASON" in client.get(history, headers=hr).text
    for headers in (examiner, viewer):
        answer = client.get(history, headers=headers)
        assert answer.status_code == 200
        assert "HR-REASON" not in answer.text
        actions = [e["action"] for e in answer.json()["items"]]
        assert "participation_postponed" in actions, "the step shows, without its reason"

    application = build.application()
    client.post(
        f"/api/v1/applications/{application['id']}/request-changes",
        json={"message": "HR-MESSAGE"},
        headers=hr,
    )
    application_history = f"/api/v1/applications/{application['id']}/history"
    assert "HR-MESSAGE" in client.get(application_history, headers=hr).text
    assert "HR-MESSAGE" not in client.get(application_history, headers=viewer).text


def test_a_result_needs_a_trial_that_took_place_and_a_candidate_expected_there(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    came, silent = build.dossier(job), build.dossier(job)
    written, oral = _trials(build, job)
    build.invite(written, came, silent)
    build.invite(oral, came, silent)
    body = {"present": True, "score": "8"}  # out of 20 (written) and of 10 (oral)

    def record(trial: Any, dossier: Any) -> Any:
        pid = _participation(client, hr, trial, dossier)
        return client.post(f"/api/v1/participations/{pid}/result", json=body, headers=hr)

    early = record(written, came)
    assert early.status_code == 409 and early.json()["state"] == "invited"
    with session_scope() as session:  # the candidate accepted, the trial is still to come
        session.execute(
            update(Participation)
            .where(Participation.dossier_id == uuid.UUID(came["id"]))
            .values(status="accepted")
        )
    not_yet = record(written, came)
    assert not_yet.status_code == 409 and not_yet.json()["state"] == "not_started"

    for trial in (written, oral):  # both took place; `silent` never answered
        took_place(trial["id"])
    unanswered = record(written, silent)
    assert unanswered.status_code == 409 and unanswered.json()["state"] == "invited"
    assert record(written, came).status_code == 200
    assert record(oral, came).status_code == 200

    # Never accepted: absent from both, failed, with no result to record.
    score = client.post(f"/api/v1/dossiers/{silent['id']}/global-score", json={}, headers=hr)
    assert score.status_code == 200, score.text
    assert score.json()["global_score"] == "0.00" and score.json()["passed"] is False
    assert [row["passed"] for row in score.json()["breakdown"]] == [False, False]
    assert score.json()["status"] == "failed"
