"""What the ladder stories share: the owner acting, a spending rule, and a customer who spent so much."""

from datetime import UTC, datetime

from models.customer import Customer
from models.group import CustomerGroup
from services.groups.group import create_group
from services.staff.actor import SystemActor

OWNER = SystemActor("olivia")


def at_least(dollars: int) -> dict:
    return {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": dollars * 100}]}


async def customer(name: str, spent: int) -> int:
    """A customer who spent `spent` dollars over their life; their email from their first name."""
    row = await Customer.create(
        name=name,
        email=f"{name.split()[0].lower()}@example.com",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        lifetime_cents=spent * 100,
        order_count=1,
    )
    return row.id


async def gold_and_silver() -> tuple[int, dict[str, int]]:
    """Tiered Customers, a ladder of Gold Tier (from $20,000) over Silver Tier (from $8,000), set up
    directly (no run yet): its group's id, and the rungs' ids by code."""
    parent = await create_group(data={"name": "Tiered Customers", "code": "TIERED"}, actor=OWNER)
    await CustomerGroup.filter(id=parent.id).update(is_ladder=True)
    rungs = {}
    for position, (name, code, dollars) in enumerate(
        (("Gold Tier", "GOLD", 20_000), ("Silver Tier", "SILVER", 8_000)), start=1
    ):
        data = {"name": name, "code": code, "type": "automatic", "rule": at_least(dollars), "parent_id": parent.id}
        rungs[code] = (await create_group(data=data, actor=OWNER)).id
        await CustomerGroup.filter(id=rungs[code]).update(rung=position)
    return parent.id, rungs
