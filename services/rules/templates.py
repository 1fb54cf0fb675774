"""Rules to start from in the builder. Amounts are in cents, like every stored rule."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleTemplate:
    key: str
    name: str
    description: str
    rule: dict


TEMPLATES = [
    RuleTemplate(
        "big-spenders",
        "Big spenders",
        "Over $10,000 in lifetime purchases.",
        {"match": "all", "conditions": [{"field": "total_purchases", "op": "gt", "value": 1_000_000}]},
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
