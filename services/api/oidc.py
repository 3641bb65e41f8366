"""Access tokens of the OpenID provider named by OIDC_ISSUER, checked with PyJWT.

Which bearer values are tokens: a JWT is three base64url parts joined by two dots, and an API
key (`rk_` and base64url characters) never holds a dot; so a value with exactly two dots is a
token, anything else a key. Without OIDC_ISSUER, a token is refused (401): keys only.

The provider's configuration is read once from `<issuer>/.well-known/openid-configuration`;
its key set (JWKS) is cached, and fetched again when a token names a key id (`kid`) the cache
does not hold, at most once a minute. A token is accepted when its `alg` is one of ALGORITHMS
(never `none`, never an HMAC that would use a public key as its secret), its signature verifies
with the provider's key, and its `iss`, `aud`, `exp` and `nbf` hold (LEEWAY seconds of clock
skew). Each refusal is a 401 whose `check` names the failed check; the token is never echoed."""

import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK, PyJWKSet

from services.api.errors import Unauthorized, Unavailable
from shared.settings import Settings, get_settings

ALGORITHMS = ("RS256", "ES256", "PS256")
LEEWAY = 30  # seconds
REFRESH_SECONDS = 60.0
FETCH_TIMEOUT = 5.0


def is_token(value: str) -> bool:
    """A bearer value with two dots is a JWT; API keys have none."""
    return value.count(".") == 2


@dataclass(frozen=True)
class Claims:
    """What Recrue reads of a verified token."""

    client_id: str
    email: str | None
    name: str | None
    roles: list[str]


class Rejected(Unauthorized):
    """A token that failed `check`."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"the token failed the {check} check: {detail}", check=check)


def _fetch_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer:  # noqa: S310
            return json.load(answer)
    except (OSError, ValueError) as exc:
        raise Unavailable(f"the OpenID provider could not be read ({type(exc).__name__})") from None


class Provider:
    """The issuer's discovery document and key set, cached (see the module's docstring)."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None

    def _refresh(self) -> None:
        if self._jwks_uri is None:
            found = _fetch_json(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")
            if found.get("issuer") != self.issuer:
                raise Unavailable("the OpenID provider's discovery names another issuer")
            self._jwks_uri = str(found["jwks_uri"])
        keys = PyJWKSet.from_dict(_fetch_json(self._jwks_uri)).keys
        self._keys = {key.key_id: key for key in keys if key.key_id and _signs(key)}
        self._fetched_at = time.monotonic()

    def key(self, kid: str) -> PyJWK:
        """The provider's key `kid`, fetching the key set again if it is unknown (at most once
        every REFRESH_SECONDS)."""
        with self._lock:
            if kid not in self._keys:
                due = self._fetched_at is None
                due = due or time.monotonic() - (self._fetched_at or 0.0) >= REFRESH_SECONDS
                if due:
                    self._refresh()
            if kid not in self._keys:
                raise Rejected("signing key", "the token names a key the provider does not have")
            return self._keys[kid]


def _signs(key: PyJWK) -> bool:
    use = key._jwk_data.get("use")  # noqa: SLF001  (PyJWK keeps the JWK's members there)
    return use in (None, "sig")


_providers: dict[str, Provider] = {}
_providers_lock = threading.Lock()


def provider(issuer: str) -> Provider:
    with _providers_lock:
        return _providers.setdefault(issuer, Provider(issuer))


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested claims (`realm_access.roles`)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def role_names(claims: dict[str, Any], settings: Settings) -> list[str]:
    """The Recrue role names the token gives: OIDC_ROLES_CLAIM's values, mapped through
    OIDC_ROLE_MAP when it names them."""
    found = _claim(claims, settings.oidc_roles_claim)
    names = found.split() if isinstance(found, str) else found
    if not isinstance(names, list):
        return []
    mapping = settings.oidc_role_mapping
    return [mapping.get(name, name) for name in names if isinstance(name, str)]


def verify(token: str) -> Claims:
    """The claims of a valid access token (Rejected otherwise)."""
    settings = get_settings()
    if not settings.oidc_issuer:
        raise Rejected("issuer", "tokens are not accepted here (OIDC_ISSUER is not set)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise Rejected("format", "not a well-formed JWT") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise Rejected("algorithm", f"alg must be one of {', '.join(ALGORITHMS)}")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise Rejected("signing key", "the token names no key (kid)")
    key = provider(settings.oidc_issuer).key(kid)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=settings.oidc_audience or None,
            issuer=settings.oidc_issuer,
            leeway=LEEWAY,
            options={
                "require": ["exp", "iss", "aud"] if settings.oidc_audience else ["exp", "iss"],
                "verify_aud": bool(settings.oidc_audience),
            },
        )
    except jwt.InvalidAlgorithmError:
        raise Rejected("algorithm", "the key it names does not sign with this alg") from None
    except jwt.InvalidSignatureError:
        raise Rejected("signature", "the signature does not verify") from None
    except jwt.ExpiredSignatureError:
        raise Rejected("exp", "the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise Rejected("nbf", "the token is not valid yet") from None
    except jwt.InvalidIssuerError:
        raise Rejected("iss", "the token comes from another issuer") from None
    except jwt.InvalidAudienceError:
        raise Rejected("aud", "the token is for another audience") from None
    except jwt.MissingRequiredClaimError as exc:
        raise Rejected(exc.claim, f"the token has no '{exc.claim}' claim") from None
    except jwt.PyJWTError as exc:
        raise Rejected("format", f"the token could not be read ({type(exc).__name__})") from None
    email = _claim(claims, settings.oidc_email_claim)
    client = claims.get("client_id") or claims.get("azp") or claims.get("sub")
    name = claims.get("name")
    return Claims(
        client_id=str(client),
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        name=name if isinstance(name, str) and name.strip() else None,
        roles=role_names(claims, settings),
    )
