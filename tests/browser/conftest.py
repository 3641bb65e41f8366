"""The candidate pages in a real headless Chromium (Debian's `chromium`, driven by Playwright).

The api runs under uvicorn on a loopback port (in a thread of this process, on the run's
database), a second one with a database that does not answer (the 503 page). axe-core, from
npm (package.json here, `npm ci` when node_modules is missing), is injected into each page.
Missing Chromium or node fails the run: these tests are never skipped.
"""

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mailbox import free_port

HERE = Path(__file__).parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = HERE.parents[1] / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, installed from package-lock.json when missing."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            pytest.fail("node and npm are needed for axe-core (Debian: apt-get install nodejs npm)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=300)
    return AXE.read_text()


class _Server:
    """uvicorn serving `app` on a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "_Server":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise AssertionError(f"uvicorn did not start on {self.url}")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """The api over HTTP, on the run's database: the base URL."""
    from services.api.main import create_app

    with _Server(create_app()) as server:
        yield server.url


@pytest.fixture(scope="session")
def site_without_database() -> Iterator[str]:
    """The api with a database that does not answer (a closed port): the 503 page."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from services.api.deps import get_session
    from services.api.main import create_app

    nowhere = create_engine(f"postgresql+psycopg://recrue@127.0.0.1:{free_port()}/recrue")

    def unreachable() -> Iterator[Session]:
        with Session(nowhere) as session:
            yield session

    app = create_app()
    app.dependency_overrides[get_session] = unreachable
    with _Server(app) as server:
        yield server.url
    nowhere.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module, with a fresh profile. Not for the session:
    Playwright's sync API keeps an event loop running in this thread until it stops, and the
    tests that follow run their own (asyncio.run refuses to run inside another)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() starts Chromium on a fresh temporary profile (its --user-data-dir) each run.
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
