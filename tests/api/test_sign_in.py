"""Sign-in through OpenID Connect, against a real provider (tests/oidc_provider.py)."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import icalendar
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.api import oidc
from shared.settings import get_settings
from tests import libical
from tests.builders import took_place
from tests.oidc_provider import KID, OTHER_AUDIENCE, OidcProvider, b64, new_key, running

# In the provider: who signs in, with the provider's role names (mapped by OIDC_ROLE_MAP).
USERS = {
    "alice@example.org": {"name": "Alice Martin", "roles": ["recrue-hr"]},
    "eve@example.org": {"name": "Eve Jury", "roles": ["recrue-examiner"]},
    "max@example.org": {"name": "Max Power", "roles": ["recrue-admin", "recrue-hr"]},
    "new@example.org": {"name": "Nora New", "roles": ["recrue-viewer"]},
}
ROLE_MAP = "recrue-admin=admin,recrue-hr=hr,recrue-examiner=examiner,recrue-viewer=viewer"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with running(USERS, service_roles=["recrue-viewer"]) as started:
        yield started


def _configure(monkeypatch: pytest.MonkeyPatch, **settings: str) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    oidc._providers.clear()  # each test reads the provider's keys afresh


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch, provider: OidcProvider) -> Iterator[OidcProvider]:
    """The API trusts the provider, with Keycloak-like roles (`realm_access.roles`)."""
    _configure(
        monkeypatch,
        OIDC_ISSUER=provider.issuer,
        OIDC_AUDIENCE="urn:recrue:api",
        OIDC_ROLES_CLAIM="realm_access.roles",
        OIDC_ROLE_MAP=ROLE_MAP,
    )
    yield provider
    monkeypatch.undo()
    get_settings.cache_clear()
    oidc._providers.clear()


@pytest.fixture
def admin(api_key: Any) -> dict[str, str]:
    return api_key("admin")


@pytest.fixture
def people(client: Any, admin: dict[str, str]) -> dict[str, str]:
    """The people Recrue knows, with the roles Recrue gives them: their ids by email."""
    known = {
        "alice@example.org": ("Alice Martin", ["hr"]),
        "eve@example.org": ("Eve Jury", ["examiner"]),
        "max@example.org": ("Max Power", ["hr"]),  # the provider says admin too: not here
    }
    ids = {}
    for email, (name, roles) in known.items():
        body = {"name": name, "email": email, "roles": roles}
        created = client.post("/api/v1/people", json=body, headers=admin)
        ids[email] = created.json()["id"]
    return ids


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_hr_decisions_name_the_person_by_token_or_on_behalf_of(
    client: Any, build: Any, api_key: Any, signed_in: OidcProvider, people: dict[str, str]
) -> None:
    alice = bearer(signed_in.person_token("alice@example.org"))
    me = client.get("/api/v1/me", headers=alice).json()
    assert (me["kind"], me["person"]["id"], me["roles"], me["service"]) == (
        "person",
        people["alice@example.org"],
        ["hr"],
        "recrue-web",
    )
    front = {**api_key("hr", name="hr-frontend", acts_for_people=True)}
    through_front = {**front, "On-Behalf-Of": "alice@example.org"}
    by_token, by_front = build.dossier(), build.dossier()
    for dossier, headers, service in (
        (by_token, alice, "recrue-web"),
        (by_front, through_front, "hr-frontend"),
    ):
        path = f"/api/v1/dossiers/{dossier['id']}"
        assert client.post(f"{path}/reject", json={"reason": "R"}, headers=headers).is_success
        history = client.get(f"{path}/history", headers=front).json()["items"]
        [step] = [e for e in history if e["action"] == "dossier_rejected"]
        assert (step["person_id"], step["person_name"], step["service"]) == (
            people["alice@example.org"],
            "Alice Martin",
            service,
        )


def test_a_service_signs_in_with_its_client_credentials(
    client: Any, signed_in: OidcProvider
) -> None:
    service = bearer(signed_in.service_token())
    me = client.get("/api/v1/me", headers=service).json()
    assert (me["kind"], me["person"], me["roles"], me["service"]) == (
        "service",
        None,
        ["viewer"],
        "recrue-batch",
    )
    assert client.get("/api/v1/jobs", headers=service).status_code == 200
    job = {"title": "T", "reference": "R-svc", "year": 2026}
    refused = client.post("/api/v1/jobs", json=job, headers=service)
    assert refused.status_code == 403 and refused.json()["required"] == ["admin", "hr"]


def test_people_are_created_on_first_sign_in_only_when_asked(
    client: Any, admin: dict[str, str], signed_in: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = bearer(signed_in.person_token("new@example.org"))
    unknown = client.get("/api/v1/me", headers=token)
    assert unknown.status_code == 403 and "no person" in unknown.json()["detail"]
    _configure(monkeypatch, OIDC_AUTO_CREATE="true")
    me = client.get("/api/v1/me", headers=token).json()
    assert (me["person"]["name"], me["person"]["email"], me["roles"]) == (
        "Nora New",
        "new@example.org",
        ["viewer"],
    )
    listed = client.get("/api/v1/people", headers=admin).json()["items"]
    assert [(p["email"], p["roles"]) for p in listed] == [("new@example.org", ["viewer"])]


def test_a_role_the_person_does_not_have_is_refused(
    client: Any, build: Any, admin: dict[str, str], signed_in: OidcProvider, people: Any
) -> None:
    # The provider says Max is an admin; Recrue says HR only: he acts as HR.
    max_ = bearer(signed_in.person_token("max@example.org"))
    assert client.get("/api/v1/me", headers=max_).json()["roles"] == ["hr"]
    refused = client.get("/api/v1/people", headers=max_)
    assert refused.status_code == 403 and refused.json()["required"] == ["admin"]
    # Alice's token says HR; Recrue made her a viewer since: no decision.
    client.patch(
        f"/api/v1/people/{people['alice@example.org']}", json={"roles": ["viewer"]}, headers=admin
    )
    alice = bearer(signed_in.person_token("alice@example.org"))
    dossier = build.dossier()
    no_role = client.post(
        f"/api/v1/dossiers/{dossier['id']}/reject", json={"reason": "R"}, headers=alice
    )
    assert no_role.status_code == 403
    client.patch(
        f"/api/v1/people/{people['alice@example.org']}", json={"active": False}, headers=admin
    )
    inactive = client.get("/api/v1/me", headers=alice)
    assert inactive.status_code == 403 and "not active" in inactive.json()["detail"]


def _unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def test_tokens_that_fail_a_check_are_401_naming_it(
    client: Any, signed_in: OidcProvider, people: Any
) -> None:
    p = signed_in
    public_pem = p.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    hs_unsigned = _unsigned(p.claims(), hs_header)[:-1]
    hs_signature = b64(hmac.new(public_pem, hs_unsigned.encode(), hashlib.sha256).digest())
    genuine = p.person_token("alice@example.org")
    head, body, signature = genuine.split(".")
    forged_body = b64(
        json.dumps(
            {**jwt.decode(genuine, options={"verify_signature": False}), "email": "max@example.org"}
        ).encode()
    )
    tokens = {
        "exp": p.sign(p.claims(exp=1_700_000_000, iat=1_699_999_000)),
        "aud": p.person_token("alice@example.org", resource=OTHER_AUDIENCE),
        "iss": p.sign(p.claims(iss="http://127.0.0.1:1/other-issuer")),
        "nbf": p.sign(p.claims(nbf=2_000_000_000)),
        "signing key": jwt.encode(p.claims(), new_key(), algorithm="RS256", headers={"kid": "k2"}),
        "algorithm": _unsigned(p.claims(), {"alg": "none", "kid": KID}),
        "signature": f"{head}.{forged_body}.{signature}",
    }
    hmac_with_public_key = f"{hs_unsigned}.{hs_signature}"
    # An allowed alg, but not the one of the key it names (an EC signature for an RSA key).
    ec_key = ec.generate_private_key(ec.SECP256R1())
    other_alg = jwt.encode(p.claims(), ec_key, algorithm="ES256", headers={"kid": KID})
    more = [("algorithm", hmac_with_public_key), ("algorithm", other_alg)]
    for check, token in [*tokens.items(), *more]:
        answer = client.get("/api/v1/me", headers=bearer(token))
        assert answer.status_code == 401, (check, answer.text)
        problem = answer.json()
        assert (problem["type"], problem["check"]) == ("urn:recrue:problem:unauthorized", check)
        assert answer.headers["content-type"] == "application/problem+json"
        assert token not in answer.text and token.split(".")[1] not in answer.text
    assert client.get("/api/v1/me", headers=bearer(genuine)).status_code == 200


def test_without_an_issuer_only_keys_are_accepted(
    client: Any, provider: OidcProvider, hr: dict[str, str]
) -> None:
    token = provider.person_token("alice@example.org")
    refused = client.get("/api/v1/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["check"] == "issuer"
    assert client.get("/api/v1/me", headers=hr).json()["kind"] == "service"


def test_the_key_set_is_fetched_again_for_an_unknown_key_at_most_once_a_minute(
    client: Any, signed_in: OidcProvider, people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []
    fetch = oidc._fetch_json
    monkeypatch.setattr(oidc, "_fetch_json", lambda url: fetched.append(url) or fetch(url))
    now = [1000.0]
    monkeypatch.setattr(oidc.time, "monotonic", lambda: now[0])
    alice = bearer(signed_in.person_token("alice@example.org"))
    unknown = bearer(
        jwt.encode(signed_in.claims(), new_key(), algorithm="RS256", headers={"kid": "k9"})
    )

    assert client.get("/api/v1/me", headers=alice).status_code == 200
    assert client.get("/api/v1/me", headers=alice).status_code == 200
    keys_read = [url for url in fetched if not url.endswith("openid-configuration")]
    assert len(keys_read) == 1, "cached"
    for _ in range(3):
        assert client.get("/api/v1/me", headers=unknown).status_code == 401
    assert len([u for u in fetched if u in keys_read]) == 1, "not again within the minute"
    now[0] += oidc.REFRESH_SECONDS
    assert client.get("/api/v1/me", headers=unknown).status_code == 401
    assert len([u for u in fetched if u in keys_read]) == 2, "once the minute passed"


def test_an_examiner_sees_and_grades_only_their_trials(
    client: Any, build: Any, hr: dict[str, str], signed_in: OidcProvider, people: Any
) -> None:
    eve = bearer(signed_in.person_token("eve@example.org"))
    job = build.job()
    mine_dossier, other_dossier = build.dossier(job), build.dossier(job)
    mine = build.written_trial(job, examiner_ids=[people["eve@example.org"]])
    other = build.written_trial(job, title="Oral", starts_at="2027-03-30T10:00:00+02:00")
    build.invite(mine, mine_dossier)
    build.invite(other, other_dossier)
    took_place(mine["id"], accept_invited=True)
    took_place(other["id"], accept_invited=True)

    assert client.get("/api/v1/me", headers=eve).json()["examines"] == [mine["id"]]
    listed = client.get("/api/v1/dossiers", headers=eve).json()["items"]
    assert [d["id"] for d in listed] == [mine_dossier["id"]]
    assert client.get(f"/api/v1/trials/{other['id']}", headers=eve).status_code == 403

    def participation(trial: dict[str, Any]) -> str:
        items = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()
        return str(items["items"][0]["id"])

    result = {"present": True, "score": "15"}
    graded = client.post(
        f"/api/v1/participations/{participation(mine)}/result", json=result, headers=eve
    )
    assert graded.status_code == 200, graded.text
    assert graded.json()["result"]["recorded_by_person_name"] == "Eve Jury"
    assert graded.json()["result"]["recorded_through"] == "recrue-web"
    not_hers = client.post(
        f"/api/v1/participations/{participation(other)}/result", json=result, headers=eve
    )
    assert not_hers.status_code == 403


SLOTS = {
    "slot_minutes": 30,
    "capacity": 2,
    "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:00:00+02:00"}],
}


@pytest.mark.libical
def test_an_examiners_calendar_feed_lists_exactly_their_trials(
    client: Any, build: Any, hr: dict[str, str], signed_in: OidcProvider, people: Any
) -> None:
    eve = bearer(signed_in.person_token("eve@example.org"))
    job = build.job()
    examiner = [people["eve@example.org"]]
    written = build.written_trial(job, examiner_ids=examiner)
    oral = client.post(
        f"/api/v1/jobs/{job['id']}/trials",
        json={"kind": "oral", "title": "Entretien", "booking": SLOTS, "examiner_ids": examiner},
        headers=hr,
    ).json()
    build.written_trial(job, title="Not hers", starts_at="2027-04-01T10:00:00+02:00")

    opened = client.post("/api/v1/me/calendar-feed", headers=eve)
    assert opened.status_code == 201
    path = urlsplit(opened.json()["url"]).path
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert libical.errors(answer.text) == []
    events = icalendar.Calendar.from_ical(answer.text).walk("VEVENT")
    slots = client.get(f"/api/v1/trials/{oral['id']}/slots", headers=hr).json()["items"]
    assert [(str(e["uid"]), str(e["summary"]), e["dtstart"].dt) for e in events] == [
        (
            f"{written['id']}@recrue-examiner",
            "Épreuve écrite",
            datetime(2027, 3, 28, 8, tzinfo=UTC),
        ),
        *[
            (
                f"{s['id']}@recrue-examiner",
                "Entretien (0/2)",
                datetime.fromisoformat(s["starts_at"]),
            )
            for s in slots
        ],
    ]
    assert len(slots) == 2

    assert client.delete("/api/v1/me/calendar-feed", headers=eve).status_code == 204
    gone = client.get(path)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert client.post("/api/v1/me/calendar-feed", headers=hr).status_code == 403, "no person"


def test_a_persons_token_repeating_a_keyed_write_gets_the_first_answer(
    client: Any, signed_in: OidcProvider, people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = {**bearer(signed_in.person_token("alice@example.org")), "Idempotency-Key": "k-1"}
    max_ = {**bearer(signed_in.person_token("max@example.org")), "Idempotency-Key": "k-1"}
    job = {"title": "T", "reference": "R-keyed", "year": 2026}
    first = client.post("/api/v1/jobs", json=job, headers=alice)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = client.post("/api/v1/jobs", json=job, headers=alice)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()

    other = {**job, "reference": "R-keyed-2"}
    reused = client.post("/api/v1/jobs", json=other, headers=alice)
    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:recrue:problem:idempotency-key-reused"
    assert reused.json()["errors"][0]["field"] == "header.Idempotency-Key"

    by_max = client.post("/api/v1/jobs", json=other, headers=max_)
    assert by_max.status_code == 201 and "idempotent-replayed" not in by_max.headers
    listed = client.get("/api/v1/jobs", headers=alice).json()["items"]
    assert sorted((j["id"], j["reference"]) for j in listed) == sorted(
        [(first.json()["id"], "R-keyed"), (by_max.json()["id"], "R-keyed-2")]
    )

    # A service's own token (no person): the keys are the service's (its client id), across
    # its tokens, and apart from the people's.
    _configure(monkeypatch, OIDC_ROLE_MAP="recrue-viewer=hr")
    service = {**bearer(signed_in.service_token()), "Idempotency-Key": "k-1"}
    by_service = client.post("/api/v1/jobs", json={**job, "reference": "R-svc"}, headers=service)
    assert by_service.status_code == 201 and "idempotent-replayed" not in by_service.headers
    next_token = {**bearer(signed_in.service_token()), "Idempotency-Key": "k-1"}
    assert next_token["Authorization"] != service["Authorization"]
    repeated = client.post("/api/v1/jobs", json={**job, "reference": "R-svc"}, headers=next_token)
    assert repeated.status_code == 201 and repeated.headers["idempotent-replayed"] == "true"
    assert repeated.json() == by_service.json()
    reused = client.post("/api/v1/jobs", json=job, headers=next_token)
    assert reused.json()["type"] == "urn:recrue:problem:idempotency-key-reused"
    assert len(client.get("/api/v1/jobs", headers=service).json()["items"]) == 3
