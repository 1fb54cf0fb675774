"""A rule evaluated in Python for single customers: each condition with the customer's actual
value and whether it passed. It must agree with the SQL compiler on every customer; a property
test (tests/unit/test_rule_agreement.py) holds the two together.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.functions import Sum

from models.customer import Customer, CustomerTag, Order, OrderStatus
from models.group import Membership
from services.rules.clock import months_before, whole_days, whole_months
from services.rules.fields import Op, ValueType
from services.rules.model import Condition, RuleGroup, walk

# SQLite's UPPER() and LIKE fold only A-Z, and so do PostgreSQL's here (services.storage.postgres_folding);
# folding the same way keeps both sides in step.
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _fold(text: str) -> str:
    return text.translate(_ASCII_UPPER)


@dataclass(frozen=True)
class CustomerFacts:
    """What rules read about one customer."""

    customer_id: int
    name: str
    email: str
    company: str
    country: str
    status: str
    payment_rating: str
    created_at: datetime
    lifetime_cents: int
    order_count: int
    average_order_cents: int | None
    first_order_at: datetime | None
    last_order_at: datetime | None
    tags: frozenset[str] = frozenset()
    group_ids: frozenset[int] = frozenset()
    recent_cents: dict[int, int] = field(default_factory=dict)  # months -> completed purchases


@dataclass(frozen=True)
class ConditionCheck:
    path: str
    condition: Condition
    actual: Any  # what the customer has, in the rule's units (cents, days, months, a set ...)
    passed: bool


@dataclass(frozen=True)
class GroupCheck:
    path: str
    match: str
    passed: bool
    items: list["ConditionCheck | GroupCheck"]


def number_passes(actual: int | None, op: Op, value: Any) -> bool:
    if op == Op.IS_EMPTY:
        return actual is None
    if op == Op.IS_NOT_EMPTY:
        return actual is not None
    if actual is None:
        return op in (Op.NE, Op.NOT_IN)
    match op:
        case Op.EQ:
            return actual == value
        case Op.NE:
            return actual != value
        case Op.GT:
            return actual > value
        case Op.GTE:
            return actual >= value
        case Op.LT:
            return actual < value
        case Op.LTE:
            return actual <= value
        case Op.BETWEEN:
            return value[0] <= actual <= value[1]
    raise ValueError(f"{op} does not compare numbers")


def _text_passes(actual: str | None, op: Op, value: Any) -> bool:
    text = _fold(actual or "")
    match op:
        case Op.IS_EMPTY:
            return not text
        case Op.IS_NOT_EMPTY:
            return bool(text)
        case Op.EQ:
            return text == _fold(value)
        case Op.NE:
            return text != _fold(value)
        case Op.CONTAINS:
            return _fold(value) in text
        case Op.STARTS_WITH:
            return text.startswith(_fold(value))
        case Op.ENDS_WITH:
            return text.endswith(_fold(value))
    raise ValueError(f"{op} does not compare text")


def _choice_passes(actual: str | None, op: Op, value: Any) -> bool:
    match op:
        case Op.IS_EMPTY:
            return not actual
        case Op.IS_NOT_EMPTY:
            return bool(actual)
        case Op.EQ:
            return actual == value
        case Op.NE:
            return actual != value
        case Op.IN:
            return actual in value
        case Op.NOT_IN:
            return actual not in value
    raise ValueError(f"{op} does not compare choices")


def _set_passes(actual: frozenset, op: Op, value: Any) -> bool:
    match op:
        case Op.HAS_ANY | Op.IN:
            return bool(actual & set(value))
        case Op.HAS_NONE | Op.NOT_IN:
            return not actual & set(value)
        case Op.HAS_ALL:
            return set(value) <= actual
        case Op.IS_EMPTY:
            return not actual
        case Op.IS_NOT_EMPTY:
            return bool(actual)
    raise ValueError(f"{op} does not compare sets")


def actual_value(condition: Condition, facts: CustomerFacts, *, now: datetime) -> Any:
    """The customer's value of the condition's field, in the rule's units."""
    match condition.field:
        case "total_purchases":
            return facts.lifetime_cents
        case "purchases_recent":
            return facts.recent_cents.get(condition.months, 0)
        case "order_count":
            return facts.order_count
        case "average_order_value":
            return facts.average_order_cents
        case "days_since_last_order":
            return whole_days(facts.last_order_at, now) if facts.last_order_at else None
        case "days_since_first_order":
            return whole_days(facts.first_order_at, now) if facts.first_order_at else None
        case "account_age_months":
            return whole_months(facts.created_at, now)
        case "tags":
            return facts.tags
        case "member_of":
            return facts.group_ids
    return getattr(facts, condition.field)


