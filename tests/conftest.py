"""Fixtures shared by the service and UI tiers: real SQLite databases, never mocks.

A migrated empty database and a small demo shop are each built once per session; every test
gets its own copy, so tests never see each other's changes.
"""

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.database import close_database, open_database
from services.demo import seed_demo_shop

DEMO_CUSTOMERS = 200


def pytest_collection_finish(session: pytest.Session) -> None:
    # Importing app.py wraps NiceGUI's lifespan with a database opened from the environment of the
    # moment; every `user` test after it would then share that one database. Commands are tested in
    # a process of their own instead.
    if "app" in sys.modules:
        raise pytest.UsageError("A test module imports app.py; run `customer-groups ...` in a subprocess instead.")


def _build(path: Path, *, demo: bool) -> Path:
    async def build() -> None:
        await open_database(database_url=f"sqlite://{path}")
        try:
            if demo:
                await seed_demo_shop(customers=DEMO_CUSTOMERS, seed=7)
        finally:
            await close_database()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("templates") / "empty.sqlite3", demo=False)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("templates") / "demo.sqlite3", demo=True)


def _copy(template: Path, target: Path) -> str:
    shutil.copy(template, target)
    return f"sqlite://{target}"


async def _open_copy(template: Path, tmp_path: Path) -> AsyncIterator[str]:
    url = _copy(template, tmp_path / "shop.sqlite3")
    await open_database(database_url=url)
    yield url
    await close_database()


@pytest.fixture
async def db(empty_template: Path, tmp_path: Path) -> AsyncIterator[str]:
    """An empty, migrated database of the test's own."""
    async for url in _open_copy(empty_template, tmp_path):
        yield url


@pytest.fixture
async def demo_db(demo_template: Path, tmp_path: Path) -> AsyncIterator[str]:
    """A small demo shop of the test's own."""
    async for url in _open_copy(demo_template, tmp_path):
        yield url
