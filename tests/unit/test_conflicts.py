"""A write PostgreSQL aborts to end a deadlock runs again and lands; nothing else is run twice."""

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from models.customer import Customer, Order
from models.group import CustomerGroup
from services.orders import OrderData, save_orders
from services.staff.actor import SYSTEM
from services.storage.conflicts import is_conflict, retried_on_conflict
from services.storage.sql import execute
from tests import postgres


def test_a_deadlock_or_a_serialization_failure_is_a_conflict_even_when_wrapped():
    deadlock = asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
    wrapped = OperationalError(deadlock)
    wrapped.__cause__ = deadlock
    assert is_conflict(deadlock) and is_conflict(wrapped)
    assert is_conflict(asyncpg.exceptions.SerializationError("could not serialize access"))
    assert not is_conflict(IntegrityError("duplicate key")) and not is_conflict(ValueError("no"))


async def test_a_refusal_is_not_run_again():
    calls = []

    @retried_on_conflict
    async def refuse() -> None:
        calls.append(1)
        raise ValueError("not valid")

    with pytest.raises(ValueError):
        await refuse()
    assert calls == [1]


@pytest.mark.skipif(not postgres.on_postgres(), reason="only PostgreSQL deadlocks (.ci/postgres runs this)")
async def test_two_writers_that_deadlock_both_land(demo_db):
    first, second = await CustomerGroup.all().order_by("id").limit(2).values_list("id", flat=True)
    both_hold_one = asyncio.Barrier(2)
    runs: list[str] = []

    @retried_on_conflict
    async def describe(one: int, other: int, text: str) -> None:
        runs.append(text)
        async with in_transaction("default") as connection:
            await execute(connection, "UPDATE customer_group SET description = ? WHERE id = ?", text, one)
            if len(runs) <= 2:  # the first attempts wait for each other, then cross
                await asyncio.wait_for(both_hold_one.wait(), timeout=10)
            await execute(connection, "UPDATE customer_group SET description = ? WHERE id = ?", text, other)

    await asyncio.gather(describe(first, second, "north"), describe(second, first, "south"))
    assert len(runs) == 3  # one of the two was aborted by the server and ran again
    descriptions = set(await CustomerGroup.filter(id__in=[first, second]).values_list("description", flat=True))
    assert len(descriptions) == 1  # the one that ran again wrote both, last


async def test_the_same_new_order_sent_four_times_at_once_lands_once(demo_db):
    """A shop's system retrying a call that is still running: on PostgreSQL the later inserts of the
    new number meet the first one's unique key, run again and find it."""
    customer_id = await Customer.all().order_by("id").first().values_list("id", flat=True)
    order = OrderData(number="#RACE-1", placed_at=datetime(2026, 1, 5, tzinfo=UTC), total_cents=12_345)
    sent = [order._replace(customer_id=customer_id) for _ in range(4)]
    results = await asyncio.gather(*(save_orders(orders=[one], actor=SYSTEM) for one in sent))
    assert sorted((r.created, r.unchanged) for r in results) == [(0, 1), (0, 1), (0, 1), (1, 0)]
    assert await Order.filter(number="#RACE-1").count() == 1
