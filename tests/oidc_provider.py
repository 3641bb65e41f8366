"""A real OpenID provider on a loopback port: the npm package `oidc-provider` (OpenID
Certified), run by node from tests/oidc/provider.mjs with a configuration this module writes.

It signs with an RSA key this module makes (so that a test can also sign, with the very same
key, the tokens a provider would never issue: expired, from another issuer). Its clients: a
service (`client_credentials`) and a front-end (`authorization_code`) whose users sign in
through the provider's development login form, driven here over HTTP. Access tokens are JWTs
whose audience is the `resource` asked for, carrying the person's email, name and roles
(Keycloak-like: `realm_access.roles`).

node and npm come with the machine (CI too); `npm ci` installs the locked package the first
time. Without node the test fails, saying so: it is never skipped."""

import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.mailbox import free_port

FOLDER = Path(__file__).parent / "oidc"
AUDIENCE = "urn:recrue:api"
OTHER_AUDIENCE = "urn:other:api"
SERVICE = ("recrue-batch", "batch-secret-0123456789")
FRONT_END = ("recrue-web", "web-secret-0123456789")
CALLBACK = "http://127.0.0.1:9/callback"
KID = "recrue-test-1"


def _npm_ci() -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("node and npm are needed for the sign-in tests (Debian: nodejs npm)")
    if not (FOLDER / "node_modules" / "oidc-provider").exists():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=FOLDER, check=True, capture_output=True
        )


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class OidcProvider:
    issuer: str
    key: rsa.RSAPrivateKey
    process: subprocess.Popen[str]
    requests: list[str] = field(default_factory=list)

    def service_token(self, resource: str = AUDIENCE) -> str:
        """A client-credentials access token of the service client."""
        answer = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "resource": resource, "scope": "api"},
            auth=SERVICE,
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def person_token(self, email: str, resource: str = AUDIENCE) -> str:
        """A person's access token: the authorization code flow, signing in on the provider's
        login form and consenting, as a browser would."""
        with httpx.Client(base_url=self.issuer, timeout=10) as browser:
            answer = browser.get(
                "/auth",
                params={
                    "client_id": FRONT_END[0],
                    "response_type": "code",
                    "redirect_uri": CALLBACK,
                    "scope": "openid api",
                    "resource": resource,
                    "state": "s-1",
                },
            )
            while not answer.headers.get("location", "").startswith(CALLBACK):
                assert answer.status_code in (302, 303), answer.text
                location = answer.headers["location"]
                page = browser.get(location)
                if page.status_code in (302, 303):
                    answer = page
                    continue
                prompt = re.search(r'name="prompt" value="(\w+)"', page.text)
                assert prompt is not None, page.text
                form = {"prompt": prompt.group(1), "login": email, "password": "any"}
                submitted = browser.post(urlsplit(location).path, data=form)
                answer = browser.get(submitted.headers["location"])
            code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
            token = browser.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": CALLBACK,
                    "resource": resource,
                },
                auth=FRONT_END,
            )
            token.raise_for_status()
            return str(token.json()["access_token"])

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        """A token signed with the provider's own key (kid and alg as the provider's)."""
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID, **header})

    def claims(self, **changes: Any) -> dict[str, Any]:
        """The claims of a person's token as the provider would issue them, changed."""
        now = int(time.time())
        base = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "alice@example.org",
            "client_id": FRONT_END[0],
            "email": "alice@example.org",
            "realm_access": {"roles": ["recrue-hr"]},
            "iat": now,
            "exp": now + 600,
        }
        return {**base, **changes}


@contextmanager
def running(users: dict[str, dict[str, Any]], service_roles: list[str]) -> Iterator[OidcProvider]:
    """The provider, its users (email: {name, roles}) and the service's roles."""
    _npm_ci()
    key = new_key()
    port = free_port()
    private = jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True)
    config = {
        "port": port,
        "jwks": {"keys": [{**private, "kid": KID, "use": "sig", "alg": "RS256"}]},
        "users": users,
        "serviceRoles": {SERVICE[0]: service_roles},
        "audiences": [AUDIENCE, OTHER_AUDIENCE],
        "alg": "RS256",
        "accessTokenSeconds": 600,
        "clients": [
            {
                "client_id": SERVICE[0],
                "client_secret": SERVICE[1],
                "grant_types": ["client_credentials"],
                "redirect_uris": [],
                "response_types": [],
            },
            {
                "client_id": FRONT_END[0],
                "client_secret": FRONT_END[1],
                "grant_types": ["authorization_code"],
                "redirect_uris": [CALLBACK],
                "response_types": ["code"],
            },
        ],
    }
    folder = Path(__file__).parent / "oidc"
    config_file = folder / f".config-{port}.json"
    config_file.write_text(json.dumps(config))
    process = subprocess.Popen(
        ["node", str(folder / "provider.mjs"), str(config_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        while line and not line.startswith("ready "):
            line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the OpenID provider did not start (exit {process.wait()})")
        yield OidcProvider(issuer=line.split()[1], key=key, process=process)
    finally:
        config_file.unlink(missing_ok=True)
        process.terminate()
        process.wait(timeout=10)
