"""The books every membership change keeps, by hand or by rule, inside the writer's transaction:
the groups' member counts, one primary group per customer, and with "one group per customer" on,
one change at a time on PostgreSQL."""

from collections.abc import Iterable, Sequence

from tortoise.backends.base.client import BaseDBAsyncClient

from models.shop import Shop
from services.storage.sql import execute, fetch_rows, is_postgres, placeholders

CHUNK = 5000  # ids per IN (...) list, well under SQLite's limit of bound parameters


def chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


async def one_group_per_customer(connection: BaseDBAsyncClient) -> bool:
    return bool(await Shop.all().using_db(connection).filter(one_group_per_customer=True).exists())


# The key of the PostgreSQL advisory lock below; any number no other lock of this database uses.
ONE_GROUP_LOCK_KEY = 731_040_215


async def one_at_a_time_if_one_group(connection: BaseDBAsyncClient) -> None:
    """With "one group per customer" on, PostgreSQL runs membership changes one after the other, as
    SQLite's write lock always does: a rule run decides for thousands of customers at once which of
    them are free to join, and row locks on customers taken in two different orders (the rule's
    group first, an owner's customers first) could leave a customer in two groups or deadlock.
    Called first in every membership-changing transaction (manual and rule), so it is the first
    lock each of them takes and nobody holds another lock while waiting for it."""
    if is_postgres(connection) and await one_group_per_customer(connection):
        await fetch_rows(connection, "SELECT 1 FROM pg_advisory_xact_lock(?)", ONE_GROUP_LOCK_KEY)


async def recount(connection: BaseDBAsyncClient, group_ids: Iterable[int]) -> None:
    """Set the groups' member counts from their memberships, inside the writer's transaction."""
    ids = sorted(set(group_ids))
    for chunk in chunks(ids):
        await execute(
            connection,
            "UPDATE customer_group SET member_count = "
            "(SELECT COUNT(*) FROM membership WHERE membership.group_id = customer_group.id) "
            f"WHERE id IN ({placeholders(chunk)})",
            *chunk,
        )


async def settle_primaries(connection: BaseDBAsyncClient, customer_ids: Iterable[int]) -> None:
    """Give each of these customers who has groups but no primary one their newest group as primary.
    For writers outside this module (deleting a group) that take memberships away in bulk."""
    ids = sorted(set(customer_ids))
    for chunk in chunks(ids):
        await execute(
            connection,
            "UPDATE membership SET is_primary = ? WHERE id IN (SELECT (SELECT m.id FROM membership m "
            "WHERE m.customer_id = c.id ORDER BY m.since DESC, m.id DESC LIMIT 1) FROM customer c "
            f"WHERE c.id IN ({placeholders(chunk)}) AND NOT EXISTS "
            "(SELECT 1 FROM membership p WHERE p.customer_id = c.id AND p.is_primary))",
            True,
            *chunk,
        )
