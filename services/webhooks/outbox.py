"""The outbox: every change the shop's other systems may want to hear of is written here, in the
transaction that makes the change, so a crash loses none and a rolled-back change sends nothing.
The sender (services.webhooks.sender) delivers from here and the change feed reads here.

- Membership changes already write their history (membership_event) set-based; their outbox rows
  are copied from it with one INSERT ... SELECT per call, whatever the number of members: the
  transaction's own events are those of its groups at its moment (`at`) that have no outbox row
  yet. The customer's email and name and the group's code are copied as they are at that moment.
- Order. Receivers and the feed take events in id order, so an id must never become visible after
  a higher one. SQLite has one writer at a time. On PostgreSQL ids come from a sequence as
  statements run, not as transactions commit, so every writer first takes one advisory lock,
  held until it commits: the outbox's ids are handed out, and committed, one transaction after
  the other. Each call sits at the end of its transaction, so the lock is held briefly.
- Pruning: an event every active endpoint has passed is deleted once it is KEEP_DAYS old, with
  its delivery log; the feed reaches back that far at least.
"""

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.webhook import WebhookEndpoint, WebhookEvent
from services.membership.books import chunks
from services.report_totals import membership_changed
from services.storage.database import BACKGROUND
from services.storage.sql import execute, fetch_rows, is_postgres, placeholders
from services.webhooks.payloads import (
    GROUP_CREATED,
    GROUP_DELETED,
    GROUP_UPDATED,
    MEMBER_ACTIONS,
    RULE_RUN_FINISHED,
    TEST,
)

KEEP_DAYS = 30
# The key of the PostgreSQL advisory lock that orders the outbox; no other lock of ours uses it.
OUTBOX_LOCK_KEY = 731_040_216


async def in_order(connection: BaseDBAsyncClient) -> None:
    """Take the outbox's turn (PostgreSQL; SQLite's transaction holds the write lock already)."""
    if is_postgres(connection):
        await fetch_rows(connection, "SELECT 1 FROM pg_advisory_xact_lock(?)", OUTBOX_LOCK_KEY)


_NOT_COPIED = "AND NOT EXISTS (SELECT 1 FROM webhook_event w WHERE w.membership_event_id = e.id) "
_CASE = " ".join(f"WHEN '{action}' THEN '{kind}'" for action, kind in MEMBER_ACTIONS.items())
_FROM_HISTORY = (
    "INSERT INTO webhook_event (type, created_at, membership_event_id, customer_id, customer_email, "
    "customer_name, group_id, group_name, group_code, other_group_name, action, other_group_id, source, reason) "
    f"SELECT CASE e.action {_CASE} END, e.at, e.id, e.customer_id, c.email, c.name, e.group_id, e.group_name, "
    "{code}, e.other_group_name, e.action, e.other_group_id, e.source, e.reason "
    "FROM membership_event e LEFT JOIN customer c ON c.id = e.customer_id "
    "WHERE e.group_id IN ({groups}) AND e.at = ? "
    f"AND e.action IN ({', '.join(repr(a) for a in MEMBER_ACTIONS)}) "
    "{not_copied}ORDER BY e.id"
)


async def membership_events(connection: BaseDBAsyncClient, *, group_ids: Iterable[int], at: datetime) -> int:
    """Copy the joins, leaves and moves this transaction recorded for these groups at `at` into
    the outbox; how many. Call it after the history is written, last in the transaction."""
    ids = sorted(set(group_ids))
    if not ids:
        return 0
    # Every writer of membership history ends here, in its transaction: the reports' kept totals
    # follow the same events (services.report_totals).
    await membership_changed(connection, group_ids=ids, at=at)
    await in_order(connection)
    written = 0
    for chunk in chunks(ids):
        # The groups' codes go in as values, not joined: PostgreSQL, its figures not yet counting
        # the rows this transaction wrote, scanned customer_group once per event (the copy of a
        # 987,191-event rule run: 7.1-7.3 s of the backend's CPU joined, 5.8-6.1 s as values).
        groups = await fetch_rows(
            connection, f"SELECT id, code FROM customer_group WHERE id IN ({placeholders(chunk)})", *chunk
        )
        code = "CASE e.group_id " + " ".join("WHEN ? THEN CAST(? AS VARCHAR(32))" for _ in groups) + " END"
        statement = _FROM_HISTORY.format(
            code=code if groups else "NULL",
            groups=placeholders(chunk),
            not_copied=_NOT_COPIED if await _copied_before(connection, chunk, at) else "",
        )
        codes = [value for group in groups for value in (group["id"], group["code"])]
        written += await execute(connection, statement, *codes, *chunk, at)
    return written


