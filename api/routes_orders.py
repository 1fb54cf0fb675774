"""Orders: create one or a batch keyed by the shop's order number, change an order's status, and list
a customer's orders. Each write recomputes the purchase stats of the customers concerned and re-runs
the rules once for them, as the CSV import does."""

from fastapi import APIRouter

from api.schemas import (
    OrderIn,
    OrderOut,
    OrderSavedOut,
    OrdersIn,
    OrdersSavedOut,
    OrderStatusIn,
    Paged,
    PageNumber,
    PathId,
    PerPage,
)
from api.tokens import ApiRoute, CurrentActor
from services.orders import LineData, OrderData, change_order_status, list_customer_orders, save_orders
from services.staff.actor import Permission, require

router = APIRouter(route_class=ApiRoute, tags=["orders"])


def _order(body: OrderIn) -> OrderData:
    return OrderData(
        number=body.number,
        placed_at=body.placed_at,
        total_cents=body.total_cents,
        status=body.status,
        currency=body.currency,
        lines=None
        if body.lines is None
        else tuple(LineData(line.sku, line.name, line.quantity, line.price_cents) for line in body.lines),
        customer_id=body.customer_id or 0,
        email=body.customer_email or "",
    )


@router.post("/orders", response_model=OrderSavedOut, operation_id="createOrder")
async def create_order(actor: CurrentActor, body: OrderIn):
    """Create an order, or update the one with the same number; a retry never counts it twice."""
    await require(actor, Permission.MANAGE_CUSTOMERS)
    saved = await save_orders(orders=[_order(body)], actor=actor)
    (order,) = saved.orders
    return OrderSavedOut(id=order.id, number=order.number, outcome=order.outcome, rule_changes=saved.rule_changes)


@router.post("/orders/batch", response_model=OrdersSavedOut, operation_id="createOrders")
async def create_orders(actor: CurrentActor, body: OrdersIn):
    """Create or update up to 1,000 orders by number, all of them or (on an error) none."""
    await require(actor, Permission.MANAGE_CUSTOMERS)
    saved = await save_orders(orders=[_order(order) for order in body.orders], actor=actor)
    return OrdersSavedOut.model_validate(saved)


@router.patch("/orders/{order_id}", response_model=OrderOut, operation_id="changeOrderStatus")
async def change_status(actor: CurrentActor, order_id: PathId, body: OrderStatusIn):
    """Change an order's status: only completed orders count in the customer's purchases."""
    return await change_order_status(order_id=order_id, status=body.status, actor=actor)


@router.get("/customers/{customer_id}/orders", response_model=Paged[OrderOut], operation_id="listCustomerOrders")
async def customer_orders(actor: CurrentActor, customer_id: PathId, page: PageNumber = 1, per_page: PerPage = 50):
    """A page of a customer's orders, the newest first, with their lines."""
    found = await list_customer_orders(customer_id=customer_id, page=page, per_page=per_page)
    return Paged[OrderOut](
        items=[OrderOut.model_validate(row) for row in found.rows], total=found.total, page=page, per_page=per_page
    )
