"""The demo shop: groups, customers and two years of orders that show every concept of the product
(docs/concepts.md).

Every customer is drawn into one segment (VIP, Gold, Silver, Wholesale, Retail, New, or none)
and then given orders that make its stats fit that segment, so the groups' rules and their
members agree. Three promotions close the shop: the VIP Spring Sale (March of the demo's
year), a free-shipping offer for Wholesale running now, and a draft. The same seed number and day
give the same shop.
"""

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.catalog import Category, PriceList, PriceListItem, Product, VisibilityGroup
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
from models.promotion import PromotionStatus, PromotionType
from models.shop import Shop
from services.benefits.sections import save_benefits
from services.groups.group import name_key
from services.membership.books import recount
from services.promotions import create_promotion
from services.staff.actor import SYSTEM
from services.storage.sql import insert_rows

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
    # The hierarchy example: inherits VIP's benefits and adds its own. Filled below with the
    # top VIP customers (share 0: nobody is drawn into it).
    GroupSpec(
        "platinum",
        "VIP Platinum",
        "VIP-PLATINUM",
        "Our very top VIP customers: everything VIP gets, plus an extra 5%, a higher credit limit and Net 45.",
        GroupType.MANUAL,
        0,
        parent="vip",
    ),
]
PLATINUM_MEMBERS = 4  # the top VIP customers by lifetime purchases, Acme Corporation among them

# The customers the demo shop always has, with their segment and lifetime purchases.
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


# --- The catalog: 8 categories, each with 13 items sold singly and in a pack (200 products) -----

