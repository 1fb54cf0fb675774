"""What the shops' own status words mean here: one table for every file layout and the API.

Only a completed order counts in a customer's purchases. The words are compared as the shop writes
them, in any letter case, with "-", "_" and spaces alike and WooCommerce's "wc-" prefix dropped
("On hold", "on-hold" and "wc-on-hold" are one word).

| word                                 | where it comes from                      | status    |
|--------------------------------------|------------------------------------------|-----------|
| completed, pending, cancelled, refunded | ours (the plain layout, the API)      | the same  |
| paid                                 | Shopify's Financial Status               | completed |
| partially_refunded                   | Shopify (the refunded amount is deducted)| completed |
| pending, authorized, partially_paid  | Shopify: not paid (in full) yet          | pending   |
| voided, expired                      | Shopify: the payment was never taken     | cancelled |
| refunded                             | Shopify, WooCommerce                     | refunded  |
| completed, processing                | WooCommerce: paid (processing = to ship) | completed |
| pending payment, on-hold, failed, draft, checkout-draft | WooCommerce: not paid | pending   |
| cancelled (canceled)                 | WooCommerce, ours                        | cancelled |

A date in Shopify's `Cancelled at` makes the order cancelled whatever its financial status (a
cancelled order that was paid is refunded too; either way it does not count). An empty status
counts as completed: a file without statuses lists the orders a shop took.
"""

import re

from models.customer import OrderStatus

COMPLETED, PENDING, CANCELLED, REFUNDED = (
    OrderStatus.COMPLETED,
    OrderStatus.PENDING,
    OrderStatus.CANCELLED,
    OrderStatus.REFUNDED,
)

STATUS_WORDS: dict[str, OrderStatus] = {
    # Ours
    "completed": COMPLETED,
    "pending": PENDING,
    "cancelled": CANCELLED,
    "canceled": CANCELLED,
    "refunded": REFUNDED,
    # Shopify's Financial Status
    "paid": COMPLETED,
    "partially refunded": COMPLETED,
    "authorized": PENDING,
    "partially paid": PENDING,
    "voided": CANCELLED,
    "expired": CANCELLED,
    # WooCommerce's order statuses
    "processing": COMPLETED,
    "pending payment": PENDING,
    "on hold": PENDING,
    "failed": PENDING,
    "draft": PENDING,
    "checkout draft": PENDING,
}
PARTLY_REFUNDED = "partially refunded"  # the one word whose refunded amount comes off the total


def status_word(text: str) -> str:
    """The cell as the table's keys are written."""
    word = " ".join(re.sub(r"[-_\s]+", " ", text.casefold()).split())
    return word.removeprefix("wc ")


def status_for(text: str) -> OrderStatus | None:
    """Our status for a shop's status word; completed for an empty one; None for a word not in the table."""
    word = status_word(text)
    return STATUS_WORDS.get(word) if word else COMPLETED


KNOWN_WORDS = ", ".join(sorted({word for word in STATUS_WORDS if word != "canceled"}))
