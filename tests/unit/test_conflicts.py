"""A write PostgreSQL aborts to end a deadlock runs again and lands; nothing else is run twice."""

import asyncio

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from models.group import CustomerGroup
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
