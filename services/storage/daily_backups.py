"""Daily backups: once the owner switches them on in Settings, the app copies its database once a
day into a folder, names each copy by date and time (UTC), and deletes the oldest beyond the
last N. Every attempt, daily or "Back up now", is recorded with its file and size or its error,
for the Settings page.

Why it is built this way:

- The copy is services.storage.backup.backup() (SQLite's online backup API, or pg_dump), run in a worker
  thread: the shop stays open while it runs.
- The schedule is a pure decision (`next_backup_at`) from the last successful backup and the
  last failure: due a day after the last success (at once when there is none, so a start after a
  long pause backs up first), and an hour after a failure, not in a tight loop.
- The background loop reads the settings again each minute, so switching backups on takes
  effect without a restart, and a backup taken by hand counts as the day's.
- Only files named like ours (customer-groups-YYYY-MM-DD-HHMMSS...) are ever deleted, so a
  folder shared with other files loses nothing else.
"""

import asyncio
import contextlib
import logging
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise.transactions import in_transaction

from models.shop import BackupRun, Shop
from services.errors import FormError
from services.settings import Settings
from services.shop import DEFAULT_CURRENCY, DEFAULT_NAME
from services.staff.actor import SYSTEM, Acting, Permission, actor_name, require
from services.staff.audit import record
from services.storage.backup import backup, sqlite_path

logger = logging.getLogger(__name__)

DAY = timedelta(days=1)
RETRY_AFTER = timedelta(hours=1)
CHECK_EVERY = 60.0  # seconds between looks at the settings while no backup is due
KEEP_MIN, KEEP_MAX, KEEP_DEFAULT = 1, 365, 7
PREFIX = "customer-groups-"
OURS = re.compile(rf"^{PREFIX}(\d{{4}}-\d{{2}}-\d{{2}}-\d{{6}})(?:-(\d+))?\.(?:sqlite3|dump)$")

# One backup at a time in this process (the daily one and a click on "Back up now").
_taking = asyncio.Lock()


@dataclass(frozen=True)
class BackupPlace:
    """Where the live database is, and where backups go when the owner names no folder."""

    database_url: str
    default_folder: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> "BackupPlace":
        return cls(settings.effective_database_url, (settings.data_dir / "backups").resolve())


@dataclass(frozen=True)
class LastBackup:
    at: datetime
    file: str
    size_bytes: int | None
    error: str | None  # None: the backup was taken

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class BackupStatus:
    enabled: bool
    keep: int
    folder: str  # as the owner entered it; empty: `default_folder`
    default_folder: Path
    last: LastBackup | None  # the newest attempt
    last_success: LastBackup | None  # the newest backup taken (the same as `last` unless that failed)
    next_at: datetime | None  # when the next daily backup is due; None while they are off

    @property
    def folder_in_use(self) -> Path:
        return Path(self.folder) if self.folder else self.default_folder


# --- Pure decisions ---------------------------------------------------------------------------


def next_backup_at(*, last_success: datetime | None, last_failure: datetime | None, now: datetime) -> datetime:
    """When the next daily backup is due: a day after the last success (now if there is none),
    but not sooner than an hour after a failure that came since."""
    due = last_success + DAY if last_success else now
    if last_failure and (last_success is None or last_failure > last_success):
        due = max(due, last_failure + RETRY_AFTER)
    return due


def backup_name(at: datetime, *, database_url: str, taken: Iterable[str] = ()) -> str:
    """The file name for a backup taken `at` (UTC): customer-groups-2026-03-05-030000.sqlite3
    (.dump for PostgreSQL), with -2, -3 ... when a name is already `taken` (twice in a second)."""
    stamp = f"{PREFIX}{at.astimezone(UTC):%Y-%m-%d-%H%M%S}"
    suffix = ".sqlite3" if sqlite_path(database_url) else ".dump"
    taken = set(taken)
    name, n = f"{stamp}{suffix}", 1
    while name in taken:
        n += 1
        name = f"{stamp}-{n}{suffix}"
    return name


def backups_to_delete(names: Iterable[str], *, keep: int) -> list[str]:
    """Of the file names in a folder, our backups beyond the newest `keep`, oldest first. Other
    files are never listed."""
    ours = [(match[1], int(match[2] or 1), name) for name in names if (match := OURS.match(name))]
    ours.sort()
    return [name for *_, name in ours[: max(len(ours) - keep, 0)]]


# --- Settings ---------------------------------------------------------------------------------


async def _last(**filters) -> LastBackup | None:
    run = await BackupRun.filter(**filters).order_by("-at", "-id").first()
    return LastBackup(run.at, run.file, run.size_bytes, run.error) if run else None


async def get_backup_status(*, place: BackupPlace, now: datetime | None = None) -> BackupStatus:
    shop = await Shop.first()
    enabled = shop.backup_enabled if shop else False
    success, failure = await _last(error__isnull=True), await _last(error__isnull=False)
    next_at = None
    if enabled:
        next_at = next_backup_at(
            last_success=success.at if success else None,
            last_failure=failure.at if failure else None,
            now=now or datetime.now(UTC),
        )
    return BackupStatus(
        enabled=enabled,
        keep=shop.backup_keep if shop else KEEP_DEFAULT,
        folder=shop.backup_folder if shop else "",
        default_folder=place.default_folder,
        last=max((r for r in (success, failure) if r), key=lambda r: r.at, default=None),
        last_success=success,
        next_at=next_at,
    )


