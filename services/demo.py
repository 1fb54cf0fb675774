"""The demo shop: groups, customers and two years of orders shaped like seed 003.

Every customer is drawn into one segment (VIP, Gold, Silver, Wholesale, Retail, New, or none)
and then given orders that make its stats fit that segment, so the groups' rules and their
members agree. The same seed number and day give the same shop.
"""

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.customer import Customer, CustomerStatus, CustomerTag, Order, OrderStatus, PaymentRating
from models.group import (
    CustomerGroup,
    GroupType,
    Membership,
    MembershipAction,
    MembershipEvent,
    MembershipSource,
    RuleVersion,
)
from models.shop import Shop
from services.groups import name_key

# Orders arrive in customer order, so each commit touches pages all over the placed_at index;
# fewer, larger commits rewrite far fewer pages (5,000 rows per commit took twice as long).
BATCH = 50_000
DAY = timedelta(days=1)
CUSTOMER_COLUMNS = (
    "name",
    "company",
    "email",
    "country",
    "status",
    "payment_rating",
    "metadata",
    "created_at",
    "lifetime_cents",
    "order_count",
    "average_order_cents",
    "first_order_at",
    "last_order_at",
)
ORDER_COLUMNS = ("customer_id", "placed_at", "total_cents", "status")
MEMBERSHIP_COLUMNS = ("customer_id", "group_id", "source", "is_primary", "since")
TAG_COLUMNS = ("customer_id", "tag")
EVENT_COLUMNS = ("customer_id", "group_id", "group_name", "action", "source", "reason", "actor", "at")


@dataclass(frozen=True)
class GroupSpec:
    key: str
    name: str
    code: str
    description: str
    type: GroupType
    share: float  # of all customers
    rule: dict | None = None
    is_default: bool = False
    parent: str | None = None


def _money(dollars: int) -> int:
    return dollars * 100


GROUPS = [
    GroupSpec(
        "vip",
        "VIP Customers",
        "VIP",
        "Our best customers: high lifetime spend, a long relationship and excellent payment history.",
        GroupType.HYBRID,
        45 / 1200,
        rule={
            "match": "all",
            "conditions": [
                {"field": "total_purchases", "op": "gt", "value": _money(50_000)},
                {"field": "account_age_months", "op": "gt", "value": 12},
                {"field": "payment_rating", "op": "eq", "value": "excellent"},
            ],
        },
    ),
    GroupSpec(
        "gold",
        "Gold Tier",
        "GOLD",
        "Customers with $20,000 to $50,000 in lifetime purchases.",
        GroupType.AUTOMATIC,
        89 / 1200,
        rule={
            "match": "all",
            "conditions": [
                {"field": "total_purchases", "op": "gte", "value": _money(20_000)},
                {"field": "total_purchases", "op": "lte", "value": _money(50_000)},
            ],
        },
    ),
    GroupSpec(
        "silver",
        "Silver Tier",
        "SILVER",
        "Customers with $8,000 to $20,000 in lifetime purchases.",
        GroupType.AUTOMATIC,
        156 / 1200,
        rule={
            "match": "all",
            "conditions": [
                {"field": "total_purchases", "op": "gte", "value": _money(8_000)},
                {"field": "total_purchases", "op": "lt", "value": _money(20_000)},
            ],
        },
    ),
    GroupSpec(
        "wholesale",
        "Wholesale",
        "WHOLESALE",
        "Resellers and distributors buying at wholesale terms.",
        GroupType.MANUAL,
        234 / 1200,
    ),
    GroupSpec(
        "retail",
        "Retail",
        "RETAIL",
        "Everyone else: the default group for new and moved customers.",
        GroupType.MANUAL,
        567 / 1200,
        is_default=True,
    ),
    GroupSpec(
        "new",
        "New Customers",
        "NEW",
        "Customers whose account is less than three months old.",
        GroupType.AUTOMATIC,
        78 / 1200,
        rule={"match": "all", "conditions": [{"field": "account_age_months", "op": "lt", "value": 3}]},
        parent="retail",
    ),
]

# The customers seed 003 names, with the segment and lifetime purchases it shows for them.
NAMED_CUSTOMERS = [
    ("Acme Corporation", "vip", 245_678, "US"),
    ("TechStart Inc", "vip", 189_456, "US"),
    ("Global Supplies", "vip-manual", 156_789, "GB"),
    ("Enterprise Ltd", "vip", 134_567, "GB"),
    ("DataFlow Corp", "gold", 48_456, "US"),
    ("InnoSystems", "silver", 18_234, "DE"),
    ("SmartTech LLC", "retail", 4_567, "US"),
    ("BuildRight Inc", "new", 3_456, "CA"),
]

