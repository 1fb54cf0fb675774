"""The SQL compiler and the Python explainer agree on every customer, whatever the rule.

Hypothesis builds a small shop (customers with orders, tags and group memberships, their moments
placed exactly on the day and calendar-month boundaries rules count by) and a rule over every
catalog field and operator, with values at the edges of what those customers have. The customers
`Customer.filter(to_q(rule))` returns must be exactly those `evaluate(rule)` passes.

pytest-asyncio (1.x) runs every Hypothesis example of an async test on the test's own event loop,
after the fixtures are set up once: one database (the `db` fixture) serves every example, and
each example empties it first.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from tortoise.transactions import in_transaction

from models.customer import Customer, CustomerStatus, CustomerTag, Order, OrderStatus, PaymentRating
from models.group import CustomerGroup, Membership
from services.rules.clock import days_before, months_before, whole_days, whole_months
from services.rules.compiler import to_q
from services.rules.explainer import evaluate, load_facts
from services.rules.fields import FIELDS, LIST_VALUE, NO_VALUE, RANGE_VALUE, Op, ValueType
from services.rules.model import MAX_AMOUNT, MAX_NUMBER, Condition, RuleGroup, parse_rule, walk

NOWS = (
    datetime(2024, 3, 31, 12, 0, tzinfo=UTC),  # a month end after a leap February
    datetime(2024, 2, 29, 0, 0, tzinfo=UTC),  # a leap day, at midnight
    datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2024, 7, 1, 8, 30, 15, 250_000, tzinfo=UTC),  # with microseconds
    datetime(2024, 5, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))),  # still April in UTC
    datetime(2024, 3, 31, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")),  # the day clocks went forward
)
MONTH_ENDS = ((2023, 2, 28), (2023, 12, 31), (2024, 1, 31), (2024, 2, 29), (2024, 4, 30), (2024, 6, 30), (2024, 12, 31))
NUDGES = (
    timedelta(0),
    timedelta(0),
    timedelta(microseconds=1),
    -timedelta(microseconds=1),
    timedelta(seconds=1),
    -timedelta(seconds=1),
    timedelta(microseconds=123_457),
)
# ASCII letters (which SQLite folds), other letters (which it does not: a-umlaut, sharp s, long s,
# dotless i, the Kelvin sign), LIKE's wildcards and its escape character.
TEXT = "aAbBkKsSzZ äÄßſı\u212aéÉ%_\\.-"
TAGS = ("vip", "b2b", "key-account", "net_30", "ünï")
GROUP_IDS = (1, 2)
WINDOWS = (1, 3, 12)  # "purchases in the last N months"
MONEY = (0, 1, 99, 100, 4_999_999, 5_000_000, 5_000_001)


@dataclass(frozen=True)
class ShopOrder:
    placed_at: datetime
    total_cents: int
    completed: bool


@dataclass(frozen=True)
class ShopCustomer:
    id: int
    name: str
    company: str
    email: str
    country: str
    status: CustomerStatus
    payment_rating: PaymentRating
    created_at: datetime
    orders: tuple[ShopOrder, ...]
    tags: frozenset[str]
    group_ids: frozenset[int]

    @property
    def completed(self) -> list[ShopOrder]:
        return [order for order in self.orders if order.completed]

    def stats(self) -> dict:
        """The purchase stats as services.orders keeps them."""
        done = self.completed
        lifetime = sum(order.total_cents for order in done)
        return {
            "lifetime_cents": lifetime,
            "order_count": len(done),
            "average_order_cents": lifetime // len(done) if done else None,
            "first_order_at": min((order.placed_at for order in done), default=None),
            "last_order_at": max((order.placed_at for order in done), default=None),
        }

    def spent_since(self, moment: datetime) -> int:
        return sum(order.total_cents for order in self.completed if order.placed_at >= moment)


@dataclass(frozen=True)
class Example:
    now: datetime
    customers: tuple[ShopCustomer, ...]
    rule: dict
    more: tuple[dict, ...]  # conditions of one field, each checked on its own


def moments(now: datetime) -> st.SearchStrategy[datetime]:
    """Moments around `now`: exactly N days or calendar months before it (give or take a
    microsecond or a second), month ends, and anywhere in the three years before."""
    nudge = st.sampled_from(NUDGES)
    month_end = st.builds(
        lambda day, at: datetime.combine(datetime(*day).date(), at, tzinfo=UTC),
        st.sampled_from(MONTH_ENDS),
        st.sampled_from((time(0), now.time(), time(23, 59, 59, 999_999))),
    )
    naive_now = now.replace(tzinfo=None)
    return st.one_of(
        st.builds(lambda n, d: days_before(now, n) + d, st.integers(0, 800), nudge),
        st.builds(lambda n, d: months_before(now, n) + d, st.sampled_from(WINDOWS) | st.integers(0, 26), nudge),
        st.builds(lambda n: months_before(now, n), st.sampled_from(WINDOWS)),  # where a window starts
        month_end,
        st.datetimes(naive_now - timedelta(days=3 * 366), naive_now, timezones=st.just(UTC)),
    )


@st.composite
def customers(draw, *, now: datetime, id: int) -> ShopCustomer:
    when = moments(now)
    orders = draw(
        st.lists(
            st.builds(
                ShopOrder,
                placed_at=when | st.builds(lambda n: months_before(now, n), st.sampled_from(WINDOWS)),
                total_cents=st.one_of(st.sampled_from(MONEY), st.integers(0, 10_000_000)),
                completed=st.booleans() | st.just(True),  # mostly completed
            ),
            max_size=4,
        )
    )
    local = draw(st.text(TEXT.replace(" ", ""), min_size=1, max_size=6))
    domain = draw(st.sampled_from(("shop.example", "ÄCME.de", "x_y%.com")))
    return ShopCustomer(
        id=id,
        name=draw(st.text(TEXT, min_size=1, max_size=8)),
        company=draw(st.one_of(st.just(""), st.text(TEXT, max_size=8))),
        email=f"{local}{id}@{domain}",  # unique
        country=draw(st.sampled_from(("", "US", "DE", "GB"))),
        status=draw(st.sampled_from(CustomerStatus)),
        payment_rating=draw(st.sampled_from(PaymentRating)),
        created_at=draw(when),
        orders=tuple(orders),
        tags=frozenset(draw(st.sets(st.sampled_from(TAGS), max_size=3))),
        group_ids=frozenset(draw(st.sets(st.sampled_from(GROUP_IDS)))),
    )


def known_numbers(field: str, months: int | None, now: datetime, shop: tuple[ShopCustomer, ...]) -> list[int]:
    """What the customers have in `field`: the values where a comparison flips."""
    values = []
    for customer in shop:
        stats = customer.stats()
        match field:
            case "total_purchases":
                values.append(stats["lifetime_cents"])
            case "purchases_recent":
                values.append(customer.spent_since(months_before(now, months)))
            case "order_count":
                values.append(stats["order_count"])
            case "average_order_value":
                values.append(stats["average_order_cents"])
            case "days_since_last_order":
                values.append(stats["last_order_at"] and whole_days(stats["last_order_at"], now))
            case "days_since_first_order":
                values.append(stats["first_order_at"] and whole_days(stats["first_order_at"], now))
            case "account_age_months":
                values.append(whole_months(customer.created_at, now))
    return [value for value in values if value is not None]


@st.composite
def numbers(draw, known: list[int], high: int) -> int:
    """Mostly 0 or a customer's own value, give or take one; now and then any value."""
    near = draw(st.sampled_from([0, *known])) + draw(st.sampled_from((-1, 0, 0, 1)))
    value = draw(st.one_of(st.just(near), st.just(near), st.just(near), st.integers(0, min(high, 10_000_000))))
    return min(max(value, 0), high)


