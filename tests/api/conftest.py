"""REST API fixtures: the real app in a subprocess over a small demo shop with staff and tokens.

The shop is prepared once per session, before any app starts: the demo shop's database is copied,
and staff accounts and their API tokens are created in it through the services (the same database
the app then opens: a SQLite file, or a database on the PostgreSQL test server). Each app gets its
own copy, so one module's changes never reach another.
"""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from models.staff import Role
from services.staff.accounts import create_first_owner, create_user, get_actor, set_active
from services.staff.tokens import create_token, revoke_token
from services.storage.database import close_database, open_database
from tests import postgres
from tests.app_process import AppDidNotStart, running_app
from tests.conftest import ShopTemplate, discard
from tests.staff import OWNER_EMAIL, OWNER_NAME, OWNER_PASSWORD

START_TIMEOUT = 45.0
UNLIMITED = "1000000"  # requests per minute, for apps whose tests are not about the rate limit


@dataclass(frozen=True)
class Tokens:
    owner: str
    manager: str
    viewer: str
    revoked: str  # the owner's, revoked
    deactivated: str  # a manager's, whose account was then deactivated


@dataclass(frozen=True)
class Shop:
    database: ShopTemplate  # the prepared database, copied for each app
    tokens: Tokens


async def _staff_and_tokens() -> Tokens:
    owner = await create_first_owner(email=OWNER_EMAIL, name=OWNER_NAME, password=OWNER_PASSWORD)
    password = "a long password"
    manager = await create_user(
        email="max@example.com", name="Max Manager", password=password, role=Role.MANAGER, actor=owner
    )
    viewer = await create_user(
        email="vera@example.com", name="Vera Viewer", password=password, role=Role.VIEWER, actor=owner
    )
    leaver = await create_user(
        email="leo@example.com", name="Leo Leaver", password=password, role=Role.MANAGER, actor=owner
    )
    actors = {row.id: await get_actor(user_id=row.id) for row in (manager, viewer, leaver)}
    _, owner_secret = await create_token(actor=owner, name="Shop sync")
    _, manager_secret = await create_token(actor=actors[manager.id], name="Manager script")
    _, viewer_secret = await create_token(actor=actors[viewer.id], name="Reports")
    revoked, revoked_secret = await create_token(actor=owner, name="Old laptop")
    await revoke_token(actor=owner, token_id=revoked.id)
    _, leaver_secret = await create_token(actor=actors[leaver.id], name="Leo's script")
    await set_active(user_id=leaver.id, active=False, actor=owner)
    return Tokens(owner_secret, manager_secret, viewer_secret, revoked_secret, leaver_secret)


@pytest.fixture(scope="session")
def api_shop(demo_shop: ShopTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    url = demo_shop.copy(tmp_path_factory.mktemp("api-shop"))

    async def prepare() -> Tokens:
        await open_database(database_url=url)
        try:
            return await _staff_and_tokens()
        finally:
            await close_database()

    yield Shop(database=ShopTemplate(url), tokens=asyncio.run(prepare()))
    discard(url)


APP_DATABASES: dict[Path, str] = {}  # data folder -> the database URL of the app started there


@contextmanager
def start_app(shop: Shop, data_dir: Path, **settings: str) -> Iterator[str]:
    """The app over a copy of the prepared shop; yields its base URL."""
    database_url = shop.database.copy(data_dir)
    APP_DATABASES[data_dir] = database_url
    environment = {"DATABASE_URL": database_url, "DEMO_CUSTOMERS": "0", "API_RATE_LIMIT": UNLIMITED}
    try:
        with running_app(data_dir=data_dir, settings={**environment, **settings}, start_timeout=START_TIMEOUT) as url:
            yield url
    finally:
        discard(database_url)


@pytest.fixture(scope="module")
def app_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api-app")


@pytest.fixture(scope="module")
def api_url(api_shop: Shop, app_data: Path) -> Iterator[str]:
    """The module's app (no rate limit to speak of); yields its base URL."""
    try:
        with start_app(api_shop, app_data) as url:
            yield url
    except AppDidNotStart as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def tokens(api_shop: Shop) -> Tokens:
    return api_shop.tokens


@pytest.fixture
def database(app_data: Path, api_url: str) -> Iterator[sqlite3.Connection | postgres.Connection]:
    """The module's app's database, read straight (to check what an API call did or did not change)."""
    url = APP_DATABASES[app_data]
    connection = (
        sqlite3.connect(url.removeprefix("sqlite://")) if url.startswith("sqlite://") else postgres.Connection(url)
    )
    yield connection
    connection.close()


@pytest.fixture
async def client(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