def _folder_problem(folder: str) -> str | None:
    """Why backups cannot go to `folder`, or None. The folder is created if need be and written to
    once, so a folder the app may not use is refused when it is chosen, not a day later."""
    path = Path(folder)
    if not path.is_absolute():
        return "Enter a full path (such as /var/backups/customer-groups), or leave it empty for the default."
    if path.exists() and not path.is_dir():
        return f"{folder} is a file, not a folder."
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        return f"The app cannot write to {folder}: {error.strerror or error}."
    return None


async def update_backup_settings(
    *, enabled: bool, keep: int, folder: str, place: BackupPlace, actor: Acting
) -> BackupStatus:
    """Save the daily backup settings, or raise FormError naming the field that cannot be saved
    (the folder is created if need be). Needs the settings permission, the owner's: a backup holds
    everything in the shop."""
    await require(actor, Permission.MANAGE_SETTINGS)
    folder = folder.strip()
    errors: dict[str, str] = {}
    if not KEEP_MIN <= keep <= KEEP_MAX:
        errors["keep"] = f"Keep between {KEEP_MIN} and {KEEP_MAX} backups."
    if folder and (problem := await asyncio.to_thread(_folder_problem, folder)):
        errors["folder"] = problem
    if errors:
        raise FormError(errors)
    async with in_transaction("default") as connection:
        shop = await Shop.first(using_db=connection)
        if shop is None:
            shop = await Shop.create(name=DEFAULT_NAME, currency=DEFAULT_CURRENCY, using_db=connection)
        before = {"daily_backups": shop.backup_enabled, "keep_backups": shop.backup_keep, "folder": shop.backup_folder}
        after = {"daily_backups": enabled, "keep_backups": keep, "folder": folder}
        await (
            Shop.filter(id=shop.id)
            .using_db(connection)
            .update(backup_enabled=enabled, backup_keep=keep, backup_folder=folder)
        )
        if after != before:
            await record(
                actor=actor,
                action="settings.updated",
                subject_type="settings",
                subject_id=None,
                subject_name="Backup settings",
                before=before,
                after=after,
                connection=connection,
            )
    return await get_backup_status(place=place)


# --- Taking backups ---------------------------------------------------------------------------


def _rotate(folder: Path, keep: int) -> None:
    for name in backups_to_delete((p.name for p in folder.iterdir()), keep=keep):
        try:
            (folder / name).unlink()
            for leftover in ("-wal", "-shm"):  # beside copies made before backups were one file
                (folder / f"{name}{leftover}").unlink(missing_ok=True)
            logger.info("Deleted the old backup %s", folder / name)
        except OSError:
            logger.exception("Could not delete the old backup %s", folder / name)


def _message(error: Exception) -> str:
    """What went wrong, in words an owner can act on ("Permission denied: /srv/backups")."""
    if isinstance(error, FormError):
        return " ".join(error.errors.values())
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error) or type(error).__name__


def _back_up(database_url: str, folder: Path, at: datetime, keep: int) -> LastBackup:
    """In a worker thread: copy the database into `folder` under a new name, then delete the
    oldest backups beyond `keep`."""
    taken = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    target = folder / backup_name(at, database_url=database_url, taken=taken)
    existed = target.exists()  # only if another process chose the same name meanwhile
    try:
        result = backup(database_url=database_url, target=target)
    except Exception as error:
        logger.exception("Backup to %s failed", target)
        if not existed:  # a partial copy is no backup
            with contextlib.suppress(OSError):
                target.unlink(missing_ok=True)
        return LastBackup(at, str(target), None, _message(error))
    _rotate(folder, keep)
    return LastBackup(at, str(result.path), result.size_bytes, None)


async def take_backup(*, place: BackupPlace, actor: Acting, now: datetime | None = None) -> LastBackup:
    """Back up the database now into the backup folder, delete the oldest backups beyond the
    number to keep, and record the result. A failure is recorded and returned (`error`), not
    raised: the daily loop goes on, and the page shows why."""
    await require(actor, Permission.MANAGE_SETTINGS)
    async with _taking:
        status = await get_backup_status(place=place)
        outcome = await asyncio.to_thread(
            _back_up, place.database_url, status.folder_in_use, now or datetime.now(UTC), status.keep
        )
        await BackupRun.create(
            at=outcome.at,
            taken_by=actor_name(actor),
            file=outcome.file,
            size_bytes=outcome.size_bytes,
            error=outcome.error,
        )
    return outcome


async def run_daily_backups(
    *, place: BackupPlace, clock: Callable[[], datetime] = lambda: datetime.now(UTC), check_every: float = CHECK_EVERY
) -> None:
    """Runs for the app's lifetime: whenever daily backups are on and one is due, take it.
    Errors are logged and recorded; the loop goes on until cancelled."""
    while True:
        wait = check_every
        try:
            status = await get_backup_status(place=place, now=clock())
            if status.next_at is not None:
                due_in = (status.next_at - clock()).total_seconds()
                if due_in <= 0:
                    taken = await take_backup(place=place, actor=SYSTEM, now=clock())
                    if taken.ok:
                        logger.info("Daily backup: %s (%s bytes)", taken.file, taken.size_bytes)
                    continue
                wait = min(wait, due_in)
        except Exception:
            logger.exception("Daily backup check failed")
        await asyncio.sleep(wait)