@st.composite
def texts(draw, known: list[str], op: Op) -> str:
    """What the customers have, whole or cut as the operator reads it, in any letter case."""
    whole = draw(st.sampled_from(known)) if known else ""
    start = draw(st.integers(0, len(whole)))
    end = draw(st.integers(start, len(whole)))
    fitting = {Op.STARTS_WITH: whole[:end], Op.ENDS_WITH: whole[start:], Op.CONTAINS: whole[start:end]}.get(op, whole)
    piece = draw(st.sampled_from((fitting, fitting, whole[start:end])))
    piece = draw(st.sampled_from((str, str.upper, str.lower, str.swapcase)))(piece)
    if not piece.strip():
        piece = draw(st.text(TEXT, min_size=1, max_size=4).filter(str.strip))
    return piece


@st.composite
def values(draw, field_name: str, op: Op, months: int | None, now: datetime, shop: tuple[ShopCustomer, ...]):
    """One value of the field, as a rule would hold it."""
    field = FIELDS[field_name]
    match field.type:
        case ValueType.MONEY | ValueType.NUMBER | ValueType.DAYS | ValueType.MONTHS:
            high = {ValueType.NUMBER: MAX_NUMBER, ValueType.DAYS: 36_500, ValueType.MONTHS: 1_200}.get(
                field.type, MAX_AMOUNT
            )
            return draw(numbers(known_numbers(field_name, months, now, shop), high))
        case ValueType.TEXT:
            return draw(
                texts([getattr(customer, field_name) for customer in shop if getattr(customer, field_name)], op)
            )
        case ValueType.CHOICE:
            choices = {
                "country": ("US", "DE", "GB", "FR", "us"),
                "payment_rating": tuple(PaymentRating),
                "status": tuple(CustomerStatus),
            }[field_name]
            return str(draw(st.sampled_from(choices)))
        case ValueType.TAGS:
            return draw(st.sampled_from((*TAGS, "nobody", "VIP", "Key-Account")))
        case ValueType.GROUPS:
            return draw(st.sampled_from((*GROUP_IDS, 3)))
    raise AssertionError(field.type)


