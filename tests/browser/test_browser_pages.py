"""Each candidate page in Chromium, in the four languages: axe-core finds no WCAG 2.1 A/AA
violation, the page fits 360 px, and the whole flow (open the link, choose, submit, see the
outcome) is done with the keyboard alone. Screenshots: var/screenshots/."""

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from services.scheduler.invitations import link_for
from shared import links, loading
from shared.db import session_scope
from shared.models import CandidateToken, Dossier, LinkPurpose, Participation, utcnow
from shared.workflow import DossierStatus
from tests.api.test_candidate_pages import _link, _returned
from tests.api.test_cv_bank import PDF
from tests.api.test_slot_trials import BOOKING
from tests.browser.checks import check_page, open_page, press_and_wait, tab_to

pytestmark = pytest.mark.browser
LANGUAGES = ["en", "fr", "de", "nl"]


@pytest.fixture
def look(axe_source: str, screenshots: Path, request: pytest.FixtureRequest) -> Any:
    """check_page with the run's axe-core and screenshot folder, names prefixed by the test's."""
    test = request.node.name.removeprefix("test_").replace("[", "-").rstrip("]")

    def checked(page: Any, step: str) -> None:
        check_page(page, axe_source, screenshots, f"{test}-{step}")

    return checked


def _participation_link(dossier: dict[str, Any], purpose: str) -> str:
    """A link of the dossier's participation, made as the invitation's email makes it."""
    with session_scope() as session:
        participation = session.scalars(
            select(Participation)
            .where(Participation.dossier_id == uuid.UUID(dossier["id"]))
            .options(*loading.PARTICIPATION)
        ).one()
        tokens: list[dict[str, Any]] = []
        link = link_for(tokens, participation, purpose)
        links.insert_all(session, tokens)
    return link[link.index("/c/") :]


def _participation(client: Any, hr: Any, trial: dict[str, Any], dossier: Any) -> dict[str, Any]:
    found = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()
    [participation] = [p for p in found["items"] if p["dossier_id"] == dossier["id"]]
    return dict(participation)


def _download_calendar(page: Any, participation: dict[str, Any]) -> None:
    """Follow the page's calendar link with the keyboard: the file is the participation's."""
    tab_to(page, "a[download]")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "invite.ics"
    calendar = Path(download.value.path()).read_text()
    assert f"SEQUENCE:{participation['sequence']}" in calendar
    assert "BEGIN:VEVENT" in calendar


@pytest.mark.parametrize("language", LANGUAGES)
def test_answer_an_invitation(
    browser: Any, site: str, look: Any, client: Any, build: Any, hr: Any, language: str
) -> None:
    job = build.job()
    dossier = build.dossier(job, candidate=build.candidate(language=language))
    trial = build.written_trial(job)
    build.invite(trial, dossier)
    link = _participation_link(dossier, LinkPurpose.ANSWER_INVITATION)
    page = open_page(browser, f"{site}{link}?answer=accept")  # the email's "I will attend"
    look(page, "invitation")

    tab_to(page, "button[value=accept]")
    assert press_and_wait(page, "Enter") == 200
    look(page, "answered")
    participation = _participation(client, hr, trial, dossier)
    assert participation["status"] == "accepted"
    _download_calendar(page, participation)


@pytest.mark.parametrize("language", LANGUAGES)
def test_book_a_slot_another_took_first(
    browser: Any, site: str, look: Any, client: Any, build: Any, hr: Any, language: str
) -> None:
    job = build.job()
    ours = build.dossier(job, candidate=build.candidate(language=language))
    theirs = build.dossier(job)
    response = client.post(
        f"/api/v1/jobs/{job['id']}/trials",
        json={"kind": "oral", "title": "Entretien", "booking": BOOKING},
        headers=hr,
    )
    trial = response.json()
    build.invite(trial, ours, theirs)
    page = open_page(browser, site + _participation_link(ours, LinkPurpose.BOOK_SLOT))
    look(page, "choose")

    tab_to(page, "input[type=radio]")  # the group's first time
    page.keyboard.press("Space")
    first = page.evaluate("() => document.activeElement.value")
    # Meanwhile another candidate books that time (capacity 1) through their own link.
    other = _participation_link(theirs, LinkPurpose.BOOK_SLOT)
    booked = httpx.post(site + other, data={"action": "book_slot", "slot_id": first})
    assert booked.status_code == 200
    tab_to(page, "button[type=submit]")
    assert press_and_wait(page, "Enter") == 409
    assert page.get_by_role("alert").count() == 1
    described = page.evaluate("() => document.querySelector('fieldset').ariaDescribedByElements")
    assert described is not None
    look(page, "taken")

    tab_to(page, "input[type=radio]")
    page.keyboard.press("Space")
    second = page.evaluate("() => document.activeElement.value")
    assert second != first
    tab_to(page, "button[type=submit]")
    assert press_and_wait(page, "Enter") == 200
    look(page, "booked")
    slots = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"]
    starts = {slot["id"]: slot["starts_at"] for slot in slots}
    participation = _participation(client, hr, trial, ours)
    assert participation["starts_at"] == starts[second]
    _download_calendar(page, participation)


def _choose_file(page: Any, path: Path) -> None:
    """Pick `path` in the file field the keyboard focused (`tab_to`). The chooser a keyboard
    user opens with Space is the system's dialog, outside the page; Chromium's headless stand-in
    for it did not always open on a loaded machine (CI timed out waiting for it), so the file is
    set on the focused field directly."""
    field = page.locator(":focus")
    assert field.get_attribute("type") == "file"
    field.set_input_files(path)


