"""End-to-end fixtures: the real app in a subprocess, driven by a real Chromium.

The app runs as the shop owner would run it (`python app.py`), on a free port, with a data folder
and database of its own, seeded with a small demo shop. One app serves all tests of a module;
one Chromium serves the whole session; every test gets a fresh browser context (no shared
cookies or storage).

Every test module marks itself `pytestmark = pytest.mark.asyncio(loop_scope="session")`: the
browser lives on the session's event loop, so the tests and the page fixtures must run there too.
"""

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Locator, Page, Playwright, async_playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from services.settings import Settings
from tests import postgres
from tests.app_process import AppDidNotStart, running_app
from tests.conftest import DEMO_CUSTOMERS, ShopTemplate, built_template, discard
from tests.staff import OWNER_EMAIL, OWNER_NAME, OWNER_PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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


@pytest.hookimpl(tryfirst=True)  # before -m "not sqlite_only" deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test that reads the app's SQLite file asks for it by name.
    for item in items:
        if "app_database" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.sqlite_only)


@pytest.fixture(scope="module")
def app_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app-data")


@pytest.fixture(scope="module")
def app_database(app_data_dir: Path) -> Path:
    """The SQLite file of the module's app, for checks made straight in the database (such tests
    are sqlite_only: on a PostgreSQL run the app uses a database on the test server)."""
    return app_data_dir / "shop.sqlite3"


@pytest.fixture(scope="session")
def first_start_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopTemplate]:
    """What the app's first start makes of an empty database (migrations, then the demo shop of
    DEMO_CUSTOMERS customers and the app's own seed), made once per run: each module's app starts
    on a copy instead of doing it again (1.7 s a module)."""
    seed = Settings.model_fields["demo_seed"].default
    if postgres.on_postgres():
        yield from built_template(postgres.create_database, demo=True, seed=seed)
    else:
        path = tmp_path_factory.mktemp("first-start") / "shop.sqlite3"
        yield from built_template(lambda: f"sqlite://{path}", demo=True, seed=seed)


@pytest.fixture(scope="module")
def app_database_url(app_data_dir: Path, first_start_shop: ShopTemplate) -> Iterator[str]:
    """The module's app's database: a SQLite file, or a new database on the PostgreSQL test server,
    holding the demo shop (the owner's account is still to be made on the setup page)."""
    url = first_start_shop.copy(app_data_dir)
    yield url
    discard(url)


@pytest.fixture(scope="module")
def app_url(app_data_dir: Path, app_database_url: str) -> Iterator[str]:
    """Start the app with its own data folder and demo shop; yield its base URL."""
    settings = {"DATABASE_URL": app_database_url, "DEMO_CUSTOMERS": str(DEMO_CUSTOMERS)}
    try:
        with running_app(data_dir=app_data_dir, settings=settings, start_timeout=START_TIMEOUT) as url:
            yield url
    except AppDidNotStart as error:
        pytest.fail(str(error), pytrace=False)


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
        await _sign_in(context)
        return context

    yield make
    for context in contexts:
        await context.close()
    assert not script_errors, "JavaScript errors in the browser:\n" + "\n".join(script_errors)


async def _sign_in(context: BrowserContext) -> None:
    """Sign the owner in: on the app's first visit the setup page creates the account (the first
    start's own journey), afterwards the sign-in page."""
    page = await context.new_page()
    await page.goto("/groups")
    await page.wait_for_url(re.compile(r"/(setup|login)"))
    if "/setup" in page.url:
        await page.get_by_label("Your name").fill(OWNER_NAME)
        await page.get_by_label("Email").fill(OWNER_EMAIL)
        await page.get_by_label("Password", exact=True).fill(OWNER_PASSWORD)
        await page.get_by_label("Repeat the password").fill(OWNER_PASSWORD)
        await page.get_by_role("button", name="Create owner account").click()
    else:
        await page.get_by_label("Email").fill(OWNER_EMAIL)
        await page.get_by_label("Password", exact=True).fill(OWNER_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"^[^?]*/groups$"))  # not "/login?next=/groups"
    await page.close()


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


async def choose(page: Page, select: Locator, option: str) -> None:
    """Open the select and pick `option`. The select may still be redrawn after the choice before
    (the server answers over the websocket, slower on a busy machine): a menu opened on the old one
    lacks the option, so it is closed and opened again until the option is offered."""
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(4):
        await select.click()
        try:
            await wanted.click(timeout=3000)
            return
        except PlaywrightTimeoutError:
            await page.keyboard.press("Escape")
    await select.click()
    await wanted.click()
