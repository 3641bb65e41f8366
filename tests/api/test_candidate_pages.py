"""Candidate pages behind signed links: GET shows, POST acts once, bad links get clear pages."""

import re
import uuid
from datetime import timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import select, update

from shared.db import session_scope
from shared.models import CandidateToken, Message, utcnow
from tests.api.test_cv_bank import PDF
from tests.api.test_slot_trials import BOOKING
from tests.replies_flow import run_calendars
from tests.scheduler.test_endings import _emails


def _link(application_id: str, kind: str) -> str:
    with session_scope() as session:
        message = session.scalars(
            select(Message)
            .where(Message.application_id == uuid.UUID(application_id), Message.kind == kind)
            .order_by(Message.created_at.desc())
        ).first()
        assert message is not None
        link = str(message.context["link"])
    return link[link.index("/c/") :]


def _returned(client: Any, build: Any, hr: dict[str, str], **candidate: Any) -> dict[str, Any]:
    application = build.application(candidate=build.candidate(**candidate))
    response = client.post(
        f"/api/v1/applications/{application['id']}/request-changes",
        json={"message": "Ajoutez votre diplôme, s'il vous plaît."},
        headers=hr,
    )
    assert response.status_code == 200
    return application


def test_update_page_shows_then_resubmits_once(client: Any, build: Any, hr: Any) -> None:
    application = _returned(client, build, hr, language="fr")
    link = _link(application["id"], "changes_requested")

    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'lang="fr"' in page.text
    assert "Complétez votre candidature" in page.text
    assert "Ajoutez votre diplôme" in page.text
    after_get = client.get(f"/api/v1/applications/{application['id']}", headers=hr).json()
    assert after_get["status"] == "changes_requested", "a GET changes nothing"

    form = {
        "action": "update_application",
        "cover_letter": "Lettre complétée",
        "summary": "Master en droit, 2019",
        "phone": "+32 470 00 00 00",
    }
    done = client.post(link, data=form)
    assert done.status_code == 200
    assert "Votre candidature complétée a été envoyée le" in done.text

    updated = client.get(f"/api/v1/applications/{application['id']}", headers=hr).json()
    assert updated["status"] == "resubmitted"
    assert updated["cover_letter"] == "Lettre complétée"
    assert updated["profile"]["summary"] == "Master en droit, 2019"

    again = client.post(link, data={**form, "cover_letter": "autre chose"})
    assert again.status_code == 200
    assert "envoyée le" in again.text
    reopened = client.get(link)
    assert reopened.status_code == 200 and "envoyée le" in reopened.text
    final = client.get(f"/api/v1/applications/{application['id']}", headers=hr).json()
    assert final["cover_letter"] == "Lettre complétée", "the second POST had no effect"
    history = client.get(f"/api/v1/applications/{application['id']}/history", headers=hr).json()
    actions = [e["action"] for e in history["items"]]
    assert actions.count("application_resubmitted") == 1
    assert history["items"][-1]["actor"].startswith("candidate:")


def test_pages_speak_the_candidates_language(client: Any, build: Any, hr: Any) -> None:
    for language, words in [
        ("nl", "Vul uw kandidatuur aan"),
        ("de", "Ergänzen Sie Ihre Bewerbung"),
        ("en", "Update your application"),
    ]:
        application = _returned(client, build, hr, language=language)
        page = client.get(_link(application["id"], "changes_requested"))
        assert words in page.text
        assert f'lang="{language}"' in page.text


