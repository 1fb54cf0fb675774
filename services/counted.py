"""Counts that read a whole table (a million customers, every membership), made again only when
what they count has changed: each is kept with a marker read at the cost of one index lookup (the
highest customer id, the newest membership event) and is recounted when the marker moves.

Why the markers are enough: customers are never deleted, so their number changes only when one
is added, which raises the highest id; and every change of who is in a group writes a membership
event in the same transaction (services.membership, services.rules), so the newest event's id
moves with it. The groups' kept member counts are part of a key too, so a writer that skipped its
event would still be noticed when a group's size changed. SQLite commits one writer after the
other, so ids are committed in order. PostgreSQL may commit a higher id before a lower one (a long
import or rule run ending after a short change began and ended): there the marker also holds the
oldest transaction still running (the snapshot's xmin), which moves when such a writer ends.

Kept per database (tests open many in one process) and per process (two app instances each keep
their own; both read the same markers)."""

from collections.abc import Awaitable, Callable, Hashable

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from models.customer import Customer
from services.storage.sql import fetch_rows, is_postgres

_kept: dict[Hashable, tuple[Hashable, int]] = {}
LIMIT = 256  # keys kept at most (the overview's filters make a few each)


def database_of(connection: BaseDBAsyncClient) -> str:
    """Which database a connection is to: SQLite's file, PostgreSQL's host and database name."""
    return str(getattr(connection, "filename", None) or (getattr(connection, "host", ""), connection.database))


async def highest_id(connection: BaseDBAsyncClient, table: str) -> Hashable:
    """The marker of a table whose rows are only ever added (see the module's notes)."""
    if is_postgres(connection):
        rows = await fetch_rows(
            connection, f"SELECT MAX(id) AS n, pg_snapshot_xmin(pg_current_snapshot())::text AS running FROM {table}"
        )
        return rows[0]["n"], rows[0]["running"]
    return (await fetch_rows(connection, f"SELECT MAX(id) AS n FROM {table}"))[0]["n"]


async def kept_count(key: Hashable, marker: Hashable, count: Callable[[], Awaitable[int]]) -> int:
    """The count kept under `key` while `marker` is what it was; else `count()` made again and kept.
    Read the marker before the count: a change between the two then only costs a count again."""
    kept = _kept.get(key)
    if kept is not None and kept[0] == marker:
        return kept[1]
    value = await count()
    if len(_kept) >= LIMIT:
        _kept.clear()
    _kept[key] = (marker, value)
    return value


async def count_customers() -> int:
    """How many customers the shop has, in groups or not (what the overview's totals and a rule
    preview's share are read against): counted again only after a customer was added. Counting a
    million took 13-15 ms a time (465 ms with a cold cache); the marker is one index lookup."""
    connection = connections.get("default")
    marker = await highest_id(connection, "customer")
    return await kept_count(("customers", database_of(connection)), marker, lambda: Customer.all().count())
