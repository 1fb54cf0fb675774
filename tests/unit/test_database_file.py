"""The shop's SQLite file holds its customers: only its owner may read it."""

import stat
from pathlib import Path

import pytest

from models.shop import Shop
from services.storage.database import close_database, open_database

pytestmark = pytest.mark.sqlite_only


def permissions(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_shop_file_and_its_journal_are_readable_by_their_owner_only(tmp_path):
    path = tmp_path / "data" / "shop.sqlite3"
    await open_database(database_url=f"sqlite://{path}")
    try:
        await Shop.create(name="Corner Shop", currency="EUR")
        assert permissions(path) == 0o600
        assert permissions(path.with_name("shop.sqlite3-wal")) == 0o600
    finally:
        await close_database()


async def test_a_file_an_older_version_left_readable_by_all_is_tightened(empty_template, tmp_path):
    path = tmp_path / "shop.sqlite3"
    path.write_bytes(empty_template.read_bytes())
    path.chmod(0o644)
    await open_database(database_url=f"sqlite://{path}")
    await close_database()
    assert permissions(path) == 0o600
