"""uvicorn's access log without the tokens of candidates' links.

A `/c/<token>` path is a credential: whoever reads it can answer for the candidate until the
link expires; a `/c/privacy/<token>` path names the person it was made for. The access log
shows `/c/...` (`/c/privacy/...`) and the first 8 hex digits of the token's SHA-256 instead,
enough to tell the requests of one link apart.
"""

import copy
import hashlib
import logging
import re
from typing import Any

# `/c/<token>` and `/c/privacy/<token>` (the link of every email's footer).
_CANDIDATE_PATH = re.compile(r"^/c/(privacy/)?([^/?#]+)")


def mask(path: str) -> str:
    """`path` with the token of a candidate link replaced by a short fingerprint."""
    return _CANDIDATE_PATH.sub(
        lambda m: f"/c/{m[1] or ''}..." + hashlib.sha256(m[2].encode()).hexdigest()[:8], path
    )


class MaskCandidateTokens(logging.Filter):
    """On uvicorn's access records (`'%s - "%s %s HTTP/%s" %d'`), mask the path argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], mask(args[2]), *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with the filter on its access handler (given to
    `uvicorn.run`, so that every worker process configures it)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["candidate_tokens"] = {"()": f"{__name__}.MaskCandidateTokens"}
    config["handlers"]["access"].setdefault("filters", []).append("candidate_tokens")
    return config