def test_apply_to_a_proposed_job(client: Any, build: Any, hr: Any) -> None:
    candidate = build.candidate(language="nl")
    spontaneous = client.post(
        "/api/v1/applications",
        json={"kind": "spontaneous", "candidate_id": candidate["id"], "profile": {"x": 1}},
        headers=hr,
    ).json()
    job = build.job(title="Bibliothecaris", reference="BIB-7")
    client.post(
        f"/api/v1/applications/{spontaneous['id']}/propose-job",
        json={"job_id": job["id"], "message": "Iets voor u?"},
        headers=hr,
    )
    link = _link(spontaneous["id"], "job_proposed")

    page = client.get(link)
    assert page.status_code == 200
    assert "Bibliothecaris" in page.text and "BIB-7" in page.text and "Iets voor u?" in page.text

    done = client.post(link, data={"action": "apply_to_job", "cover_letter": "Graag!"})
    assert done.status_code == 200
    assert "Uw kandidatuur werd ontvangen op" in done.text
    again = client.post(link, data={"action": "apply_to_job"})
    assert again.status_code == 200

    bank = client.get(f"/api/v1/applications?job_id={job['id']}&count=true", headers=hr).json()
    assert bank["total"] == 1, "applied once"
    [created] = bank["items"]
    assert created["kind"] == "specific" and created["status"] == "submitted"
    assert created["cover_letter"] == "Graag!"
    assert created["proposed_by_application_id"] == spontaneous["id"]
    assert created["candidate"]["id"] == candidate["id"]