# category: (SKU prefix, single pack's name, larger pack's name, how many singles the larger pack holds
# and what it costs in singles' prices, items with their single price in cents)
CATALOG: dict[str, tuple[str, str, str, float, list[tuple[str, int]]]] = {
    "Office Supplies": (
        "OFF",
        "Box of 12",
        "Case of 12 Boxes",
        10.8,
        [
            ("Ballpoint Pens, Blue", 649),
            ("Gel Pens, Black", 1199),
            ("Permanent Markers, Assorted", 1499),
            ("Highlighters, Yellow", 849),
            ("Mechanical Pencils 0.7 mm", 999),
            ("Sticky Notes 3 x 3 in", 1299),
            ("Binder Clips, Medium", 549),
            ("Jumbo Paper Clips", 399),
            ("Manila File Folders", 1799),
            ("Hanging File Folders", 2299),
            ("Three-Ring Binders 2 in", 3999),
            ("Sheet Protectors", 1599),
            ("Correction Tape", 1999),
        ],
    ),
    "Paper & Printing": (
        "PAP",
        "Pack",
        "Case of 10",
        9.2,
        [
            ("Copy Paper, Letter 20 lb", 899),
            ("Copy Paper, Legal 20 lb", 1149),
            ("Bright White Paper 24 lb", 1299),
            ("Recycled Copy Paper", 949),
            ("Cardstock 65 lb", 1599),
            ("Laser Labels 1 x 2-5/8 in", 2499),
            ("Shipping Labels 4 x 6 in", 3299),
            ("Toner Cartridge, Black", 8999),
            ("Toner Cartridge, Color Set", 24999),
            ("Inkjet Cartridge, Tri-Color", 3499),
            ("Envelopes #10, Security Tint", 1899),
            ("Catalog Envelopes 9 x 12 in", 2199),
            ("Thermal Receipt Rolls", 2799),
        ],
    ),
    "Janitorial & Cleaning": (
        "JAN",
        "Each",
        "Case of 6",
        5.4,
        [
            ("All-Purpose Cleaner, 1 gal", 1499),
            ("Glass Cleaner, 32 oz", 599),
            ("Disinfectant Wipes, 80 ct", 899),
            ("Heavy-Duty Trash Bags 55 gal, 50 ct", 3499),
            ("Paper Towels, Multifold 16 pk", 4299),
            ("Toilet Tissue, 2-Ply 48 rolls", 5299),
            ("Hand Soap Refill, 1 gal", 1899),
            ("Microfiber Cloths, 24 pk", 2499),
            ("Floor Cleaner Concentrate, 1 gal", 2299),
            ("Commercial Mop Head", 1299),
            ("Nitrile Cleaning Gloves, 100 ct", 1599),
            ("Hand Sanitizer, 1 L Pump", 1199),
            ("Degreaser Spray, 32 oz", 899),
        ],
    ),
    "Safety & PPE": (
        "SAF",
        "Box",
        "Case of 10 Boxes",
        9.0,
        [
            ("Nitrile Exam Gloves, Large", 1399),
            ("Safety Glasses, Clear Anti-Fog", 499),
            ("Earplugs, Corded 100 pr", 3299),
            ("N95 Respirators, 20 ct", 2999),
            ("Hi-Vis Safety Vest, Class 2", 899),
            ("Hard Hat, Ratchet Suspension", 1999),
            ("Cut-Resistant Gloves, A4", 1599),
            ("First Aid Kit, 50 Person", 5999),
            ("Eye Wash Station Refill", 2499),
            ("Disposable Coveralls", 999),
            ("Anti-Slip Floor Tape 2 in x 60 ft", 2899),
            ("Face Shield, Flip-Up", 1799),
            ("Welding Gloves, Leather", 2199),
        ],
    ),
    "Tools & Hardware": (
        "TLS",
        "Each",
        "Contractor 5-Pack",
        4.6,
        [
            ("Cordless Drill Driver 20 V", 12999),
            ("Impact Driver 20 V", 14999),
            ("Socket Set, 108 Piece", 8999),
            ("Claw Hammer 16 oz", 2499),
            ("Tape Measure 25 ft", 1499),
            ("Utility Knife, Retractable", 999),
            ("Adjustable Wrench 10 in", 1899),
            ("Screwdriver Set, 12 Piece", 2999),
            ("Torpedo Level 9 in", 1299),
            ("Hex Key Set, Metric and SAE", 1599),
            ("Locking Pliers 10 in", 1799),
            ("Hacksaw, High-Tension", 2199),
            ("Stud Finder, Digital", 3499),
        ],
    ),
    "Electrical & Lighting": (
        "ELE",
        "Each",
        "Case of 12",
        10.5,
        [
            ("LED Bulb A19, 60 W Equivalent", 399),
            ("LED Tube T8, 4 ft", 1299),
            ("LED High Bay 150 W", 11999),
            ("LED Flood Light 50 W", 4999),
            ("Extension Cord 50 ft, 12 Gauge", 5499),
            ("Power Strip, 6 Outlet Surge", 2499),
            ("Electrical Tape, 10 Rolls", 1299),
            ("Wire Nuts, Assorted 100 ct", 1099),
            ("GFCI Outlet 20 A", 2299),
            ("Motion Sensor Switch", 2999),
            ("Emergency Exit Sign, LED", 3999),
            ("Work Light, Rechargeable", 4499),
            ("Cable Ties 11 in, 100 ct", 799),
        ],
    ),
    "Packaging & Shipping": (
        "PKG",
        "Bundle of 25",
        "Bundle of 250",
        9.0,
        [
            ("Corrugated Boxes 12 x 12 x 12 in", 3499),
            ("Corrugated Boxes 18 x 18 x 18 in", 5999),
            ("Bubble Mailers 6 x 10 in", 1999),
            ("Poly Mailers 10 x 13 in", 1499),
            ("Packing Tape 2 in x 110 yd, 6 pk", 1899),
            ("Stretch Wrap 18 in x 1500 ft", 2799),
            ("Bubble Wrap Roll 12 in x 175 ft", 2999),
            ("Packing Peanuts, 14 cu ft", 3999),
            ("Kraft Paper Roll 30 in", 4499),
            ("Shipping Tags with Wire", 999),
            ("Fragile Labels, 500 ct", 1299),
            ("Tape Gun Dispenser", 1599),
            ("Pallet Corner Boards", 4999),
        ],
    ),
    "Breakroom & Food Service": (
        "BRK",
        "Pack",
        "Case of 8",
        7.4,
        [
            ("Ground Coffee, Medium Roast 2 lb", 1899),
            ("Coffee Pods, Dark Roast 96 ct", 5499),
            ("Assorted Tea Bags, 100 ct", 1299),
            ("Paper Hot Cups 12 oz, 50 ct", 899),
            ("Cold Cups 16 oz, 50 ct", 799),
            ("Compostable Plates 9 in, 125 ct", 1999),
            ("Plastic Cutlery Kits, 250 ct", 2499),
            ("Napkins, 2-Ply 500 ct", 1099),
            ("Bottled Water 16.9 oz, 24 ct", 699),
            ("Sugar Packets, 1000 ct", 1499),
            ("Powdered Creamer, 1000 ct", 2999),
            ("Stir Sticks, 1000 ct", 599),
            ("Snack Variety Box, 50 ct", 3999),
        ],
    ),
}
CATALOG_SIZE = 200
VISIBILITY_GROUPS = ("Standard Products", "VIP Exclusive Products", "Early Access Products", "Wholesale Only")
VISIBILITY_SIZES = {"VIP Exclusive Products": 45, "Early Access Products": 10, "Wholesale Only": 20}
WHOLESALE_TIERS = ((1, 0.90), (10, 0.84), (100, 0.76))  # (from quantity, share of the base price)
VIP_LIST_SHARE = 0.82


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    category: str
    visibility: str
    base_price_cents: int
    is_pack: bool


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


