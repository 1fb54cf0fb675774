"""End-to-end fixtures: the real app in a subprocess, driven by a real Chromium.

The app runs as the shop owner would run it (`python app.py`), on a free port, with a data folder
and database of its own, seeded with a small demo shop. One app serves all tests of a module;
one Chromium serves the whole session; every test gets a fresh browser context (no shared
cookies or storage).

Every test module marks itself `pytestmark = pytest.mark.asyncio(loop_scope="session")`: the
browser lives on the session's event loop, so the tests and the page fixtures must run there too.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright, expect

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_CUSTOMERS = 200
START_TIMEOUT = 45.0  # seconds for migrations, seeding and the server to come up
EXPECT_TIMEOUT = 10_000  # ms; generous for a slow CI machine, instant when all is well

expect.set_options(timeout=EXPECT_TIMEOUT)


def chromium_path() -> str | None:
    """CHROMIUM_PATH, else the system's chromium, else None (Playwright's own browser)."""
    if configured := os.environ.get("CHROMIUM_PATH"):
        return configured
    if found := shutil.which("chromium"):
        return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(data_dir: Path, port: int) -> dict[str, str]:
    """The parent's environment without pytest's and NiceGUI's markers, plus the app's own settings.

    NiceGUI switches into test mode when it sees PYTEST_CURRENT_TEST, and NICEGUI_* variables
    would redirect its host, port or storage.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTEST_CURRENT_TEST" and not key.startswith("NICEGUI_")
    }
    env.update(
        CUSTOMER_GROUPS_DATA=str(data_dir),
        DATABASE_URL=f"sqlite://{(data_dir / 'shop.sqlite3').as_posix()}",
        PORT=str(port),
        HOST="127.0.0.1",
        DEMO_CUSTOMERS=str(DEMO_CUSTOMERS),
        NICEGUI_STORAGE_PATH=str(data_dir / ".nicegui"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):  # not listening yet, or an error page while starting
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stop the app: SIGTERM (NiceGUI shuts down cleanly), SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the app with its own data folder and demo shop; yield its base URL."""
    data_dir = tmp_path_factory.mktemp("app-data")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "app.log"
    with log_path.open("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=PROJECT_ROOT,
            env=app_environment(data_dir, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _answers_200(f"{url}/"):
                exited = process.poll() is not None
                if exited or time.monotonic() > deadline:
                    reason = (
                        f"exited with code {process.returncode}"
                        if exited
                        else f"did not answer 200 on {url}/ within {START_TIMEOUT:.0f}s"
                    )
                    _stop(process)
                    log.seek(0)
                    pytest.fail(f"The app {reason}. Its output:\n{log.read()}", pytrace=False)
                time.sleep(0.1)
            yield url
        finally:
            _stop(process)


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield browser
    await browser.close()


NewContext = Callable[[], Awaitable[BrowserContext]]


@pytest_asyncio.fixture(loop_scope="session")
async def new_context(browser: Browser, app_url: str) -> AsyncIterator[NewContext]:
    """A factory for fresh browser contexts (like the browsers of two different people).

    Any uncaught JavaScript error on any of their pages fails the test.
    """
    contexts: list[BrowserContext] = []
    script_errors: list[str] = []

    async def make() -> BrowserContext:
        context = await browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(EXPECT_TIMEOUT)
        context.on(
            "weberror", lambda error: script_errors.append(f"{error.page.url if error.page else '?'}: {error.error}")
        )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()
    assert not script_errors, "JavaScript errors in the browser:\n" + "\n".join(script_errors)


@pytest_asyncio.fixture(loop_scope="session")
async def page(new_context: NewContext) -> Page:
    context = await new_context()
    return await context.new_page()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where tests leave screenshots for a human to look at: E2E_SCREENSHOTS, else a temp folder."""
    path = Path(os.environ.get("E2E_SCREENSHOTS") or Path(tempfile.gettempdir()) / "customer-groups-e2e")
    path.mkdir(parents=True, exist_ok=True)
    return path
