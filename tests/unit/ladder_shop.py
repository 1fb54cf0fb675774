"""What the ladder stories share: the owner acting, a spending rule, and a customer who spent so much."""

from datetime import UTC, datetime

from models.customer import Customer
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