@st.composite
def conditions(draw, now: datetime, shop: tuple[ShopCustomer, ...], field_name: str | None = None) -> dict:
    field = FIELDS[field_name or draw(st.sampled_from(sorted(FIELDS)))]
    op = draw(st.sampled_from(field.ops))
    condition: dict = {"field": field.name, "op": op.value}
    months = draw(st.sampled_from(WINDOWS)) if field.has_months else None
    if months:
        condition["months"] = months
    one = values(field.name, op, months, now, shop)
    if op in RANGE_VALUE:
        condition["value"] = sorted([draw(one), draw(one)])
    elif op in LIST_VALUE:
        condition["value"] = draw(st.lists(one, min_size=1, max_size=3))
    elif op not in NO_VALUE:
        condition["value"] = draw(one)
    return condition


@st.composite
def groups(draw, now: datetime, shop: tuple[ShopCustomer, ...], depth: int = 0) -> dict:
    items = []
    for _ in range(draw(st.integers(1, 6 if depth == 0 else 3))):
        if depth < 3 and draw(st.integers(0, 3)) == 0:
            items.append(draw(groups(now, shop, depth + 1)))
        else:
            items.append(draw(conditions(now, shop)))
    return {"match": draw(st.sampled_from(("all", "any"))), "conditions": items}


@st.composite
def examples(draw, field_name: str) -> Example:
    now = draw(st.sampled_from(NOWS))
    size = draw(st.integers(2, 8))
    shop = tuple(draw(customers(now=now, id=index)) for index in range(1, size + 1))
    more = draw(st.lists(conditions(now, shop, field_name), min_size=4, max_size=8))
    return Example(now=now, customers=shop, rule=draw(groups(now, shop)), more=tuple(more))


@pytest.fixture
async def shop_groups(db) -> None:
    """The groups "Member of Group" conditions read; customers join them per example."""
    for group_id in GROUP_IDS:
        await CustomerGroup.create(
            id=group_id, name=f"Group {group_id}", name_key=f"group {group_id}", code=f"G{group_id}"
        )