def _share(cents: int, share: float) -> int:
    return round(cents * share)


async def _seed_catalog(seed: int) -> dict[str, Any]:
    """Categories, visibility groups, products and the two price lists; their ids by name."""
    products = demo_catalog(seed)
    categories = {name: (await Category.create(name=name)).id for name in CATALOG}
    visibility = {
        name: (await VisibilityGroup.create(name=name, is_standard=name == "Standard Products")).id
        for name in VISIBILITY_GROUPS
    }
    vip_list = await PriceList.create(
        name="VIP Price List",
        description="Contract prices for the VIP exclusive products, 18% below list. Assign it to a group to use it.",
    )
    wholesale_list = await PriceList.create(
        name="Wholesale Price List",
        description="Pack prices for resellers and distributors, with quantity breaks at 10 and 100 units.",
    )
    async with in_transaction("default") as connection:
        await insert_rows(
            connection,
            Product,
            ("sku", "name", "category_id", "visibility_group_id", "base_price_cents"),
            [(p.sku, p.name, categories[p.category], visibility[p.visibility], p.base_price_cents) for p in products],
        )
    ids = dict(await Product.all().values_list("sku", "id"))
    items = []
    for p in products:
        if p.visibility == "VIP Exclusive Products":
            items.append((vip_list.id, ids[p.sku], 1, _share(p.base_price_cents, VIP_LIST_SHARE)))
        if p.is_pack and p.visibility in ("Standard Products", "Wholesale Only"):
            items += [
                (wholesale_list.id, ids[p.sku], minimum, _share(p.base_price_cents, share))
                for minimum, share in WHOLESALE_TIERS
            ]
    async with in_transaction("default") as connection:
        await insert_rows(
            connection, PriceListItem, ("price_list_id", "product_id", "min_quantity", "price_cents"), items
        )
    return {"visibility": visibility, "vip_list": vip_list.id, "wholesale_list": wholesale_list.id}


async def _seed_benefits(groups: dict[str, CustomerGroup], catalog: dict[str, Any]) -> None:
    """The groups' benefits: VIP's 15% and terms, VIP Platinum's extra 5%, the tiers' discounts,
    Wholesale's price list. Retail and New Customers get the shop's standard terms."""
    visibility = catalog["visibility"]
    full_portal = {
        "login": True,
        "shop_access": "full",
        "quote_requests": True,
        "order_placement": True,
        "invoice_access": True,
    }
    benefits = {
        "vip": {
            "pricing": {"type": "percentage", "percent": 15, "scope": "all", "stack_with_promotions": True},
            "visibility": {
                "mode": "groups",
                "visibility_group_ids": [
                    visibility["Standard Products"],
                    visibility["VIP Exclusive Products"],
                    visibility["Early Access Products"],
                ],
            },
            "portal": full_portal,
            "payment": {
                "methods": ["credit_card", "ach", "wire", "net_terms"],
                "net_days": 30,
                "credit_limit_cents": _money(100_000),
                "auto_approve_under_cents": _money(10_000),
                "require_po": False,
                "early_discount_percent": 2,
                "early_discount_days": 10,
            },
        },
        "platinum": {
            "pricing": {"additional_percent": 5},
            "payment": {"net_days": 45, "credit_limit_cents": _money(250_000)},
        },
        "gold": {"pricing": {"type": "percentage", "percent": 10, "scope": "all"}},
        "silver": {"pricing": {"type": "percentage", "percent": 5, "scope": "all"}},
        "wholesale": {
            "pricing": {
                "type": "price_list",
                "price_list_id": catalog["wholesale_list"],
                "min_order_cents": _money(500),
            },
            "visibility": {
                "mode": "groups",
                "visibility_group_ids": [visibility["Standard Products"], visibility["Wholesale Only"]],
            },
            "payment": {"methods": ["credit_card", "ach", "net_terms"], "net_days": 30, "require_po": True},
        },
    }
    for key, sections in benefits.items():
        await save_benefits(group_id=groups[key].id, sections=sections, actor=SYSTEM)


