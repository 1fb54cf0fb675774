"""Backups: an online copy while the shop is open, restored after a mistake; a damaged file is refused
before the live database is touched."""

import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tortoise import connections

from models.group import CustomerGroup
from services.errors import FormError
from services.storage.backup import backup, restore
from services.storage.database import close_database, open_database
from tests import postgres

TABLES = ("customer", "order", "customer_group", "membership", "membership_event", "product")


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        counts = {table: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in TABLES}
    db.close()
    return counts


@pytest.mark.sqlite_only
async def test_a_backup_taken_while_the_shop_is_open_restores_what_a_mistake_deleted(demo_template, tmp_path):
    live = tmp_path / "shop.sqlite3"
    shutil.copy(demo_template, live)
    url = f"sqlite://{live}"
    await open_database(database_url=url)
    try:
        before = _counts(live)
        copy = backup(database_url=url, target=tmp_path / "backups" / "monday.sqlite3")
        assert copy.size_bytes > 0
        await CustomerGroup.filter(code="WHOLESALE").delete()  # the mistake, made through the app
    finally:
        await close_database()
    assert _counts(live) != before
    restore(database_url=url, source=copy.path)
    assert _counts(live) == before
    await open_database(database_url=url)
    try:
        assert await CustomerGroup.exists(code="WHOLESALE")
    finally:
        await close_database()


def customer_groups(*args: str) -> subprocess.CompletedProcess:
    """The `customer-groups` command as an operator runs it, in a process of its own."""
    command = Path(sys.executable).with_name("customer-groups")
    return subprocess.run([str(command), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.sqlite_only
def test_the_command_line_round_trip_and_refusals(demo_template, tmp_path):
    live = tmp_path / "shop.sqlite3"
    shutil.copy(demo_template, live)
    url = f"sqlite://{live}"
    target = tmp_path / "copy.sqlite3"
    taken = customer_groups("backup", str(target), "--database-url", url)
    assert taken.returncode == 0, taken.stderr
    assert "Backed up to" in taken.stdout
    again = customer_groups("backup", str(target), "--database-url", url)
    assert again.returncode != 0
    assert "already exists" in again.stderr
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"not a database at all" * 100)
    before = _counts(live)
    with pytest.raises(FormError, match="not a readable database"):
        restore(database_url=url, source=damaged)
    assert _counts(live) == before
    restored = customer_groups("restore", str(target), "--database-url", url)
    assert restored.returncode == 0, restored.stderr
    assert _counts(live) == before


async def _row_counts() -> dict[str, int]:
    connection = connections.get("default")
    return {
        table: (await connection.execute_query_dict(f'SELECT COUNT(*) AS n FROM "{table}"'))[0]["n"] for table in TABLES
    }


@pytest.mark.skipif(not postgres.on_postgres(), reason="needs a PostgreSQL server (.ci/postgres starts one)")
async def test_a_postgres_backup_restores_what_a_mistake_deleted_and_refuses_a_damaged_file(demo_db, tmp_path):
    before = await _row_counts()
    copy = backup(database_url=demo_db, target=tmp_path / "monday.dump")
    assert copy.size_bytes > 0
    with pytest.raises(FormError, match="already exists"):
        backup(database_url=demo_db, target=copy.path)
    await CustomerGroup.filter(code="WHOLESALE").delete()  # the mistake, made through the app
    assert await _row_counts() != before
    await close_database()

    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(b"not a database at all" * 100)
    with pytest.raises(FormError, match="not a readable"):
        restore(database_url=demo_db, source=damaged)
    restore(database_url=demo_db, source=copy.path)

    await open_database(database_url=demo_db)
    assert await _row_counts() == before
    assert await CustomerGroup.exists(code="WHOLESALE")


@pytest.mark.sqlite_only
def test_a_hash_in_a_backups_file_name_is_part_of_the_name(demo_template, tmp_path):
    # The operator names Monday's first backup "monday#1.sqlite3": it is taken, checked and restored
    # as that file, and no stray file "monday" appears beside it.
    live = tmp_path / "shop.sqlite3"
    shutil.copy(demo_template, live)
    url = f"sqlite://{live}"
    before = _counts(live)
    copy = backup(database_url=url, target=tmp_path / "backups" / "monday#1.sqlite3")
    restored = restore(database_url=url, source=copy.path)
    assert restored.path == live
    assert _counts(live) == before
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == ["monday#1.sqlite3"]


@pytest.mark.sqlite_only
def test_a_damaged_file_is_refused_even_beside_a_good_one_named_like_its_start(demo_template, tmp_path):
    # "broken.sqlite3#x" is not a database; the good "broken.sqlite3" beside it must not stand in for
    # it in the check, so the restore refuses it with a message and the live database is untouched.
    live = tmp_path / "shop.sqlite3"
    shutil.copy(demo_template, live)
    shutil.copy(demo_template, tmp_path / "broken.sqlite3")
    damaged = tmp_path / "broken.sqlite3#x"
    damaged.write_bytes(b"not a database at all" * 100)
    before = _counts(live)
    with pytest.raises(FormError) as refused:
        restore(database_url=f"sqlite://{live}", source=damaged)
    assert refused.value.errors["file"].startswith("broken.sqlite3#x is not a readable database")
    assert _counts(live) == before


@pytest.mark.sqlite_only
def test_a_backup_is_readable_by_its_owner_only_and_a_failed_one_leaves_no_file(demo_template, tmp_path):
    live = tmp_path / "shop.sqlite3"
    shutil.copy(demo_template, live)
    copy = backup(database_url=f"sqlite://{live}", target=tmp_path / "backups" / "monday.sqlite3")
    assert stat.S_IMODE(copy.path.stat().st_mode) == 0o600

    not_a_shop = tmp_path / "notes.sqlite3"
    with sqlite3.connect(not_a_shop) as db:
        db.execute("CREATE TABLE note (text TEXT)")
    db.close()
    with pytest.raises(FormError):
        backup(database_url=f"sqlite://{not_a_shop}", target=tmp_path / "backups" / "tuesday.sqlite3")
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == ["monday.sqlite3"]
