"""Fixtures shared by the service and UI tiers: real databases, never mocks.

A migrated empty database and a small demo shop are each built once per session; every test
gets its own copy, so tests never see each other's changes. The databases are SQLite files, or,
when CUSTOMER_GROUPS_TEST_POSTGRES names a server (`.ci/postgres` starts one), PostgreSQL
databases: templates there, and `CREATE DATABASE ... TEMPLATE` for each test's copy.
"""

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.demo.seeding import seed_demo_shop
from services.storage.database import close_database, open_database
from tests import postgres

DEMO_CUSTOMERS = 200


def pytest_collection_finish(session: pytest.Session) -> None:
    # Importing app.py wraps NiceGUI's lifespan with a database opened from the environment of the
    # moment; every `user` test after it would then share that one database. Commands are tested in
    # a process of their own instead.
    if "app" in sys.modules:
        raise pytest.UsageError("A test module imports app.py; run `customer-groups ...` in a subprocess instead.")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `.ci/postgres` deselects these (-m "not sqlite_only"); run by hand on PostgreSQL, they skip.
    if postgres.on_postgres():
        skip = pytest.mark.skip(reason="reads SQLite files directly; the PostgreSQL run covers the rest")
        for item in items:
            if item.get_closest_marker("sqlite_only"):
                item.add_marker(skip)


def _build_url(url: str, *, demo: bool, seed: int = 7) -> None:
    async def build() -> None:
        await open_database(database_url=url)
        try:
            if demo:
                await seed_demo_shop(customers=DEMO_CUSTOMERS, seed=seed)
        finally:
            await close_database()

    asyncio.run(build())


def _build(path: Path, *, demo: bool) -> Path:
    _build_url(f"sqlite://{path}", demo=demo)
    return path


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The empty shop as a SQLite file (also on a PostgreSQL run, for the SQLite-only tests)."""
    return _build(tmp_path_factory.mktemp("templates") / "empty.sqlite3", demo=False)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop as a SQLite file (also on a PostgreSQL run, for the SQLite-only tests)."""
    return _build(tmp_path_factory.mktemp("templates") / "demo.sqlite3", demo=True)


def _copy(template: Path, target: Path) -> str:
    shutil.copy(template, target)
    return f"sqlite://{target}"


@dataclass(frozen=True)
class ShopTemplate:
    """A migrated database built once per session: a SQLite file or a PostgreSQL template database."""

    url: str

    def copy(self, directory: Path) -> str:
        """The URL of a new copy of the template for one test (a file in `directory` on SQLite)."""
        if self.url.startswith("sqlite://"):
            return _copy(Path(self.url.removeprefix("sqlite://")), directory / "shop.sqlite3")
        return postgres.copy_database(postgres.database_name(self.url))


def discard(url: str) -> None:
    """Remove a test's database (a SQLite file goes with the test's tmp_path)."""
    if not url.startswith("sqlite://"):
        postgres.drop_database(url)


def _shop_template(request: pytest.FixtureRequest, sqlite_fixture: str, *, demo: bool) -> Iterator[ShopTemplate]:
    if not postgres.on_postgres():
        yield ShopTemplate(f"sqlite://{request.getfixturevalue(sqlite_fixture)}")
        return
    yield from built_template(lambda: postgres.create_database(), demo=demo)


def built_template(new_url: Callable[[], str], *, demo: bool, seed: int = 7) -> Iterator[ShopTemplate]:
    """A template built at `new_url()` (migrated; with the demo shop of `seed` when `demo`),
    removed at the end of the run."""
    url = new_url()
    _build_url(url, demo=demo, seed=seed)
    yield ShopTemplate(url)
    discard(url)


@pytest.fixture(scope="session")
def empty_shop(request: pytest.FixtureRequest) -> Iterator[ShopTemplate]:
    """The migrated empty shop, on the run's database."""
    yield from _shop_template(request, "empty_template", demo=False)


@pytest.fixture(scope="session")
def demo_shop(request: pytest.FixtureRequest) -> Iterator[ShopTemplate]:
    """The small demo shop, on the run's database."""
    yield from _shop_template(request, "demo_template", demo=True)


async def _open_copy(template: ShopTemplate, tmp_path: Path) -> AsyncIterator[str]:
    url = template.copy(tmp_path)
    await open_database(database_url=url)
    yield url
    await close_database()
    discard(url)


@pytest.fixture
async def db(empty_shop: ShopTemplate, tmp_path: Path) -> AsyncIterator[str]:
    """An empty, migrated database of the test's own."""
    async for url in _open_copy(empty_shop, tmp_path):
        yield url


@pytest.fixture
async def demo_db(demo_shop: ShopTemplate, tmp_path: Path) -> AsyncIterator[str]:
    """A small demo shop of the test's own."""
    async for url in _open_copy(demo_shop, tmp_path):
        yield url


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """A factory of new, blank databases of the test's own (open_database migrates them): the URL
    of a SQLite file in tmp_path named after its argument, or of a new PostgreSQL database."""
    made: list[str] = []

    def make(name: str) -> str:
        url = postgres.create_database() if postgres.on_postgres() else f"sqlite://{tmp_path / name}.sqlite3"
        made.append(url)
        return url

    yield make
    for url in made:
        discard(url)
