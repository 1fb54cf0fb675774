"""Daily backups (issue 9): when one is due, which old ones go, and what taking one records. The
decisions are pure functions given "now"; the backups are real copies of a real database."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models.audit import AuditEntry
from models.shop import BackupRun
from services.errors import FormError, PermissionDeniedError
from services.staff.accounts import Role, create_first_owner, create_user
from services.staff.actor import Actor, SystemActor
from services.storage.daily_backups import (
    BackupPlace,
    backup_name,
    backups_to_delete,
    get_backup_status,
    next_backup_at,
    run_daily_backups,
    take_backup,
    update_backup_settings,
)

NOW = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# --- When the next backup is due ----------------------------------------------------------------


def test_the_first_backup_is_due_at_once():
    assert next_backup_at(last_success=None, last_failure=None, now=NOW) == NOW


def test_a_backup_is_due_a_day_after_the_last_one():
    assert next_backup_at(last_success=NOW - hours(3), last_failure=None, now=NOW) == NOW + hours(21)
    # The app was stopped for two days: on start the backup is overdue, so it is taken at once.
    assert next_backup_at(last_success=NOW - hours(49), last_failure=None, now=NOW) <= NOW


def test_after_a_failure_it_is_tried_again_an_hour_later_not_at_once():
    assert next_backup_at(last_success=None, last_failure=NOW - hours(0.25), now=NOW) == NOW + hours(0.75)
    yesterday = NOW - hours(25)
    assert next_backup_at(last_success=yesterday, last_failure=NOW - hours(0.5), now=NOW) == NOW + hours(0.5)
    # A failure before the last success no longer matters.
    assert next_backup_at(last_success=NOW - hours(2), last_failure=NOW - hours(3), now=NOW) == NOW + hours(22)


# --- Names and which old backups go ---------------------------------------------------------------


def test_backups_are_named_by_date_and_time_and_never_overwrite_one_another():
    sqlite = "sqlite://data/customer-groups.sqlite3"
    assert backup_name(NOW, database_url=sqlite) == "customer-groups-2026-03-05-143000.sqlite3"
    assert backup_name(NOW, database_url="postgres://shop@db/shop") == "customer-groups-2026-03-05-143000.dump"
    taken = ["customer-groups-2026-03-05-143000.sqlite3", "customer-groups-2026-03-05-143000-2.sqlite3"]
    assert backup_name(NOW, database_url=sqlite, taken=taken) == "customer-groups-2026-03-05-143000-3.sqlite3"


def test_only_our_backups_beyond_the_newest_n_are_deleted_oldest_first():
    folder = [
        "customer-groups-2026-03-04-030000.sqlite3",
        "customer-groups-2026-03-01-030000.sqlite3",
        "notes.txt",
        "customer-groups-2026-03-05-030000.sqlite3",
        "customer-groups-2026-03-05-030000-2.sqlite3",  # a second one in the same second: the newer
        "customer-groups-final.sqlite3",  # the owner's own copy, not named by us
        "customer-groups-2026-03-02-030000.sqlite3",
    ]
    assert backups_to_delete(folder, keep=3) == [
        "customer-groups-2026-03-01-030000.sqlite3",
        "customer-groups-2026-03-02-030000.sqlite3",
    ]
    assert backups_to_delete(folder, keep=1) == [
        "customer-groups-2026-03-01-030000.sqlite3",
        "customer-groups-2026-03-02-030000.sqlite3",
        "customer-groups-2026-03-04-030000.sqlite3",
        "customer-groups-2026-03-05-030000.sqlite3",
    ]
    assert backups_to_delete(folder, keep=365) == []


# --- Taking backups -----------------------------------------------------------------------------


@pytest.fixture
def place(demo_db: str, tmp_path: Path) -> BackupPlace:
    return BackupPlace(database_url=demo_db, default_folder=tmp_path / "data" / "backups")


@pytest.fixture
async def owner(place: BackupPlace) -> Actor:
    # Permissions are checked against the account as stored: these people must exist.
    return await create_first_owner(email="owner@example.com", name="Olivia Owner", password="a long password")


@pytest.fixture
async def manager(owner: Actor) -> Actor:
    row = await create_user(
        email="max@example.com", name="Max Manager", password="a long password", role=Role.MANAGER, actor=owner
    )
    return Actor(id=row.id, name=row.name, email=row.email, role=row.role)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def customers_in(path: Path) -> int:
    with sqlite3.connect(path) as copy:
        count = copy.execute("SELECT COUNT(*) FROM customer").fetchone()[0]
    copy.close()
    return count


@pytest.mark.sqlite_only
async def test_each_day_a_backup_is_kept_and_the_oldest_beyond_n_go(place: BackupPlace, tmp_path: Path, owner: Actor):
    folder = tmp_path / "nightly"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup")
    await update_backup_settings(enabled=True, keep=2, folder=str(folder), place=place, actor=owner)

    for day in range(4):
        taken = await take_backup(place=place, actor=SystemActor("system"), now=NOW + timedelta(days=day))
        assert taken.ok, taken.error

    assert names(folder) == [
        "customer-groups-2026-03-07-143000.sqlite3",
        "customer-groups-2026-03-08-143000.sqlite3",
        "notes.txt",
    ]
    assert customers_in(folder / "customer-groups-2026-03-08-143000.sqlite3") == 200
    status = await get_backup_status(place=place, now=NOW + timedelta(days=3, hours=1))
    assert status.last is not None
    assert (status.last.at, status.last.file) == (NOW + timedelta(days=3), str(taken.file))
    assert status.last.size_bytes == (folder / "customer-groups-2026-03-08-143000.sqlite3").stat().st_size
    assert status.last_success == status.last
    assert status.next_at == NOW + timedelta(days=4)
    assert await BackupRun.filter(error__isnull=True).count() == 4


@pytest.mark.sqlite_only
async def test_the_default_folder_is_used_when_none_is_set(place: BackupPlace, owner: Actor):
    taken = await take_backup(place=place, actor=owner, now=NOW)
    assert Path(taken.file) == place.default_folder / "customer-groups-2026-03-05-143000.sqlite3"
    assert names(place.default_folder) == [Path(taken.file).name]
    assert await BackupRun.filter(taken_by="Olivia Owner").count() == 1


async def test_a_failed_backup_is_recorded_with_its_reason_and_retried_an_hour_later(
    place: BackupPlace, tmp_path, owner: Actor
):
    folder = tmp_path / "gone"
    await update_backup_settings(enabled=True, keep=7, folder=str(folder), place=place, actor=owner)
    folder.rmdir()
    folder.write_text("someone put a file where the folder should be")

    failed = await take_backup(place=place, actor=SystemActor("system"), now=NOW)

    assert not failed.ok
    assert failed.error == f"File exists: {folder}"
    assert failed.size_bytes is None
    status = await get_backup_status(place=place, now=NOW)
    assert status.last == failed
    assert status.last_success is None
    assert status.next_at == NOW + timedelta(hours=1)


async def test_the_settings_are_checked_saved_and_audited(place: BackupPlace, tmp_path: Path, owner: Actor):
    status = await get_backup_status(place=place)
    assert (status.enabled, status.keep, status.folder, status.last, status.next_at) == (False, 7, "", None, None)
    assert status.last_success is None
    assert status.folder_in_use == place.default_folder

    with pytest.raises(FormError) as refused:
        await update_backup_settings(enabled=True, keep=0, folder="backups", place=place, actor=owner)
    assert refused.value.errors == {
        "keep": "Keep between 1 and 365 backups.",
        "folder": "Enter a full path (such as /var/backups/customer-groups), or leave it empty for the default.",
    }
    with pytest.raises(FormError, match="is a file"):
        await update_backup_settings(enabled=True, keep=7, folder=__file__, place=place, actor=owner)
    with pytest.raises(FormError, match=r"cannot write to /proc/backups: (No such file|Permission denied)"):
        await update_backup_settings(enabled=True, keep=7, folder="/proc/backups", place=place, actor=owner)
    assert not (await get_backup_status(place=place)).enabled, "a refused save changes nothing"

    status = await update_backup_settings(
        enabled=True, keep=30, folder=f" {tmp_path / 'nightly'} ", place=place, actor=owner
    )
    assert (status.enabled, status.keep, status.folder) == (True, 30, str(tmp_path / "nightly"))
    entry = await AuditEntry.get(subject_name="Backup settings")
    assert (entry.actor_name, entry.action) == ("Olivia Owner", "settings.updated")
    assert entry.before == {"daily_backups": False, "keep_backups": 7, "folder": ""}
    assert entry.after == {"daily_backups": True, "keep_backups": 30, "folder": str(tmp_path / "nightly")}


async def test_only_the_owner_sets_up_or_takes_backups(place: BackupPlace, manager: Actor):
    with pytest.raises(PermissionDeniedError, match='"Manage settings"'):
        await update_backup_settings(enabled=True, keep=7, folder="", place=place, actor=manager)
    with pytest.raises(PermissionDeniedError, match='"Manage settings"'):
        await take_backup(place=place, actor=manager)
    assert not (await get_backup_status(place=place)).enabled
    assert not await BackupRun.exists()
    assert not place.default_folder.exists()


@pytest.mark.sqlite_only
async def test_the_background_loop_backs_up_once_when_switched_on_then_waits_a_day(place: BackupPlace, owner: Actor):
    loop = asyncio.create_task(run_daily_backups(place=place, check_every=0.05))
    try:
        await asyncio.sleep(0.2)
        assert not await BackupRun.exists(), "off by default"
        await update_backup_settings(enabled=True, keep=7, folder="", place=place, actor=owner)
        for _ in range(100):
            if await BackupRun.exists():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # several more looks at the settings
    finally:
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
    assert await BackupRun.filter(taken_by="system", error__isnull=True).count() == 1
    assert len(names(place.default_folder)) == 1