@pytest.mark.parametrize("language", LANGUAGES)
def test_update_a_returned_application(
    browser: Any,
    site: str,
    look: Any,
    client: Any,
    build: Any,
    hr: Any,
    language: str,
    tmp_path: Path,
) -> None:
    application = _returned(client, build, hr, language=language)
    page = open_page(browser, site + _link(application["id"], "changes_requested"))
    look(page, "form")

    (tmp_path / "notes.txt").write_text("not a document")
    tab_to(page, "#document")
    _choose_file(page, tmp_path / "notes.txt")
    tab_to(page, "#cover_letter")
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("Voici ma lettre complétée.")
    tab_to(page, "button[type=submit]")
    assert press_and_wait(page, "Enter") == 400
    assert page.get_by_role("alert").count() == 1
    assert page.locator("#document").get_attribute("aria-invalid") == "true"
    look(page, "refused")

    (tmp_path / "diploma.pdf").write_bytes(PDF)
    tab_to(page, "#document")
    _choose_file(page, tmp_path / "diploma.pdf")
    tab_to(page, "#phone")
    page.keyboard.type("+32 470 12 34 56")
    tab_to(page, "button[type=submit]")
    assert press_and_wait(page, "Enter") == 200
    look(page, "sent")
    path = f"/api/v1/applications/{application['id']}"
    updated = client.get(path, headers=hr).json()
    assert updated["status"] == "resubmitted"
    assert updated["cover_letter"] == "Voici ma lettre complétée.", "kept through the refusal"
    [document] = client.get(f"{path}/attachments", headers=hr).json()["items"]
    assert document["filename"] == "diploma.pdf"


@pytest.mark.parametrize("language", LANGUAGES)
def test_apply_to_a_proposed_post(
    browser: Any, site: str, look: Any, client: Any, build: Any, hr: Any, language: str
) -> None:
    candidate = build.candidate(language=language)
    spontaneous = client.post(
        "/api/v1/applications",
        json={"kind": "spontaneous", "candidate_id": candidate["id"], "profile": {}},
        headers=hr,
    ).json()
    job = build.job()
    client.post(
        f"/api/v1/applications/{spontaneous['id']}/propose-job",
        json={"job_id": job["id"], "message": "Ce poste vous conviendrait."},
        headers=hr,
    )
    page = open_page(browser, site + _link(spontaneous["id"], "job_proposed"))
    look(page, "proposal")

    tab_to(page, "#cover_letter")
    page.keyboard.type("Avec plaisir.")
    tab_to(page, "button[type=submit]")
    assert press_and_wait(page, "Enter") == 200
    look(page, "applied")
    bank = client.get(f"/api/v1/applications?job_id={job['id']}", headers=hr).json()
    assert [a["cover_letter"] for a in bank["items"]] == ["Avec plaisir."]


@pytest.mark.parametrize("language", LANGUAGES)
def test_answer_an_offer(
    browser: Any, site: str, look: Any, client: Any, build: Any, hr: Any, language: str
) -> None:
    dossier = build.dossier(candidate=build.candidate(language=language))
    with session_scope() as session:  # as a deliberation leaves the retained dossier
        row = session.get(Dossier, uuid.UUID(dossier["id"]))
        assert row is not None
        row.status = DossierStatus.RETAINED
        _, signed = links.issue(
            session,
            links.new_link(
                purpose=LinkPurpose.ANSWER_OFFER,
                candidate_id=row.candidate_id,
                application_id=row.application_id,
                expires_at=utcnow() + timedelta(days=7),
            ),
        )
    page = open_page(browser, f"{site}/c/{signed}?answer=decline")  # the email's "decline"
    look(page, "offer")

    tab_to(page, "button[value=decline]")
    assert press_and_wait(page, "Space") == 200
    look(page, "declined")
    after = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=hr).json()
    assert after["status"] == "offer_declined"


@pytest.mark.parametrize("language", LANGUAGES)
def test_error_pages(
    browser: Any,
    site: str,
    site_without_database: str,
    look: Any,
    client: Any,
    build: Any,
    hr: Any,
    language: str,
) -> None:
    application = _returned(client, build, hr, language=language)
    link = _link(application["id"], "changes_requested")

    page = open_page(browser, site + link[:-4] + "AAAA", accept_language=language)
    assert page.evaluate("() => document.documentElement.lang") == language
    look(page, "404")

    # The form of a page posted with another action (an old tab, a tampered form): 400.
    page = open_page(browser, site + link)
    page.evaluate("() => document.querySelector('input[name=action]').value = 'apply_to_job'")
    tab_to(page, "button[type=submit]")
    assert press_and_wait(page, "Enter") == 400
    look(page, "400")

    with session_scope() as session:
        session.execute(update(CandidateToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    page = open_page(browser, site + link)  # no Accept-Language: the candidate's language
    assert page.evaluate("() => document.documentElement.lang") == language
    look(page, "410")

    page = open_page(browser, site_without_database + link, accept_language=language)
    assert page.evaluate("() => document.documentElement.lang") == language
    look(page, "503")

    tab_to(page, "footer a")
    assert press_and_wait(page, "Enter") == 200
    assert page.evaluate("() => document.documentElement.lang") == language
    look(page, "statement")
