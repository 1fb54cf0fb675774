"""Crash safety: the process is killed (SIGKILL, as by a power cut or the OOM killer) in the middle
of a large write; after a restart the database is intact and each action is there completely or
not at all. The action runs in a child process (tests/crash_child.py) that says when it is halfway.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from tortoise import connections

from models.customer import Customer, CustomerTag
from models.group import CustomerGroup, Membership, MembershipAction, MembershipEvent
from services.groups.group import create_group
from services.imports.customers import import_customers
from services.imports.files import read_csv, suggest_mapping
from services.rules.runs import apply_pending_rules
from services.staff.actor import SystemActor
from services.storage.database import BACKGROUND, READER, close_database, open_database
from tests.app_process import PROJECT_ROOT, app_environment

pytestmark = pytest.mark.sqlite_only  # SQLite's own crash recovery, read from its files

CUSTOMERS = 100_000
# More write-ahead log than any commit before the kill wrote (the rule's save: about 10 pages): a
# transaction larger than SQLite's page cache spills its pages to the log before it commits.
SPILLED = 100 * 4096
IMPORTED = 50_000  # rows in the file; the re-import after the crash runs in the test too
ACTOR = SystemActor("anna")


@dataclass(frozen=True)
class Killed:
    lines: list[str]  # what the child printed
    wal_bytes: int  # the size of the write-ahead log when it was killed


def kill_midway(args: list[str], *, when: Callable[[list[str]], bool], database: Path) -> Killed:
    """Run `python -m tests.crash_child *args`; SIGKILL it as soon as the lines it printed so far
    satisfy `when`. Fails if it finished (or died) before that."""
    log = database.with_name("child.log")
    wal = database.with_name(f"{database.name}-wal")
    with log.open("w") as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_child", *args],
            cwd=PROJECT_ROOT,
            env=app_environment(database.parent),
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        watchdog = threading.Timer(60, child.kill)
        watchdog.start()
        lines: list[str] = []
        wal_bytes: int | None = None  # measured at the kill
        try:
            assert child.stdout is not None
            for line in child.stdout:
                lines.append(line.strip())
                if when(lines):
                    os.kill(child.pid, signal.SIGKILL)
                    wal_bytes = wal.stat().st_size if wal.exists() else 0
                    break
            lines += [line.strip() for line in child.stdout]  # whatever it printed before it died
            child.wait(timeout=10)
        finally:
            watchdog.cancel()
    assert wal_bytes is not None, f"the kill point never came: {lines}\n{log.read_text()}"
    assert child.returncode == -signal.SIGKILL, f"the child ended by itself: {lines}\n{log.read_text()}"
    assert not any(line.startswith("done") for line in lines), f"killed too late, the action finished: {lines}"
    return Killed(lines, wal_bytes)


async def integrity() -> list[str]:
    """What SQLite finds when it checks the whole file and every foreign key, through the app's connection."""
    default = connections.get("default")
    checked = [row["integrity_check"] for row in await default.execute_query_dict("PRAGMA integrity_check")]
    dangling = await default.execute_query_dict("PRAGMA foreign_key_check")
    return checked + [f"dangling reference: {row}" for row in dangling]


def add_customers(path: Path, count: int) -> None:
    """`count` customers written straight into the file (customer i spent i dollars)."""
    at = "2024-01-01 00:00:00+00:00"
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO customer (name, company, email, country, status, payment_rating, metadata, created_at, "
            "lifetime_cents, order_count) VALUES (?, '', ?, 'US', 'active', 'good', '{}', ?, ?, 1)",
            ((f"Customer {i:06}", f"c{i}@example.com", at, i * 100) for i in range(1, count + 1)),
        )
    db.close()


def spent(low: int | None = None, high: int | None = None) -> dict:
    conditions = []
    if low is not None:
        conditions.append({"field": "total_purchases", "op": "gte", "value": low * 100})
    if high is not None:
        conditions.append({"field": "total_purchases", "op": "lte", "value": high * 100})
    return {"match": "all", "conditions": conditions}


async def memberships() -> list[tuple]:
    return sorted(await Membership.all().values_list("group_id", "customer_id", "source", "is_primary", "since"))