def _next_month(today: date) -> tuple[date, date]:
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - DAY


async def _seed_promotions(groups: dict[str, CustomerGroup], today: date) -> None:
    """The VIP Spring Sale (March of the demo's year, stacking with VIP's 15%), free
    shipping for Wholesale over the 30 days around today, and a draft for next month."""
    coffee = await Product.get(sku="BRK-001").values_list("id", flat=True)
    next_from, next_to = _next_month(today)
    promotions = [
        {
            "name": "VIP Spring Sale",
            "type": PromotionType.ADDITIONAL_DISCOUNT,
            "status": PromotionStatus.ACTIVE,
            "target_group_ids": [groups["vip"].id, groups["gold"].id],
            "percent": 10,
            "minimum_purchase_cents": _money(500),
            "valid_from": date(today.year, 3, 1),
            "valid_to": date(today.year, 3, 31),
            "stack_with_group_discount": True,
        },
        {
            "name": "Wholesale Free Shipping",
            "type": PromotionType.FREE_SHIPPING,
            "status": PromotionStatus.ACTIVE,
            "target_group_ids": [groups["wholesale"].id],
            "minimum_purchase_cents": _money(1_000),
            "valid_from": today - 15 * DAY,
            "valid_to": today + 14 * DAY,
        },
        {
            "name": "Silver Coffee Bonus",
            "type": PromotionType.FREE_ITEM,
            "status": PromotionStatus.DRAFT,
            "target_group_ids": [groups["silver"].id],
            "free_item_id": coffee,
            "minimum_purchase_cents": _money(250),
            "valid_from": next_from,
            "valid_to": next_to,
        },
    ]
    for data in promotions:
        await create_promotion(data=data, actor=SYSTEM)


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
    """Insert `rows` (values in `columns` order), BATCH rows per transaction."""
    for start in range(0, len(rows), BATCH):
        async with in_transaction("default") as connection:
            await insert_rows(connection, model, columns, rows[start : start + BATCH])


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

    # VIP Platinum: the top VIP customers by lifetime purchases, Acme Corporation (the first named
    # customer) always among them. They stay in VIP; Platinum becomes their primary group.
    vip_positions = sorted(
        (i for i, segment in enumerate(segments) if segment in ("vip", "vip-manual")),
        key=lambda i: (i != 0, -customer_rows[i][8], i),
    )
    platinum = set(vip_positions[:PLATINUM_MEMBERS])

    memberships: list[tuple] = []
    events: list[tuple] = []
    for position, (customer_id, created, segment) in enumerate(zip(customer_ids, created_at, segments, strict=True)):
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
        memberships.append((customer_id, group.id, source, position not in platinum, since))
        events.append(
            (customer_id, group.id, group.name, MembershipAction.JOINED, source, "Demo shop", "system", since)
        )
        if position in platinum:
            top = groups["platinum"]
            upgraded = min(now - 14 * DAY, max(since + 90 * DAY, now - 200 * DAY))
            manual = MembershipSource.MANUAL
            reason = "Demo shop: a top VIP customer"
            memberships.append((customer_id, top.id, manual, True, upgraded))
            events.append((customer_id, top.id, top.name, MembershipAction.JOINED, manual, reason, "system", upgraded))
            events.append(
                (customer_id, top.id, top.name, MembershipAction.MADE_PRIMARY, manual, reason, "system", upgraded)
            )
    await _insert(Membership, MEMBERSHIP_COLUMNS, memberships)
    await _insert(MembershipEvent, EVENT_COLUMNS, events)
    async with in_transaction("default") as connection:
        await recount(connection, [group.id for group in groups.values()])
    say(f"{len(memberships):,} memberships in {time.perf_counter() - started:.1f} s")

    catalog = await _seed_catalog(seed)
    await _seed_benefits(groups, catalog)
    say(f"{CATALOG_SIZE} products and the groups' benefits in {time.perf_counter() - started:.1f} s")
    await _seed_promotions(groups, now.date())


async def is_empty() -> bool:
    return not (await Shop.exists() or await CustomerGroup.exists() or await Customer.exists())


async def seed_if_empty(*, customers: int, seed: int) -> bool:
    """Seed the demo shop on first start. True when it did."""
    if not await is_empty():
        return False
    await seed_demo_shop(customers=customers, seed=seed)
    return True
