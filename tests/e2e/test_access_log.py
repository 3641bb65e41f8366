"""`recrue api`'s access log never shows the token of a candidate's link."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from shared.models import LinkPurpose
from tests.mailbox import free_port


def _serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = tmp_path / "api.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "api", "--port", str(port), *args],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base, log
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the api never answered:\n" + log.read_text(errors="replace"))


def _access_lines(log: Path, needle: str, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text(errors="replace").splitlines() if needle in line]
        if lines:
            return lines
        time.sleep(0.1)
    raise AssertionError(f"no access line with {needle!r}:\n" + log.read_text(errors="replace"))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_candidate_link_tokens_are_masked_in_the_access_log(tmp_path: Path, workers: str) -> None:
    from shared import links

    signed = links._serializer().dumps({"t": "0" * 32, "p": LinkPurpose.ANSWER_INVITATION})
    privacy = links.privacy_url(uuid.uuid4()).rpartition("/")[2]
    process, base, log = _serve(tmp_path, "--workers", workers)
    try:
        assert httpx.get(f"{base}/c/{signed}?answer=accept", timeout=10).status_code == 404
        assert httpx.post(f"{base}/c/{signed}", data={"action": "x"}, timeout=10).status_code
        assert httpx.get(f"{base}/api/v1/jobs", timeout=10).status_code == 401
        assert httpx.get(f"{base}/c/privacy/{privacy}", timeout=10).status_code == 404
        lines = _access_lines(log, '"POST /c/')
        lines += _access_lines(log, '"GET /c/')
        api = _access_lines(log, '"GET /api/v1/jobs HTTP/1.1" 401')
    finally:
        process.terminate()
        process.wait(timeout=15)
    output = log.read_text(errors="replace")
    assert signed not in output
    assert signed.split(".")[-1] not in output, "not even the signature"
    assert privacy not in output and privacy.split(".")[0] not in output, "nor whom it names"
    assert any("/c/privacy/..." in line for line in lines)
    for line in lines:
        assert "/c/..." in line or "/c/privacy/..." in line
    assert any("?answer=accept" in line for line in lines), "the rest of the path stays"
    assert api, "other paths are logged as they are"
