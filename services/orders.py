"""Recording orders, and keeping each customer's purchase stats current with them."""

import logging
from datetime import datetime

from tortoise.expressions import F
from tortoise.functions import Max, Min
from tortoise.transactions import in_transaction

from models.customer import Customer, Order, OrderStatus
from services.errors import FormError, NotFoundError
from services.rules.runs import reevaluate_customer
from services.staff.actor import SYSTEM

logger = logging.getLogger(__name__)


async def record_order(
    *, customer_id: int, total_cents: int, placed_at: datetime, status: OrderStatus = OrderStatus.COMPLETED
) -> int:
    """Store an order and update the customer's stats in the same transaction, then re-check the
    customer's rule-based groups. Returns the order id."""
    if total_cents < 0:
        raise FormError({"total_cents": "An order total cannot be negative."})
    async with in_transaction("default"):
        if not await Customer.exists(id=customer_id):
            raise NotFoundError(f"There is no customer with id {customer_id}.")
        order = await Order.create(customer_id=customer_id, total_cents=total_cents, placed_at=placed_at, status=status)
        if status == OrderStatus.COMPLETED:
            await Customer.filter(id=customer_id).update(
                lifetime_cents=F("lifetime_cents") + total_cents, order_count=F("order_count") + 1
            )
            await refresh_order_dates(customer_id=customer_id)
    if status == OrderStatus.COMPLETED:
        # After the commit: the order stands even if this fails; the periodic rule run catches up.
        try:
            await reevaluate_customer(customer_id=customer_id, actor=SYSTEM)
        except Exception:
            logger.exception("Recorded order %s, but could not re-check customer %s's groups", order.id, customer_id)
    return order.id


async def refresh_order_dates(*, customer_id: int) -> None:
    dates = (
        await Order.filter(customer_id=customer_id, status=OrderStatus.COMPLETED)
        .annotate(first=Min("placed_at"), last=Max("placed_at"))
        .first()
        .values("first", "last")
    )
    stats = await Customer.get(id=customer_id).values("lifetime_cents", "order_count")
    await Customer.filter(id=customer_id).update(
        first_order_at=dates["first"],
        last_order_at=dates["last"],
        average_order_cents=stats["lifetime_cents"] // stats["order_count"] if stats["order_count"] else None,
    )
