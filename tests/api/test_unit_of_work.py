"""The answer comes after the commit: a client never sees success for a change that was lost."""

from typing import Any

import pytest
from sqlalchemy.orm import Session


def test_a_failed_commit_is_never_answered_with_success(
    client: Any, build: Any, hr: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    application = build.application()

    def lost(self: Session) -> None:
        raise ConnectionError("the database went away during COMMIT")

    monkeypatch.setattr(Session, "commit", lost)
    response = client.post(f"/api/v1/applications/{application['id']}/validate", headers=hr)
    monkeypatch.undo()

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    after = client.get(f"/api/v1/applications/{application['id']}", headers=hr).json()
    assert after["status"] == "submitted"