SPEND_DOLLARS = {  # lifetime purchases range per segment
    "vip": (55_000, 260_000),
    "gold": (20_000, 49_000),
    "silver": (8_000, 19_500),
    "wholesale": (1_500, 7_900),
    "retail": (50, 7_500),
    "new": (40, 3_000),
    "none": (0, 400),
}
ORDER_WEIGHT = {  # relative order frequency per segment
    "vip": 5.0,
    "vip-manual": 4.0,
    "gold": 3.0,
    "silver": 2.0,
    "wholesale": 2.5,
    "retail": 0.8,
    "new": 0.5,
    "none": 0.2,
}
COUNTRIES = ["US"] * 8 + ["CA", "CA", "GB", "GB", "DE", "DE", "FR", "NL", "AU", "SE", "ES", "IT"]
FIRST = "Ada Ben Cleo Dev Eli Fay Gus Hana Ivan Jo Kai Lea Max Nia Omar Pia Quinn Rosa Sam Tara Uma Vik Wes Yara Zoe"
LAST = "Adams Brooks Chen Diaz Evans Fischer Garcia Hughes Ito Jensen Khan Lopez Meyer Novak Okafor Patel Quinn Rossi"
BRAND_A = "Apex Blue Bright Cedar Delta Echo Fusion Granite Harbor Iron Juniper Keystone Lumen Maple Nova Orbit Pine"
BRAND_B = "Analytics Builders Cloud Dynamics Foods Goods Industries Labs Logistics Media Partners Retail Solutions"
SUFFIX = ["Inc", "LLC", "Ltd", "Corp", "GmbH", "Co", "Group", ""]
TAGS = ["newsletter", "b2b", "trade-show", "key-account", "eco", "referral"]


def _segments(count: int, rng: random.Random) -> list[str]:
    """Exact segment sizes from the seed's shares, in random order."""
    segments: list[str] = []
    for spec in GROUPS:
        segments += [spec.key] * round(count * spec.share)
    segments = segments[:count]
    segments += ["none"] * (count - len(segments))
    rng.shuffle(segments)
    return segments


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`parts` positive-ish integers that add up to exactly `total`."""
    weights = [rng.lognormvariate(0, 0.6) for _ in range(parts)]
    scale = total / sum(weights)
    amounts = [int(w * scale) for w in weights]
    amounts[0] += total - sum(amounts)
    return amounts


async def _insert(model: type[Model], columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (values in `columns` order), BATCH rows per transaction.

    bulk_create builds a model instance per row, which at a million orders costs several times
    the INSERT itself. This keeps what matters from it: every value goes through its field's
    to_db_value, and the statement is the ORM's parameterised INSERT for the connection's dialect.
    """
    meta = model._meta
    fields = [meta.fields_map[name] for name in columns]
    db = meta.db
    parameter = db.executor_class(model=model, db=db).parameter
    sql = (
        db.query_class.into(meta.basetable)
        .columns(*(meta.fields_db_projection[name] for name in columns))
        .insert(*(parameter(i) for i in range(len(columns))))
        .get_sql()
    )
    for start in range(0, len(rows), BATCH):
        values = [
            [field.to_db_value(value, model) for field, value in zip(fields, row, strict=True)]
            for row in rows[start : start + BATCH]
        ]
        async with in_transaction("default") as connection:
            await connection.execute_many(sql, values)