def condition_passes(condition: Condition, actual: Any) -> bool:
    match condition.spec.type:
        case ValueType.TAGS | ValueType.GROUPS:
            return _set_passes(actual, condition.operator, condition.value)
        case ValueType.TEXT:
            return _text_passes(actual, condition.operator, condition.value)
        case ValueType.CHOICE:
            return _choice_passes(actual, condition.operator, condition.value)
    return number_passes(actual, condition.operator, condition.value)


def evaluate(rule: RuleGroup, facts: CustomerFacts, *, now: datetime, path: str = "") -> GroupCheck:
    items: list[ConditionCheck | GroupCheck] = []
    for index, item in enumerate(rule.conditions):
        child = f"{path}.{index}" if path else str(index)
        if isinstance(item, RuleGroup):
            items.append(evaluate(item, facts, now=now, path=child))
        else:
            actual = actual_value(item, facts, now=now)
            items.append(ConditionCheck(child, item, actual, condition_passes(item, actual)))
    results = [item.passed for item in items]
    passed = any(results) if rule.match == "any" else bool(results) and all(results)
    return GroupCheck(path, rule.match, passed, items)


def _windows(rule: RuleGroup) -> set[int]:
    return {item.months for _, item in walk(rule) if isinstance(item, Condition) and item.field == "purchases_recent"}


async def load_facts(*, customer_ids: list[int], rule: RuleGroup | None, now: datetime) -> dict[int, CustomerFacts]:
    """What `rule` reads about each customer, in a handful of queries whatever their number."""
    rows = await Customer.filter(id__in=customer_ids).values(
        "id",
        "name",
        "email",
        "company",
        "country",
        "status",
        "payment_rating",
        "created_at",
        "lifetime_cents",
        "order_count",
        "average_order_cents",
        "first_order_at",
        "last_order_at",
    )
    tags: dict[int, set[str]] = defaultdict(set)
    for customer_id, tag in await CustomerTag.filter(customer_id__in=customer_ids).values_list("customer_id", "tag"):
        tags[customer_id].add(tag)
    groups: dict[int, set[int]] = defaultdict(set)
    for customer_id, group_id in await Membership.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "group_id"
    ):
        groups[customer_id].add(group_id)
    recent: dict[int, dict[int, int]] = defaultdict(dict)
    for months in _windows(rule) if rule else ():
        totals = (
            await Order.filter(
                customer_id__in=customer_ids,
                status=OrderStatus.COMPLETED,
                placed_at__gte=months_before(now, months),
            )
            .annotate(total=Sum("total_cents"))
            .group_by("customer_id")
            .values_list("customer_id", "total")
        )
        for customer_id, total in totals:
            recent[customer_id][months] = int(total or 0)
    facts = {}
    for row in rows:
        customer_id = row.pop("id")
        facts[customer_id] = CustomerFacts(
            customer_id=customer_id,
            **row,
            tags=frozenset(tags[customer_id]),
            group_ids=frozenset(groups[customer_id]),
            recent_cents=recent[customer_id],
        )
    return facts


def now_for_rules() -> datetime:
    """The moment rules are evaluated at: whole seconds, so a stored value and a bound compare alike."""
    return datetime.now(UTC).replace(microsecond=0)


async def explain(*, rule: RuleGroup, customer_id: int, now: datetime | None = None) -> GroupCheck | None:
    """Why the customer does or does not match `rule`; None if there is no such customer."""
    now = now or now_for_rules()
    facts = await load_facts(customer_ids=[customer_id], rule=rule, now=now)
    return evaluate(rule, facts[customer_id], now=now) if customer_id in facts else None