async def _store(shop: tuple[ShopCustomer, ...]) -> None:
    async with in_transaction("default"):  # one commit per example
        await Customer.all().delete()  # orders, tags and memberships go with them
        await _insert(shop)


async def _insert(shop: tuple[ShopCustomer, ...]) -> None:
    await Customer.bulk_create(
        [
            Customer(
                id=c.id,
                name=c.name,
                company=c.company,
                email=c.email,
                country=c.country,
                status=c.status,
                payment_rating=c.payment_rating,
                created_at=c.created_at,
                **c.stats(),
            )
            for c in shop
        ]
    )
    await Order.bulk_create(
        [
            Order(
                customer_id=c.id,
                placed_at=o.placed_at,
                total_cents=o.total_cents,
                status=OrderStatus.COMPLETED if o.completed else OrderStatus.CANCELLED,
            )
            for c in shop
            for o in c.orders
        ]
    )
    await CustomerTag.bulk_create([CustomerTag(customer_id=c.id, tag=tag) for c in shop for tag in c.tags])
    await Membership.bulk_create(
        [
            Membership(customer_id=c.id, group_id=g, since=datetime(2020, 1, 1, tzinfo=UTC))
            for c in shop
            for g in c.group_ids
        ]
    )


async def _agree(rule: RuleGroup, facts: dict, now: datetime, what: str) -> None:
    query = Customer.filter(to_q(rule, now=now))
    in_sql = set(await query.values_list("id", flat=True))
    in_python = {customer_id for customer_id, fact in facts.items() if evaluate(rule, fact, now=now).passed}
    if in_sql != in_python:
        for customer_id in sorted(in_sql ^ in_python):
            note(f"customer {customer_id}: {facts[customer_id]}")
            note(f"explained: {evaluate(rule, facts[customer_id], now=now)}")
        note(f"SQL: {query.sql()}")
    assert in_sql == in_python, f"{what}: SQL matched {sorted(in_sql)}, the explainer {sorted(in_python)}"

    # The same rule over a group's memberships (how previews diff against today's members).
    members = Membership.filter(group_id=GROUP_IDS[0]).filter(to_q(rule, now=now, prefix="customer__"))
    in_group = {customer_id for customer_id, fact in facts.items() if GROUP_IDS[0] in fact.group_ids}
    assert set(await members.values_list("customer_id", flat=True)) == in_python & in_group, f"{what}, on members"


@settings(
    max_examples=15,  # for each field
    deadline=None,
    database=None,
    # The database fixture is set up once for all examples on purpose: each example empties it.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
@pytest.mark.parametrize("field", sorted(FIELDS))
async def test_the_compiler_and_the_explainer_agree(shop_groups, field: str, data: st.DataObject):
    # Hypothesis alone visits some fields and operators far more often than others; a run per
    # field, with a rule over every field, gives each operator its share.
    example = data.draw(examples(field), label="example")
    now = example.now
    rule = parse_rule(example.rule)
    every_condition = [item for _, item in walk(rule) if isinstance(item, Condition)]
    every_condition += [parse_rule({"conditions": [raw]}).conditions[0] for raw in example.more]
    await _store(example.customers)
    facts = await load_facts(
        customer_ids=[c.id for c in example.customers], rule=RuleGroup(conditions=every_condition), now=now
    )

    windows = {condition.months for condition in every_condition if condition.months}
    for customer in example.customers:
        for months in windows:
            spent = facts[customer.id].recent_cents.get(months, 0)
            assert spent == customer.spent_since(months_before(now, months)), f"customer {customer.id}, {months} months"
    # Condition by condition first, so a disagreement names the condition; then the whole rule.
    for condition in every_condition:
        await _agree(
            RuleGroup(conditions=[condition]), facts, now, f"the condition {condition.model_dump(exclude_none=True)}"
        )
    await _agree(rule, facts, now, "the whole rule")
