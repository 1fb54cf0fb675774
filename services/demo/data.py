"""The demo shop as plain data: its groups and their rules, benefits and promotions, the catalog,
and the parameters the customers and their orders are drawn from. No database and no I/O here:
drawing.py draws the customers, orders and memberships from these parameters, seeding.py writes it
all. Ids the database gives (visibility groups, price lists, groups, products) are named here by
their names, keys and SKUs; seeding swaps in the ids.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from models.group import GroupType
from models.promotion import PromotionStatus, PromotionType

SHOP_NAME = "Northwind Supply Co."
SHOP_CURRENCY = "USD"
HISTORY = timedelta(days=730)  # groups, rules and orders go back two years from the demo's day
ORDERS_PER_CUSTOMER = 12  # on average, unless the orders are counted out
CANCELLED_SHARE = 50  # one cancelled order for every 50 completed ones; they do not count in the stats
SYSTEM_NAME = "system"  # the author of the first rule versions and of the membership events
JOIN_REASON = "Demo shop"
PLATINUM_REASON = "Demo shop: a top VIP customer"


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
    is_ladder: bool = False  # its subgroups are the rungs of a ladder (services.rules.ladders)
    rung: int | None = None  # its place on its parent's ladder, 1 the top


def _money(dollars: int) -> int:
    return dollars * 100


WHOLESALE_TAG = "wholesale"  # every Wholesale customer carries it


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
    # The loyalty tiers as a ladder (seed 003's "Tiered Customers"): every customer on one tier at
    # most, moved up or down by their purchases. It has no members of its own.
    GroupSpec(
        "tiered",
        "Tiered Customers",
        "TIERED",
        "The loyalty ladder: Gold, Silver and Bronze; each customer sits on one tier, moved up or down by purchases.",
        GroupType.MANUAL,
        0,
        is_ladder=True,
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
        parent="tiered",
        rung=1,
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
        parent="tiered",
        rung=2,
    ),
    # Nobody is drawn into Bronze (share 0): its members are the retail customers whose purchases fall
    # in its band (BRONZE_DOLLARS), in it beside their Retail group. Wholesale accounts have terms of
    # their own and stay off the ladder's bottom rung.
    GroupSpec(
        "bronze",
        "Bronze Tier",
        "BRONZE",
        "Retail customers with $5,000 to $8,000 in lifetime purchases (wholesale accounts have their own terms).",
        GroupType.AUTOMATIC,
        0,
        rule={
            "match": "all",
            "conditions": [
                {"field": "total_purchases", "op": "gte", "value": _money(5_000)},
                {"field": "total_purchases", "op": "lt", "value": _money(8_000)},
                {"field": "tags", "op": "has_none", "value": [WHOLESALE_TAG]},
            ],
        },
        parent="tiered",
        rung=3,
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
BRONZE_DOLLARS = (5_000, 8_000)  # Bronze Tier's band, as its rule says: from, and up to (not including)

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


# --- The customers and their orders: what drawing.py draws them from ----------------------------

# A customer's account age in days, by segment (New Customers are under three months old; VIP
# customers over a year, as VIP's rule asks).
ACCOUNT_AGE_DAYS = {"new": (3, 85), "vip": (400, 1400), "vip-manual": (400, 1400)}
OTHER_ACCOUNT_AGE_DAYS = (100, 1400)
COMPANY_SEGMENTS = ("wholesale", "vip", "gold")  # always companies; the rest are one now and then
COMPANY_SHARE = 0.55
# Customers drawn into VIP pay excellently (VIP's rule asks for it); everyone else, Global Supplies
# (a VIP member by hand) too, has one of these.
OTHER_RATINGS = ("good", "good", "fair", "poor")
NO_SEGMENT_STATUSES = ("inactive", "blocked")  # customers in no group buy nothing
MAX_TAGS = 2  # drawn from TAGS; Wholesale customers carry "wholesale" on top
MEMBER_SINCE_DAYS = (30, 700)  # ago, and never before the account was opened
BOTH_SHARE = 0.2  # of a hybrid group's rule members who were also added by hand
CANCELLED_DAYS = (1, 700)  # ago
CANCELLED_CENTS = (2_000, 90_000)
ORDER_SPREAD = (0.5, 1.5)  # a customer's order frequency, around its segment's
# VIP Platinum's members move up from VIP some months ago: 90 days after joining VIP at the
# earliest, yet between 200 and 14 days before the demo's day.
PLATINUM_AFTER = timedelta(days=90)
PLATINUM_WINDOW = (timedelta(days=200), timedelta(days=14))


# --- The catalog's price lists and the groups' benefits -----------------------------------------

PRICE_LISTS = {
    "VIP Price List": "Contract prices for the VIP exclusive products, 18% below list. Assign it to a group to use it.",
    "Wholesale Price List": "Pack prices for resellers and distributors, with quantity breaks at 10 and 100 units.",
}

_FULL_PORTAL = {
    "login": True,
    "shop_access": "full",
    "quote_requests": True,
    "order_placement": True,
    "invoice_access": True,
}

# The groups' benefits by group key: VIP's 15% and terms, VIP Platinum's extra 5%, the tiers'
# discounts, Wholesale's price list. Retail and New Customers get the shop's standard terms.
# `price_list_id` holds a price list's name and `visibility_group_ids` visibility groups' names.
BENEFITS: dict[str, dict[str, dict[str, Any]]] = {
    "vip": {
        "pricing": {"type": "percentage", "percent": 15, "scope": "all", "stack_with_promotions": True},
        "visibility": {
            "mode": "groups",
            "visibility_group_ids": ["Standard Products", "VIP Exclusive Products", "Early Access Products"],
        },
        "portal": _FULL_PORTAL,
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
        "pricing": {"type": "price_list", "price_list_id": "Wholesale Price List", "min_order_cents": _money(500)},
        "visibility": {"mode": "groups", "visibility_group_ids": ["Standard Products", "Wholesale Only"]},
        "payment": {"methods": ["credit_card", "ach", "net_terms"], "net_days": 30, "require_po": True},
    },
}


# --- The promotions -----------------------------------------------------------------------------


def _next_month(today: date) -> tuple[date, date]:
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def promotions(today: date) -> list[dict[str, Any]]:
    """The VIP Spring Sale (March of the demo's year, stacking with VIP's 15%), free shipping for
    Wholesale over the 30 days around today, and a draft for next month. `target_groups` holds
    group keys and `free_item` a product's SKU."""
    next_from, next_to = _next_month(today)
    return [
        {
            "name": "VIP Spring Sale",
            "type": PromotionType.ADDITIONAL_DISCOUNT,
            "status": PromotionStatus.ACTIVE,
            "target_groups": ["vip", "gold"],
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
            "target_groups": ["wholesale"],
            "minimum_purchase_cents": _money(1_000),
            "valid_from": today - timedelta(days=15),
            "valid_to": today + timedelta(days=14),
        },
        {
            "name": "Silver Coffee Bonus",
            "type": PromotionType.FREE_ITEM,
            "status": PromotionStatus.DRAFT,
            "target_groups": ["silver"],
            "free_item": "BRK-001",
            "minimum_purchase_cents": _money(250),
            "valid_from": next_from,
            "valid_to": next_to,
        },
    ]