async def test_a_large_group_killed_while_its_members_are_written_keeps_its_old_members(empty_template, tmp_path):
    database = tmp_path / "shop.sqlite3"
    shutil.copy(empty_template, database)
    add_customers(database, CUSTOMERS)
    url = f"sqlite://{database}"
    await open_database(database_url=url)
    try:
        # The 1,000 best customers; the new rule takes 80,000 others and lets these go.
        group = await create_group(
            data={"name": "Big", "code": "BIG", "type": "automatic", "rule": spent(low=CUSTOMERS - 999)}, actor=ACTOR
        )
        before = await memberships()
        events = await MembershipEvent.all().count()
    finally:
        await close_database()
    assert len(before) == 1000
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps(spent(high=80_000)))

    # Killed as the events of the 80,000 joiners start: their membership rows are written (and
    # partly spilled to the write-ahead log), nothing of the run is committed.
    killed = kill_midway(
        ["rule", url, str(group.id), str(rule)],
        when=lambda lines: lines[-2:] == ["writing membership", "writing membership_event"],
        database=database,
    )
    assert killed.lines[0] == "saving"
    assert killed.wal_bytes > SPILLED, "uncommitted pages of the run were on disk"

    await open_database(database_url=url)  # the restart
    try:
        assert await integrity() == ["ok"]
        big = await CustomerGroup.get(id=group.id)
        # The rule was saved (its own, earlier transaction) but its members were not set: all of
        # the interrupted run is gone, the members, their events and the count alike.
        assert (big.rule, big.rule_version, big.rule_applied_version) == (spent(high=80_000), 2, 1)
        assert await memberships() == before
        assert await MembershipEvent.all().count() == events
        assert big.member_count == 1000

        # On start the app applies rules saved but not applied; now the whole change is there.
        (run,) = await apply_pending_rules()
        assert (run.joined, run.left, run.members) == (80_000, 1000, 80_000)
        big = await CustomerGroup.get(id=group.id)
        assert (big.rule_applied_version, big.member_count) == (2, 80_000)
        assert set(await Membership.filter(group_id=group.id).values_list("customer_id", flat=True)) == set(
            range(1, 80_001)
        )
        new_events = MembershipEvent.filter(group_id=group.id, id__gt=events)
        assert await new_events.filter(action=MembershipAction.JOINED).count() == 80_000
        assert await new_events.filter(action=MembershipAction.LEFT).count() == 1000
        assert await integrity() == ["ok"]
    finally:
        await close_database()


def customer_file(path: Path, rows: int) -> None:
    """A file of `rows` customers: the first 1,000 are already in the shop (under other names)."""
    with path.open("w") as out:
        out.write("email,name,country,tags\n")
        for i in range(1, rows + 1):
            out.write(f"c{i}@example.com,Imported {i:06},DE,imported; batch-{i % 7}\n")


async def test_an_import_killed_halfway_leaves_no_row_of_it(empty_template, tmp_path):
    database = tmp_path / "shop.sqlite3"
    shutil.copy(empty_template, database)
    add_customers(database, 1000)
    url = f"sqlite://{database}"
    csv = tmp_path / "customers.csv"
    customer_file(csv, IMPORTED)

    # After a few of the 10 batches of new customers (the writing runs from 0.2 to 0.9).
    killed = kill_midway(
        ["import", url, str(csv)],
        when=lambda lines: lines[-1].startswith("progress") and float(lines[-1].split()[1]) >= 0.3,
        database=database,
    )
    assert 0.3 <= float(killed.lines[-1].split()[1]) < 0.7, killed.lines  # still writing new customers
    assert killed.wal_bytes > SPILLED, "uncommitted pages of the import were on disk"

    await open_database(database_url=url)  # the restart
    try:
        assert await integrity() == ["ok"]
        assert await Customer.all().count() == 1000
        assert not await Customer.filter(name__startswith="Imported").exists()
        assert not await CustomerTag.all().exists()

        # Importing the same file again, to the end, brings in all of it.
        file = await read_csv(data=csv.read_bytes())
        result = await import_customers(
            file=file, mapping=suggest_mapping(headers=file.headers), actor=ACTOR, rerun_rules=False
        )
        assert (result.created, result.updated) == (IMPORTED - 1000, 1000)
        assert await Customer.filter(name__startswith="Imported", country="DE").count() == IMPORTED
        assert await CustomerTag.filter(tag="imported").count() == IMPORTED
        assert await integrity() == ["ok"]
    finally:
        await close_database()


async def test_every_connection_runs_with_wal_full_sync_and_a_busy_timeout(db):
    for name in ("default", BACKGROUND, READER):
        connection = connections.get(name)
        pragmas = {
            pragma: next(iter((await connection.execute_query_dict(f"PRAGMA {pragma}"))[0].values()))
            for pragma in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
        assert pragmas == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 10_000, "foreign_keys": 1}, name
