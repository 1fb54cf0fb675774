"""The demo shop's customers, their orders and memberships, and its catalog, drawn from data.py's
parameters by seeded random generators. Pure: no database, and the same seed and day always draw
the same shop.

Every customer is drawn into one segment (VIP, Gold, Silver, Wholesale, Retail, New, or none) and
then given orders that make its stats fit that segment, so the groups' rules and their members
agree. Customers are referred to by their position in `DrawnShop.customers` (the database numbers
them in that order) and groups by their keys.

The draws happen in one fixed order from one generator (segments, order frequencies, customers,
cancelled orders, memberships): changing that order changes every demo shop.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models.customer import CustomerStatus, OrderStatus, PaymentRating
from models.group import GroupType, MembershipAction, MembershipSource
from services.demo.data import (
    ACCOUNT_AGE_DAYS,
    BOTH_SHARE,
    BRAND_A,
    BRAND_B,
    BRONZE_DOLLARS,
    CANCELLED_CENTS,
    CANCELLED_DAYS,
    CANCELLED_SHARE,
    CATALOG,
    CATALOG_SIZE,
    COMPANY_SEGMENTS,
    COMPANY_SHARE,
    COUNTRIES,
    FIRST,
    GROUPS,
    HISTORY,
    JOIN_REASON,
    LAST,
    MAX_TAGS,
    MEMBER_SINCE_DAYS,
    NAMED_CUSTOMERS,
    NO_SEGMENT_STATUSES,
    ORDER_SPREAD,
    ORDER_WEIGHT,
    ORDERS_PER_CUSTOMER,
    OTHER_ACCOUNT_AGE_DAYS,
    OTHER_RATINGS,
    PLATINUM_AFTER,
    PLATINUM_MEMBERS,
    PLATINUM_REASON,
    PLATINUM_WINDOW,
    SPEND_DOLLARS,
    SUFFIX,
    TAGS,
    VISIBILITY_SIZES,
    WHOLESALE_TAG,
    DemoProduct,
)

VIP_SEGMENTS = ("vip", "vip-manual")  # "vip-manual": a VIP member by hand (Global Supplies)


@dataclass(frozen=True)
class DrawnCustomer:
    segment: str
    name: str
    company: str
    email: str
    country: str
    status: CustomerStatus
    payment_rating: PaymentRating
    created_at: datetime
    tags: list[str]
    lifetime_cents: int
    order_count: int
    average_order_cents: int | None
    first_order_at: datetime | None
    last_order_at: datetime | None


@dataclass(frozen=True)
class DrawnOrder:
    customer: int  # position in DrawnShop.customers
    placed_at: datetime
    total_cents: int
    status: OrderStatus


@dataclass(frozen=True)
class DrawnMembership:
    customer: int
    group: str  # a GroupSpec's key
    source: MembershipSource
    is_primary: bool
    since: datetime


@dataclass(frozen=True)
class DrawnEvent:
    customer: int
    group: str
    action: MembershipAction
    source: MembershipSource
    reason: str
    at: datetime


@dataclass
class DrawnShop:
    customers: list[DrawnCustomer] = field(default_factory=list)
    orders: list[DrawnOrder] = field(default_factory=list)  # completed, then cancelled
    memberships: list[DrawnMembership] = field(default_factory=list)
    events: list[DrawnEvent] = field(default_factory=list)


def draw_shop(*, customers: int, orders: int | None, seed: int, now: datetime) -> DrawnShop:
    """`customers` customers with about `orders` orders (ORDERS_PER_CUSTOMER each by default) over
    the two years before `now`, and the groups' members."""
    rng = random.Random(seed)
    orders = customers * ORDERS_PER_CUSTOMER if orders is None else orders
    segments = _segments(customers, rng)
    order_counts = _order_counts(segments, orders, rng)
    shop = DrawnShop()
    for position, segment in enumerate(segments):
        customer, placed = _customer(position, segment, order_counts[position], now, rng)
        shop.customers.append(customer)
        shop.orders += placed
    # Some orders were cancelled; they do not count towards the stats.
    shop.orders += [_cancelled(customers, now, rng) for _ in range(len(shop.orders) // CANCELLED_SHARE)]
    platinum = _platinum(shop.customers)
    for position, customer in enumerate(shop.customers):
        if customer.segment != "none":
            _join(shop, position, customer, position in platinum, now, rng)
    _bronze(shop)
    return shop


def _segments(count: int, rng: random.Random) -> list[str]:
    """Exact segment sizes from the groups' shares, in random order; the named customers first."""
    segments: list[str] = []
    for spec in GROUPS:
        segments += [spec.key] * round(count * spec.share)
    segments = segments[:count]
    segments += ["none"] * (count - len(segments))
    rng.shuffle(segments)
    for i, (_, segment, _, _) in enumerate(NAMED_CUSTOMERS[:count]):
        # Swap a customer of the named one's segment to the front, so segment sizes stay exact.
        base = "vip" if segment == "vip-manual" else segment
        j = next((j for j in range(i, count) if segments[j] == base), i)
        segments[i], segments[j] = segment, segments[i]
    return segments


def _order_counts(segments: list[str], orders: int, rng: random.Random) -> list[int]:
    """Orders per customer: proportional to the segment's frequency, at least one for buyers."""
    weights = [ORDER_WEIGHT[s] * rng.uniform(*ORDER_SPREAD) for s in segments]
    scale = orders / sum(weights) if weights else 0
    return [max(1 if s != "none" else 0, round(w * scale)) for s, w in zip(segments, weights, strict=True)]


def _identity(position: int, segment: str, rng: random.Random) -> tuple[str, str, str, int]:
    """Name, company, country and lifetime purchases in cents: a named customer's, or drawn."""
    if position < len(NAMED_CUSTOMERS):
        name, _, dollars, country = NAMED_CUSTOMERS[position]
        return name, name, country, dollars * 100
    country = rng.choice(COUNTRIES)
    low, high = SPEND_DOLLARS[segment]
    lifetime = int(rng.uniform(low, high) * 100) if high else 0
    if segment in COMPANY_SEGMENTS or rng.random() < COMPANY_SHARE:
        company = f"{rng.choice(BRAND_A.split())} {rng.choice(BRAND_B.split())} {rng.choice(SUFFIX)}".strip()
        return company, company, country, lifetime
    return f"{rng.choice(FIRST.split())} {rng.choice(LAST.split())}", "", country, lifetime


def _customer(
    position: int, segment: str, order_count: int, now: datetime, rng: random.Random
) -> tuple[DrawnCustomer, list[DrawnOrder]]:
    """One customer and its completed orders, which add up to its lifetime purchases."""
    name, company, country, lifetime = _identity(position, segment, rng)
    low, high = ACCOUNT_AGE_DAYS.get(segment, OTHER_ACCOUNT_AGE_DAYS)
    created = now - rng.randint(low, high) * timedelta(days=1)
    rating = PaymentRating.EXCELLENT if segment == "vip" else PaymentRating(rng.choice(OTHER_RATINGS))
    status = CustomerStatus.ACTIVE
    if segment == "none":
        status = CustomerStatus(rng.choice(NO_SEGMENT_STATUSES))
        lifetime = order_count = 0
    tags = rng.sample(TAGS, rng.randint(0, MAX_TAGS))
    if segment == "wholesale":
        tags.append(WHOLESALE_TAG)
    count = order_count if lifetime else 0
    window_start = max(created, now - HISTORY)
    span = max(int((now - window_start).total_seconds()), 1)
    placed = [window_start + timedelta(seconds=s) for s in sorted(rng.randrange(span) for _ in range(count))]
    amounts = _split(lifetime, count, rng) if count else []
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24] or "customer"
    customer = DrawnCustomer(
        segment=segment,
        name=name,
        company=company,
        email=f"{slug}.{position + 1}@example.com",
        country=country,
        status=status,
        payment_rating=rating,
        created_at=created,
        tags=tags,
        lifetime_cents=lifetime if count else 0,
        order_count=count,
        average_order_cents=lifetime // count if count else None,
        first_order_at=placed[0] if count else None,
        last_order_at=placed[-1] if count else None,
    )
    completed = [
        DrawnOrder(position, at, amount, OrderStatus.COMPLETED) for at, amount in zip(placed, amounts, strict=True)
    ]
    return customer, completed


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`parts` positive-ish integers that add up to exactly `total`."""
    weights = [rng.lognormvariate(0, 0.6) for _ in range(parts)]
    scale = total / sum(weights)
    amounts = [int(w * scale) for w in weights]
    amounts[0] += total - sum(amounts)
    return amounts


def _cancelled(customers: int, now: datetime, rng: random.Random) -> DrawnOrder:
    # rng.choice over the positions draws exactly what a choice over the customers' ids would.
    position = rng.choice(range(customers))
    placed_at = now - rng.randint(*CANCELLED_DAYS) * timedelta(days=1)
    return DrawnOrder(position, placed_at, rng.randint(*CANCELLED_CENTS), OrderStatus.CANCELLED)


def _platinum(customers: list[DrawnCustomer]) -> set[int]:
    """VIP Platinum: the top VIP customers by lifetime purchases, Acme Corporation (the first named
    customer) always among them."""
    vip = sorted(
        (i for i, customer in enumerate(customers) if customer.segment in VIP_SEGMENTS),
        key=lambda i: (i != 0, -customers[i].lifetime_cents, i),
    )
    return set(vip[:PLATINUM_MEMBERS])


def _source(spec_type: GroupType, segment: str, rng: random.Random) -> MembershipSource:
    """How a member came in: by hand in a manual group (and Global Supplies in VIP), by the rule
    otherwise, and now and then both in a hybrid group."""
    if spec_type == GroupType.MANUAL or segment == "vip-manual":
        return MembershipSource.MANUAL
    if spec_type == GroupType.HYBRID and rng.random() < BOTH_SHARE:
        return MembershipSource.BOTH
    return MembershipSource.RULE


def _join(
    shop: DrawnShop, position: int, customer: DrawnCustomer, platinum: bool, now: datetime, rng: random.Random
) -> None:
    """The customer's membership of its segment's group; VIP Platinum's members stay in VIP, and
    Platinum becomes their primary group."""
    key = "vip" if customer.segment == "vip-manual" else customer.segment
    spec = next(spec for spec in GROUPS if spec.key == key)
    source = _source(spec.type, customer.segment, rng)
    since = max(customer.created_at, now - rng.randint(*MEMBER_SINCE_DAYS) * timedelta(days=1))
    shop.memberships.append(DrawnMembership(position, key, source, not platinum, since))
    shop.events.append(DrawnEvent(position, key, MembershipAction.JOINED, source, JOIN_REASON, since))
    if platinum:
        earliest, latest = PLATINUM_WINDOW
        upgraded = min(now - latest, max(since + PLATINUM_AFTER, now - earliest))
        manual = MembershipSource.MANUAL
        shop.memberships.append(DrawnMembership(position, "platinum", manual, True, upgraded))
        for action in (MembershipAction.JOINED, MembershipAction.MADE_PRIMARY):
            shop.events.append(DrawnEvent(position, "platinum", action, manual, PLATINUM_REASON, upgraded))


def _bronze(shop: DrawnShop) -> None:
    """Bronze Tier's members: the retail customers whose purchases fall in its band, each since the
    order that took them past its floor (draws nothing, so every other figure of the shop stays as it
    was)."""
    low, high = (dollars * 100 for dollars in BRONZE_DOLLARS)
    completed: dict[int, list[DrawnOrder]] = {}
    for order in shop.orders:
        if order.status == OrderStatus.COMPLETED:
            completed.setdefault(order.customer, []).append(order)
    for position, customer in enumerate(shop.customers):
        if not low <= customer.lifetime_cents < high or WHOLESALE_TAG in customer.tags:
            continue
        spent, since = 0, customer.created_at
        for order in sorted(completed.get(position, []), key=lambda o: o.placed_at):
            spent += order.total_cents
            if spent >= low:
                since = order.placed_at
                break
        shop.memberships.append(DrawnMembership(position, "bronze", MembershipSource.RULE, False, since))
        shop.events.append(
            DrawnEvent(position, "bronze", MembershipAction.JOINED, MembershipSource.RULE, JOIN_REASON, since)
        )


# --- The catalog: which products are packs, and who sees them -----------------------------------


def _pack_price(single_cents: int, factor: float) -> int:
    """A pack's price in whole dollars less a cent ($71.99), like a shop's list prices."""
    return max(99, round(single_cents * factor / 100) * 100 - 1)


def demo_catalog(seed: int) -> list[DemoProduct]:
    """The demo shop's 200 products. Wholesale Only holds large packs; VIP Exclusive and Early
    Access are drawn from the rest; everything else is a standard product."""
    rng = random.Random(f"catalog:{seed}")
    products: list[tuple[str, str, str, int, bool]] = []
    for category, (prefix, single, pack, factor, items) in CATALOG.items():
        number = 0
        for item, cents in items:
            for is_pack, label, price in ((False, single, cents), (True, pack, _pack_price(cents, factor))):
                number += 1
                products.append((f"{prefix}-{number:03d}", f"{item} ({label})", category, price, is_pack))
    # 8 x 13 x 2 = 208: the last pack of each category makes way, for a round 200.
    per_category = CATALOG_SIZE // len(CATALOG)
    products = [p for c in CATALOG for p in [q for q in products if q[2] == c][:per_category]]
    positions = list(range(len(products)))
    visibility = ["Standard Products"] * len(products)
    packs = [i for i in positions if products[i][4]]
    for i in rng.sample(packs, VISIBILITY_SIZES["Wholesale Only"]):
        visibility[i] = "Wholesale Only"
    for name in ("VIP Exclusive Products", "Early Access Products"):
        free = [i for i in positions if visibility[i] == "Standard Products"]
        for i in rng.sample(free, VISIBILITY_SIZES[name]):
            visibility[i] = name
    return [
        DemoProduct(sku, name, category, visibility[i], price, is_pack)
        for i, (sku, name, category, price, is_pack) in enumerate(products)
    ]