async def _copied_before(connection: BaseDBAsyncClient, chunk: list[int], at: datetime) -> bool:
    """Whether some of these events may have an outbox row already: an earlier call at the same
    moment (in this transaction, or another's in the same second). On PostgreSQL that is asked once
    for the lot, from the first of them, not once per event (0.6 s of probes for 987,191 of them,
    PostgreSQL 15 at 1M customers); SQLite keeps its probe per event."""
    if not is_postgres(connection):
        return True
    [first] = await fetch_rows(
        connection,
        f"SELECT MIN(id) AS id FROM membership_event WHERE group_id IN ({placeholders(chunk)}) AND at = ?",
        *chunk,
        at,
    )
    if first["id"] is None:
        return False
    return bool(
        await fetch_rows(connection, "SELECT 1 FROM webhook_event WHERE membership_event_id >= ? LIMIT 1", first["id"])
    )


async def _write(connection: BaseDBAsyncClient, kind: str, data: dict[str, Any], **columns: Any) -> None:
    await in_order(connection)
    await WebhookEvent.create(type=kind, data=data, created_at=datetime.now(UTC), using_db=connection, **columns)


async def _group(connection: BaseDBAsyncClient, group_id: int) -> dict[str, Any]:
    rows = await fetch_rows(
        connection,
        "SELECT g.id, g.name, g.code, g.description, g.type, g.status, g.capacity, g.metadata, p.code AS parent_code "
        "FROM customer_group g LEFT JOIN customer_group p ON p.id = g.parent_id WHERE g.id = ?",
        group_id,
    )
    row = dict(rows[0])
    metadata = row.pop("metadata")
    if isinstance(metadata, str):  # SQLite keeps JSON as text
        metadata = json.loads(metadata or "{}")
    return {**row, "metadata": metadata or {}}


async def group_created(connection: BaseDBAsyncClient, *, group_id: int) -> None:
    await _write(connection, GROUP_CREATED, {"group": await _group(connection, group_id)}, group_id=group_id)


async def group_updated(connection: BaseDBAsyncClient, *, group_id: int) -> None:
    await _write(connection, GROUP_UPDATED, {"group": await _group(connection, group_id)}, group_id=group_id)


async def group_deleted(connection: BaseDBAsyncClient, *, group_id: int, name: str, code: str, at: datetime) -> None:
    """The members the deletion released (member.left, from the history written at `at`), then
    the deletion itself. Works after the group's row is gone: its name and code are given."""
    await in_order(connection)
    statement = _FROM_HISTORY.format(code="CAST(? AS VARCHAR(32))", groups="?", not_copied=_NOT_COPIED)
    released = await execute(connection, statement, code, group_id, at)
    data = {"group": {"id": group_id, "name": name, "code": code}, "released": released}
    await _write(connection, GROUP_DELETED, data, group_id=group_id)


async def rule_run_finished(
    connection: BaseDBAsyncClient,
    *,
    group_id: int,
    version: int,
    joined: int,
    left: int,
    members: int,
    turned_away: int,
    ran_at: datetime,
    first_of_version: bool,
) -> None:
    """A rule run's outcome. A run that changed nothing, of a rule version that ran before, sends
    nothing: the periodic refresh runs every rule group every few minutes, and a receiver would
    otherwise hear of each of them doing nothing."""
    if not (joined or left or turned_away or first_of_version):
        return
    group = await _group(connection, group_id)
    data = {
        "group": {"id": group_id, "name": group["name"], "code": group["code"]},
        "rule_version": version,
        "joined": joined,
        "left": left,
        "members": members,
        "turned_away": turned_away,
        "ran_at": ran_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    await _write(connection, RULE_RUN_FINISHED, data, group_id=group_id)


async def test_event(connection: BaseDBAsyncClient, *, endpoint_id: int, sent_by: str) -> int:
    """A test event for one endpoint; its id."""
    await in_order(connection)
    event = await WebhookEvent.create(
        type=TEST,
        data={"message": "A test event from Customer Groups.", "sent_by": sent_by},
        created_at=datetime.now(UTC),
        endpoint_id=endpoint_id,
        using_db=connection,
    )
    return event.id


async def prune(*, now: datetime | None = None, keep_days: int = KEEP_DAYS) -> int:
    """Delete the events every active endpoint has passed once they are `keep_days` old, and their
    delivery log; how many events. A switched-off endpoint holds nothing back: switched on again,
    it goes on with the events still kept."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    async with in_transaction(BACKGROUND) as connection:
        positions = (
            await WebhookEndpoint.filter(enabled=True).using_db(connection).values_list("last_event_id", flat=True)
        )
        passed = min(positions, default=None)
        old = "created_at < ?" + (" AND id <= ?" if passed is not None else "")
        params = (cutoff, passed) if passed is not None else (cutoff,)
        await execute(
            connection,
            f"DELETE FROM webhook_delivery WHERE event_id IN (SELECT id FROM webhook_event WHERE {old})",
            *params,
        )
        return await execute(connection, f"DELETE FROM webhook_event WHERE {old}", *params)
