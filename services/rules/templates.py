"""Rules to start from in the builder. Amounts are in cents, like every stored rule."""

from dataclasses import dataclass

from services.wording import money

BIG_SPENDING = 1_000_000  # cents: 10,000 in the shop's currency


@dataclass(frozen=True)
class RuleTemplate:
    key: str
    name: str
    description: str  # "{amount}" stands for `amount_cents`, worded in the shop's currency
    rule: dict
    amount_cents: int | None = None

    def description_in(self, *, currency: str) -> str:
        if self.amount_cents is None:
            return self.description
        return self.description.format(amount=money(self.amount_cents, currency=currency))


TEMPLATES = [
    RuleTemplate(
        "big-spenders",
        "Big spenders",
        "Over {amount} in lifetime purchases.",
        {"match": "all", "conditions": [{"field": "total_purchases", "op": "gt", "value": BIG_SPENDING}]},
        amount_cents=BIG_SPENDING,
    ),
    RuleTemplate(
        "lapsed",
        "Lapsed: no order in 12 months",
        "Customers who have ordered before, but not in the last year.",
        {"match": "all", "conditions": [{"field": "days_since_last_order", "op": "gt", "value": 365}]},
    ),
    RuleTemplate(
        "new-customers",
        "New customers: first order in the last 90 days",
        "Customers whose first order is at most 90 days old.",
        {"match": "all", "conditions": [{"field": "days_since_first_order", "op": "lte", "value": 90}]},
    ),
    RuleTemplate(
        "frequent-buyers",
        "Frequent buyers",
        "At least 12 orders, the last one within 90 days.",
        {
            "match": "all",
            "conditions": [
                {"field": "order_count", "op": "gte", "value": 12},
                {"field": "days_since_last_order", "op": "lte", "value": 90},
            ],
        },
    ),
    RuleTemplate(
        "wholesale-by-tag",
        "Wholesale by tag",
        'Customers tagged "wholesale" or "b2b".',
        {"match": "all", "conditions": [{"field": "tags", "op": "has_any", "value": ["wholesale", "b2b"]}]},
    ),
]
