"""Backups of the shop's database: an online copy that is consistent even while the app writes,
and a restore that refuses a damaged file before touching the live database.

SQLite uses its backup API (pages are copied under the database's own locking, so a running app
needs no pause). PostgreSQL shops use pg_dump / pg_restore."""

import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from services.errors import FormError


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a sqlite:// URL (None for other databases)."""
    if not database_url.startswith("sqlite://"):
        return None
    return Path(database_url.removeprefix("sqlite://").split("?", 1)[0])


def _check(path: Path) -> None:
    # Read-only takes a URI; as_uri() escapes what a URI would read otherwise ("#" starts a fragment,
    # "?" the options, "%" an escape), so "monday#1.sqlite3" is that file, not "monday".
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            result = db.execute("PRAGMA integrity_check").fetchone()
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise FormError({"file": f"{path.name} is not a readable database ({error})."}) from None
    if result != ("ok",):
        raise FormError({"file": f"{path.name} is damaged: {result[0]}"})
    if not {"customer", "customer_group", "membership"} <= tables:
        raise FormError({"file": f"{path.name} is not a Customer Groups database."})


def backup(*, database_url: str, target: Path) -> BackupResult:
    """Copy the live database to `target` (a new file, readable by its owner only: it holds every
    customer, like the database itself)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Claimed before anything is written, so two backups never write into one file.
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise FormError({"file": f"{target} already exists; choose a new file name."}) from None
    try:
        source = sqlite_path(database_url)
        if source is None:
            subprocess.run(["pg_dump", "--format=custom", f"--file={target}", _pg_url(database_url)], check=True)
        else:
            with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
                live.backup(copy)
                # The live database's WAL mode comes along with its pages; the copy is one file of its
                # own, without -wal and -shm files beside it.
                copy.execute("PRAGMA journal_mode=DELETE")
            copy.close()
            live.close()
            _check(target)
    except BaseException:
        target.unlink(missing_ok=True)  # no half-written backup left to be mistaken for a good one
        raise
    return BackupResult(target, target.stat().st_size)


def restore(*, database_url: str, source: Path) -> BackupResult:
    """Replace the database's contents with the backup's (stop the app first). The backup is checked
    before anything is replaced."""
    if not source.exists():
        raise FormError({"file": f"There is no file {source}."})
    target = sqlite_path(database_url)
    if target is None:
        _check_dump(source)
        # One transaction: a restore that fails half way leaves the database as it was.
        options = ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
        subprocess.run(["pg_restore", *options, f"--dbname={_pg_url(database_url)}", str(source)], check=True)
        return BackupResult(source, source.stat().st_size)
    _check(source)
    with sqlite3.connect(source) as backup_copy, sqlite3.connect(target) as live:
        backup_copy.backup(live)
    backup_copy.close()
    live.close()
    return BackupResult(target, target.stat().st_size)


def _check_dump(path: Path) -> None:
    """Refuse a file pg_restore cannot read, or a dump of some other database."""
    listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True)
    if listing.returncode != 0:
        reason = listing.stderr.strip().removeprefix("pg_restore: error: ")
        raise FormError({"file": f"{path.name} is not a readable database backup ({reason})."})
    tables = {line.split()[-2] for line in listing.stdout.splitlines() if " TABLE public " in line}
    if not {"customer", "customer_group", "membership"} <= tables:
        raise FormError({"file": f"{path.name} is not a Customer Groups database."})


def _pg_url(database_url: str) -> str:
    parsed = urlparse(database_url)
    return parsed._replace(scheme="postgresql").geturl()
