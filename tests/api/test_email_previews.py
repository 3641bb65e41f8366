"""HR previews every email kind in every language."""

from typing import Any

import pytest

from shared.emails.kinds import KINDS


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_every_kind_previews(client: Any, hr: dict[str, str], language: str) -> None:
    listed = client.get("/api/v1/email-previews", headers=hr).json()["items"]
    assert {k["kind"] for k in listed} == set(KINDS)
    for kind in KINDS:
        response = client.get(f"/api/v1/email-previews/{kind}?language={language}", headers=hr)
        assert response.status_code == 200, (kind, response.text)
        body = response.json()
        assert body["subject"] and body["text"] and body["html"].startswith("<!DOCTYPE html>")


def test_preview_as_a_page_and_refusals(client: Any, hr: dict[str, str], api_key: Any) -> None:
    page = client.get("/api/v1/email-previews/trial_invitation?language=de&format=html", headers=hr)
    assert page.headers["content-type"].startswith("text/html")
    assert 'lang="de"' in page.text
    assert client.get("/api/v1/email-previews/nope", headers=hr).status_code == 404
    assert client.get("/api/v1/email-previews/welcome?language=xx", headers=hr).status_code == 422
    assert client.get("/api/v1/email-previews", headers=api_key("viewer")).status_code == 403
