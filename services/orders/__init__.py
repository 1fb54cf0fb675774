"""Orders from the shop: recording them one by one or many at a time keyed by the shop's own order
number (`recording`), what the shops' status words mean here (`statuses`), and the customers'
purchase stats recomputed from their orders with the rules re-run afterwards (`stats`)."""

from services.orders.recording import (
    LineData,
    OrderData,
    OrderRow,
    Outcome,
    SaveResult,
    change_order_status,
    list_customer_orders,
    record_order,
    save_orders,
    write_orders,
)

__all__ = [
    "LineData",
    "OrderData",
    "OrderRow",
    "Outcome",
    "SaveResult",
    "change_order_status",
    "list_customer_orders",
    "record_order",
    "save_orders",
    "write_orders",
]
