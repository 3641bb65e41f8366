"""SECRET_KEY, which signs candidate links: never a default, never a short one.

Every process that signs or checks links (the api, both workers, beat, `recrue run`) calls
`require_secret_key()` as it starts, and refuses to start with SECRET_KEY unset, shorter than
MIN_LENGTH or one of the well-known defaults, unless the database is SQLite (the embedded,
single-machine run). There, with SECRET_KEY unset, a random key is generated once into
VAR_DIR/secret-key (mode 0600) and every process reuses it.
"""

import contextlib
import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

MIN_LENGTH = 32
KNOWN_DEFAULTS = frozenset({"change-me", "change-me-in-production", "changeme", "secret"})
KEY_FILE = "secret-key"


class WeakSecretKey(RuntimeError):
    """SECRET_KEY is unset, short or a known default on a database other than SQLite."""


def weakness(key: str) -> str | None:
    """Why a key is not fit to sign links (None: it is)."""
    if not key:
        return "SECRET_KEY is not set"
    if key in KNOWN_DEFAULTS:
        return "SECRET_KEY is a well-known default"
    if len(key) < MIN_LENGTH:
        return f"SECRET_KEY is shorter than {MIN_LENGTH} characters"
    return None


def signing_key(settings: Settings | None = None) -> str:
    """The key that signs candidate links (WeakSecretKey if the configuration has none fit)."""
    settings = settings or get_settings()
    if weakness(settings.secret_key) is None:  # the usual case, without resolving VAR_DIR's path
        return settings.secret_key
    return _resolve(settings.secret_key, settings.resolved_database_url, settings.var_dir.resolve())


def require_secret_key() -> None:
    """At a process's start: refuse to run without a fit key (see the module's doc)."""
    signing_key()


@lru_cache
def _resolve(key: str, database_url: str, var_dir: Path) -> str:
    problem = weakness(key)
    if problem is None:
        return key
    if not database_url.startswith("sqlite"):
        raise WeakSecretKey(
            f"{problem}: it signs the links sent to candidates. Set SECRET_KEY to a random "
            f"string of at least {MIN_LENGTH} characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    if key:
        log.warning("%s: accepted only because the database is SQLite", problem)
        return key
    return _generated(var_dir / KEY_FILE)


def _generated(path: Path) -> str:
    """The key in `path`, written first (0600, atomically: processes may start together)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
            with contextlib.suppress(FileExistsError):  # another process was first: use its key
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
        log.info("SECRET_KEY is not set: generated one into %s", path)
    key = path.read_text().strip()
    if weakness(key):
        raise WeakSecretKey(f"{path} holds no usable key: delete it, or set SECRET_KEY")
    return key