def test_tampered_link_is_404_page(client: Any, build: Any, hr: Any) -> None:
    application = _returned(client, build, hr)
    link = _link(application["id"], "changes_requested")
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    for response in (
        client.get(tampered, headers={"Accept-Language": "de-BE,de;q=0.9"}),
        client.post(tampered, data={"action": "update_application"}),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
    assert (
        "Dieser Link ist ungültig" in client.get(tampered, headers={"Accept-Language": "de"}).text
    )
    assert client.get("/c/not-even-a-token").status_code == 404


def test_expired_link_is_410_page(client: Any, build: Any, hr: Any) -> None:
    application = _returned(client, build, hr, language="fr")
    link = _link(application["id"], "changes_requested")
    with session_scope() as session:
        session.execute(update(CandidateToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    page = client.get(link, headers={"Accept-Language": "fr"})
    assert page.status_code == 410
    assert "Ce lien a expiré" in page.text
    assert client.post(link, data={"action": "update_application"}).status_code == 410
    state = client.get(f"/api/v1/applications/{application['id']}", headers=hr).json()
    assert state["status"] == "changes_requested"


def test_wrong_purpose_is_400_page(client: Any, build: Any, hr: Any) -> None:
    application = _returned(client, build, hr)
    link = _link(application["id"], "changes_requested")
    response = client.post(link, data={"action": "apply_to_job"})
    assert response.status_code == 400
    state = client.get(f"/api/v1/applications/{application['id']}", headers=hr).json()
    assert state["status"] == "changes_requested"


def test_a_used_link_keeps_showing_what_was_done(client: Any, build: Any, hr: Any) -> None:
    application = _returned(client, build, hr)
    first = _link(application["id"], "changes_requested")
    client.post(first, data={"action": "update_application", "cover_letter": "v2"})
    client.post(
        f"/api/v1/applications/{application['id']}/request-changes",
        json={"message": "Encore une chose"},
        headers=hr,
    )
    second = _link(application["id"], "changes_requested")
    assert second != first
    assert "Complétez votre candidature" in client.get(second).text
    reopened = client.get(first)
    assert reopened.status_code == 200 and "envoyée le" in reopened.text


def test_hr_revokes_unused_links(client: Any, build: Any, hr: Any) -> None:
    application = _returned(client, build, hr, language="en")
    link = _link(application["id"], "changes_requested")
    response = client.post(f"/api/v1/applications/{application['id']}/revoke-links", headers=hr)
    assert response.json() == {"revoked": 1}
    page = client.get(link)
    assert page.status_code == 410
    assert "This link is no longer valid" in page.text
    assert client.post(link, data={"action": "update_application"}).status_code == 410
    history = client.get(f"/api/v1/applications/{application['id']}/history", headers=hr)
    assert history.json()["items"][-1]["action"] == "candidate_links_revoked"


def test_an_unusable_link_speaks_its_candidates_language(client: Any, build: Any, hr: Any) -> None:
    """Expired or revoked, the link is still ours: its page is in the candidate's language,
    whatever the browser asks; a link we cannot read gets the browser's language."""
    expired = _link(_returned(client, build, hr, language="fr")["id"], "changes_requested")
    with session_scope() as session:
        session.execute(update(CandidateToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    revoked_application = _returned(client, build, hr, language="nl")
    revoked = _link(revoked_application["id"], "changes_requested")
    client.post(f"/api/v1/applications/{revoked_application['id']}/revoke-links", headers=hr)
    for link, headers, status, lang, words in [
        (expired, {}, 410, "fr", "Ce lien a expiré"),
        (expired, {"Accept-Language": "de"}, 410, "fr", "Ce lien a expiré"),
        (revoked, {"Accept-Language": "en"}, 410, "nl", "Deze link is niet langer geldig"),
        (
            expired[:-3] + ("BBB" if expired.endswith("AAA") else "AAA"),
            {"Accept-Language": "de"},
            404,
            "de",
            "Dieser Link ist ungültig",
        ),
        ("/c/nothing", {}, 404, "en", "This link is not valid"),
    ]:
        for page in (client.get(link, headers=headers), client.post(link, headers=headers)):
            assert page.status_code == status
            assert f'<html lang="{lang}">' in page.text
            assert words in page.text


def test_every_page_links_to_the_accessibility_statement(
    client: Any, build: Any, hr: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.settings import get_settings

    page = client.get(_link(_returned(client, build, hr, language="de")["id"], "changes_requested"))
    assert '<a href="../accessibility?lang=de">Erklärung zur Barrierefreiheit</a>' in page.text
    monkeypatch.setenv("ADMINISTRATION_NAME", "Commune de Wavre")
    monkeypatch.setenv("ACCESSIBILITY_CONTACT", "accessibilite@wavre.example")
    monkeypatch.setenv("ACCESSIBILITY_ENFORCEMENT", "Médiateur fédéral, rue Ducale 43, Bruxelles")
    get_settings.cache_clear()
    try:
        statement = client.get("/accessibility?lang=fr")
        assert statement.status_code == 200
        assert '<html lang="fr">' in statement.text
        assert "<title>Déclaration d&#39;accessibilité – Commune de Wavre</title>" in statement.text
        assert "Commune de Wavre veut que les pages" in statement.text
        assert 'href="mailto:accessibilite@wavre.example"' in statement.text
        assert '<footer><p><a href="accessibility?lang=fr">' in statement.text  # itself
        assert "Médiateur fédéral, rue Ducale 43, Bruxelles" in statement.text
        browser = client.get("/accessibility", headers={"Accept-Language": "nl-BE"})
        assert "Toegankelijkheidsverklaring" in browser.text
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    default = client.get("/accessibility").text  # MAIL_FROM's name and address
    assert "Service RH wants the pages" in default and "mailto:rh@commune.example" in default
    assert "the body your country designated" in default
    assert client.get("/accessibility?lang=xx").status_code == 422


def test_the_update_page_takes_the_document_hr_asked_for(client: Any, build: Any, hr: Any) -> None:
    application = _returned(client, build, hr, language="fr")
    link = _link(application["id"], "changes_requested")
    page = client.get(link)
    assert 'enctype="multipart/form-data"' in page.text
    assert 'aria-describedby="asked document-hint"' in page.text  # HR's words describe it
    assert '<div class="note" id="asked">Ajoutez votre diplôme' in page.text
    assert "Le document demandé (facultatif)" in page.text

    form = {"action": "update_application", "cover_letter": "Lettre", "summary": "", "phone": ""}
    done = client.post(link, data=form, files={"document": ("diplôme.pdf", PDF, "text/plain")})
    assert done.status_code == 200
    assert "Votre candidature complétée a été envoyée le" in done.text
    path = f"/api/v1/applications/{application['id']}"
    assert client.get(path, headers=hr).json()["status"] == "resubmitted"
    [attachment] = client.get(f"{path}/attachments", headers=hr).json()["items"]
    assert attachment["filename"] == "diplôme.pdf"
    assert attachment["content_type"] == "application/pdf"  # sniffed, not as claimed
    assert client.get(f"/api/v1/attachments/{attachment['id']}", headers=hr).content == PDF
    history = client.get(f"{path}/history", headers=hr).json()["items"]
    assert history[-1]["after"]["file_id"] == attachment["id"]


@pytest.mark.parametrize(
    ("content", "max_mb", "words"),
    [
        (b"MZ\x90\x00 an executable", "10", "Ce fichier ne peut pas être accepté"),
        (b"", "10", "Ce fichier ne peut pas être accepté"),
        (PDF + b"x" * 20_000, "0.01", "Ce fichier est trop volumineux : 0.01 Mo au maximum."),
    ],
)
def test_a_refused_document_is_said_on_the_page_with_the_texts_kept(
    client: Any,
    build: Any,
    hr: Any,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    max_mb: str,
    words: str,
) -> None:
    from shared.settings import get_settings

    application = _returned(client, build, hr, language="fr")
    link = _link(application["id"], "changes_requested")
    monkeypatch.setenv("MAX_UPLOAD_MB", max_mb)
    get_settings.cache_clear()
    try:
        form = {"action": "update_application", "cover_letter": "Ma lettre", "phone": "0470"}
        page = client.post(link, data=form, files={"document": ("cv.pdf", content, "app/pdf")})
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert page.status_code == 400
    assert '<p class="alert" role="alert" id="document-error">' + words in page.text
    assert 'aria-describedby="asked document-hint document-error" aria-invalid="true"' in page.text
    assert ">Ma lettre</textarea>" in page.text and 'value="0470"' in page.text
    path = f"/api/v1/applications/{application['id']}"
    assert client.get(path, headers=hr).json()["status"] == "changes_requested"
    assert client.get(f"{path}/attachments", headers=hr).json()["items"] == []


def _emailed_event(dossier_id: str, kind: str) -> Any:
    [message] = [m for m in _emails(dossier_id) if m.kind == kind]
    assert message.calendar_ics is not None
    [event] = icalendar.Calendar.from_ical(message.calendar_ics).walk("VEVENT")
    return message, event


def _downloaded_event(client: Any, page: Any) -> Any:
    match = re.search(r'<a href="([^"]+/calendar\.ics)" download="invite.ics">', page.text)
    assert match, "the page offers the calendar file"
    response = client.get(f"/c/{match.group(1)}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="invite.ics"'
    [event] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    return event


def _same_event(downloaded: Any, emailed: Any) -> None:
    for name in ("UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "LOCATION", "ORGANIZER"):
        assert downloaded.get(name) == emailed.get(name), name


def test_after_an_answer_or_a_booking_the_page_offers_the_emailed_calendar(
    client: Any, build: Any, hr: Any
) -> None:
    job = build.job()
    answering, booking, declining = (build.dossier(job) for _ in range(3))
    build.invite(build.written_trial(job), answering, declining)
    slot_trial = client.post(
        f"/api/v1/jobs/{job['id']}/trials",
        json={"kind": "oral", "title": "Entretien", "booking": BOOKING},
        headers=hr,
    ).json()
    build.invite(slot_trial, booking)
    run_calendars()

    invitation, emailed = _emailed_event(answering["id"], "trial_invitation")
    accept = str(invitation.context["accept_link"])
    accept = accept[accept.index("/c/") :].split("?")[0]
    page = client.post(accept, data={"action": "answer_invitation", "answer": "accept"})
    assert page.status_code == 200
    _same_event(_downloaded_event(client, page), emailed)
    _same_event(_downloaded_event(client, client.get(accept)), emailed)  # and later on

    [booking_email] = [m for m in _emails(booking["id"]) if m.kind == "slot_booking_invitation"]
    link = str(booking_email.context["booking_link"])
    link = link[link.index("/c/") :]
    slots = client.get(f"/api/v1/trials/{slot_trial['id']}/slots", headers=hr).json()["items"]
    page = client.post(link, data={"action": "book_slot", "slot_id": slots[1]["id"]})
    assert page.status_code == 200
    run_calendars()
    _, emailed = _emailed_event(booking["id"], "booking_confirmation")
    downloaded = _downloaded_event(client, page)
    _same_event(downloaded, emailed)
    assert str(downloaded["URL"]).endswith(link), "the link to change the slot is the page's"

    decline = _emailed_event(declining["id"], "trial_invitation")[0].context["decline_link"]
    decline = decline[decline.index("/c/") :].split("?")[0]
    page = client.post(decline, data={"action": "answer_invitation", "answer": "decline"})
    assert "calendar.ics" not in page.text
    assert client.get(f"{decline}/calendar.ics").status_code == 409
    update_link = _link(_returned(client, build, hr)["id"], "changes_requested")
    assert client.get(f"{update_link}/calendar.ics").status_code == 400
