"""schemathesis over the whole OpenAPI, against the real api: no failure of any check.

The api runs as `recrue api` (uvicorn) on a free port and the run's database; schemathesis 4.x
runs as a subprocess with an admin key and every check (server errors, status codes, content
types, response schemas and headers, negative and positive data, methods and `Allow`, auth, and
the stateful phase over the links it infers), as set by its configuration in
tests/api/schemathesis.toml and its hooks in tests/api/fuzz_hooks.py.

Reproducible: `--generation-deterministic` here (the same cases every run); `make fuzz` runs
longer, with random cases from a seed it prints (FUZZ_SEED to replay, FUZZ_EXAMPLES cases per
operation). Bounded to a couple of minutes on two cores by FUZZ_EXAMPLES (10 by default).
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mailbox import free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "api" / "schemathesis.toml"


@pytest.fixture
def api_server(tmp_path: Path) -> Any:
    port = free_port()
    log = (tmp_path / "api.log").open("wb")
    env = {**os.environ, "API_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "api", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.terminate()
        raise AssertionError((tmp_path / "api.log").read_text(errors="replace"))
    yield url
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    if os.environ.get("BROKER_URL", "").startswith("redis"):
        # No worker ran: the tasks the fuzzed writes published go, not to a later test's workers.
        from shared.celery_app import make_celery

        make_celery("recrue-tests").control.purge()


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_schemathesis_finds_no_failure(api_server: str, api_key: Any, tmp_path: Path) -> None:
    key = api_key("admin", name="fuzzer")["Authorization"].removeprefix("Bearer ")
    examples = os.environ.get("FUZZ_EXAMPLES", "10")
    seed = os.environ.get("FUZZ_SEED")
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{api_server}/openapi.json",
        "--max-examples",
        examples,
        "--workers",
        "1",  # one at a time: the same sequence of requests, hence of states, every run
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
        *(["--seed", seed] if seed else ["--generation-deterministic"]),
    ]
    env = {
        **os.environ,
        "RECRUE_FUZZ_KEY": key,
        "SCHEMATHESIS_HOOKS": "tests.api.fuzz_hooks",
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    result = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    output = result.stdout + result.stderr
    summary = output[output.rfind("SUMMARY") - 40 :] if "SUMMARY" in output else output[-3000:]
    print(f"schemathesis ({time.monotonic() - started:.0f} s):\n{summary}")
    assert result.returncode == 0, output[-60_000:]
    assert "Tested: " in output, output[-3000:]