async def seed_demo_shop(
    *,
    customers: int = 1200,
    orders: int | None = None,
    seed: int = 2024,
    today: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Fill an empty database with the demo shop. `orders` defaults to about 12 per customer."""
    rng = random.Random(seed)
    now = (today or datetime.now(UTC)).replace(hour=12, minute=0, second=0, microsecond=0)
    orders = customers * 12 if orders is None else orders
    say = progress or (lambda _message: None)
    started = time.perf_counter()

    await Shop.create(name="Northwind Supply Co.", currency="USD")
    groups: dict[str, CustomerGroup] = {}
    for spec in GROUPS:
        groups[spec.key] = await CustomerGroup.create(
            name=spec.name,
            name_key=name_key(spec.name),
            code=spec.code,
            description=spec.description,
            type=spec.type,
            rule=spec.rule,
            rule_version=1 if spec.rule else 0,
            rule_applied_version=1 if spec.rule else 0,
            is_default=spec.is_default,
            parent=groups.get(spec.parent) if spec.parent else None,
            created_at=now - 730 * DAY,
        )
        if spec.rule:
            await RuleVersion.create(
                group=groups[spec.key], number=1, rule=spec.rule, author="system", at=now - 730 * DAY, note="Demo shop"
            )

    segments = _segments(customers, rng)
    names = NAMED_CUSTOMERS[:customers]
    for i, (_, segment, _, _) in enumerate(names):
        # Swap a customer of the named one's segment to the front, so segment sizes stay exact.
        base = "vip" if segment == "vip-manual" else segment
        j = next((j for j in range(i, customers) if segments[j] == base), i)
        segments[i], segments[j] = segment, segments[i]

    # Orders per customer: proportional to the segment's frequency, at least one for buyers.
    weights = [ORDER_WEIGHT[s] * rng.uniform(0.5, 1.5) for s in segments]
    scale = orders / sum(weights) if weights else 0
    order_counts = [max(1 if s != "none" else 0, round(w * scale)) for s, w in zip(segments, weights, strict=True)]

    first, last = FIRST.split(), LAST.split()
    brand_a, brand_b = BRAND_A.split(), BRAND_B.split()
    customer_rows: list[tuple] = []
    customer_tags: list[list[str]] = []
    created_at: list[datetime] = []
    order_rows: list[tuple[int, datetime, int]] = []  # (customer's position, placed at, total)
    for i, segment in enumerate(segments):
        if i < len(names):
            name, _, dollars, country = names[i]
            lifetime = dollars * 100
            company = name
        else:
            country = rng.choice(COUNTRIES)
            low, high = SPEND_DOLLARS[segment]
            lifetime = int(rng.uniform(low, high) * 100) if high else 0
            if segment in ("wholesale", "vip", "gold") or rng.random() < 0.55:
                company = f"{rng.choice(brand_a)} {rng.choice(brand_b)} {rng.choice(SUFFIX)}".strip()
                name = company
            else:
                company = ""
                name = f"{rng.choice(first)} {rng.choice(last)}"
        if segment == "new":
            created = now - rng.randint(3, 85) * DAY
        elif segment in ("vip", "vip-manual"):
            created = now - rng.randint(400, 1400) * DAY
        else:
            created = now - rng.randint(100, 1400) * DAY
        rating = (
            PaymentRating.EXCELLENT
            if segment == "vip"
            else rng.choice([PaymentRating.GOOD, PaymentRating.GOOD, PaymentRating.FAIR, PaymentRating.POOR])
        )
        status = CustomerStatus.ACTIVE
        if segment == "none":
            status = rng.choice([CustomerStatus.INACTIVE, CustomerStatus.BLOCKED])
            lifetime = 0
            order_counts[i] = 0
        tags = rng.sample(TAGS, rng.randint(0, 2))
        if segment == "wholesale":
            tags.append("wholesale")

        count = order_counts[i] if lifetime else 0
        window_start = max(created, now - 730 * DAY)
        span = max(int((now - window_start).total_seconds()), 1)
        placed = [window_start + timedelta(seconds=s) for s in sorted(rng.randrange(span) for _ in range(count))]
        for at, amount in zip(placed, _split(lifetime, count, rng) if count else [], strict=True):
            order_rows.append((i, at, amount))
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24] or "customer"
        customer_rows.append(
            (
                name,
                company,
                f"{slug}.{i + 1}@example.com",
                country,
                status,
                rating,
                {},
                created,
                lifetime if count else 0,
                count,
                lifetime // count if count else None,
                placed[0] if count else None,
                placed[-1] if count else None,
            )
        )
        created_at.append(created)
        customer_tags.append(tags)

    await _insert(Customer, CUSTOMER_COLUMNS, customer_rows)
    # The database numbers the customers (explicit ids would leave PostgreSQL's id sequence
    # behind); it numbers them in the order they were inserted.
    customer_ids = await Customer.all().order_by("id").values_list("id", flat=True)
    await _insert(
        CustomerTag,
        TAG_COLUMNS,
        [(customer_ids[i], tag) for i, tags in enumerate(customer_tags) for tag in tags],
    )
    say(f"{len(customer_rows):,} customers in {time.perf_counter() - started:.1f} s")

    completed = [(customer_ids[i], at, amount, OrderStatus.COMPLETED) for i, at, amount in order_rows]
    # Some orders were cancelled; they do not count towards the stats.
    cancelled = [
        (rng.choice(customer_ids), now - rng.randint(1, 700) * DAY, rng.randint(2_000, 90_000), OrderStatus.CANCELLED)
        for _ in range(len(order_rows) // 50)
    ]
    await _insert(Order, ORDER_COLUMNS, completed + cancelled)
    say(f"{len(completed) + len(cancelled):,} orders in {time.perf_counter() - started:.1f} s")

    memberships: list[tuple] = []
    events: list[tuple] = []
    for customer_id, created, segment in zip(customer_ids, created_at, segments, strict=True):
        if segment == "none":
            continue
        key = "vip" if segment == "vip-manual" else segment
        group = groups[key]
        source = (
            MembershipSource.MANUAL
            if group.type == GroupType.MANUAL or segment == "vip-manual"
            else (
                MembershipSource.BOTH
                if group.type == GroupType.HYBRID and rng.random() < 0.2
                else MembershipSource.RULE
            )
        )
        since = max(created, now - rng.randint(30, 700) * DAY)
        memberships.append((customer_id, group.id, source, True, since))
        events.append(
            (customer_id, group.id, group.name, MembershipAction.JOINED, source, "Demo shop", "system", since)
        )
    await _insert(Membership, MEMBERSHIP_COLUMNS, memberships)
    await _insert(MembershipEvent, EVENT_COLUMNS, events)
    say(f"{len(memberships):,} memberships in {time.perf_counter() - started:.1f} s")


async def is_empty() -> bool:
    return not (await Shop.exists() or await CustomerGroup.exists() or await Customer.exists())


async def seed_if_empty(*, customers: int, seed: int) -> bool:
    """Seed the demo shop on first start. True when it did."""
    if not await is_empty():
        return False
    await seed_demo_shop(customers=customers, seed=seed)
    return True
