"""Writing the demo shop: data.py's groups, catalog, benefits and promotions and drawing.py's
customers, orders and memberships go into an empty database, through the services where there is
one (benefits, promotions, member counts) and by bulk inserts for the many rows.
"""

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.catalog import Category, PriceList, PriceListItem, Product, VisibilityGroup
from models.customer import Customer, CustomerTag, Order
from models.group import CustomerGroup, Membership, MembershipEvent, RuleVersion
from models.shop import Shop
from services import report_totals
from services.benefits.sections import save_benefits
from services.demo.data import (
    BENEFITS,
    CATALOG,
    CATALOG_SIZE,
    GROUPS,
    HISTORY,
    PRICE_LISTS,
    SHOP_CURRENCY,
    SHOP_NAME,
    SYSTEM_NAME,
    VIP_LIST_SHARE,
    VISIBILITY_GROUPS,
    WHOLESALE_TIERS,
    DemoProduct,
    promotions,
)
from services.demo.drawing import DrawnShop, demo_catalog, draw_shop
from services.groups.group import name_key
from services.membership.books import recount
from services.promotions import create_promotion
from services.staff.actor import SYSTEM
from services.storage.sql import insert_rows

# Orders arrive in customer order, so each commit touches pages all over the placed_at index;
# fewer, larger commits rewrite far fewer pages (5,000 rows per commit took twice as long).
BATCH = 50_000
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


async def seed_demo_shop(
    *,
    customers: int = 1200,
    orders: int | None = None,
    seed: int = 2024,
    today: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Fill an empty database with the demo shop. `orders` defaults to about 12 per customer.

    Its history goes back from `today` (the moment it is seeded, unless given), so no order, member
    or customer is dated after it: a group created right after seeding shows no revenue "from the
    future". The same seed and moment give the same shop."""
    now = (today or datetime.now(UTC)).replace(microsecond=0)
    say = progress or (lambda _message: None)
    started = time.perf_counter()

    def done(what: str) -> None:
        say(f"{what} in {time.perf_counter() - started:.1f} s")

    await Shop.create(name=SHOP_NAME, currency=SHOP_CURRENCY)
    groups = await _seed_groups(now)
    shop = draw_shop(customers=customers, orders=orders, seed=seed, now=now)
    customer_ids = await _seed_customers(shop)
    done(f"{len(shop.customers):,} customers")
    order_rows = [(customer_ids[o.customer], o.placed_at, o.total_cents, o.status) for o in shop.orders]
    await _insert(Order, ORDER_COLUMNS, order_rows)
    done(f"{len(shop.orders):,} orders")
    await _seed_memberships(shop, customer_ids, groups)
    done(f"{len(shop.memberships):,} memberships")
    catalog = await _seed_catalog(seed)
    await _seed_benefits(groups, catalog)
    done(f"{CATALOG_SIZE} products and the groups' benefits")
    await _seed_promotions(groups, now)
    # The history and the orders went in directly, not through their writers: the reports' totals
    # are derived from them once, here.
    await report_totals.rebuild_all()
    done("the reports' totals")


async def is_empty() -> bool:
    return not (await Shop.exists() or await CustomerGroup.exists() or await Customer.exists())


async def seed_if_empty(*, customers: int, seed: int) -> bool:
    """Seed the demo shop on first start. True when it did."""
    if not await is_empty():
        return False
    await seed_demo_shop(customers=customers, seed=seed)
    return True


async def _insert(model: type[Model], columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (values in `columns` order), BATCH rows per transaction."""
    for start in range(0, len(rows), BATCH):
        async with in_transaction("default") as connection:
            await insert_rows(connection, model, columns, rows[start : start + BATCH])


async def _seed_groups(now: datetime) -> dict[str, CustomerGroup]:
    """The groups by key, each rule group with its first rule version, two years old."""
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
            is_ladder=spec.is_ladder,
            rung=spec.rung,
            created_at=now - HISTORY,
        )
        if spec.rule:
            await RuleVersion.create(
                group=groups[spec.key], number=1, rule=spec.rule, author=SYSTEM_NAME, at=now - HISTORY, note="Demo shop"
            )
    return groups


async def _seed_customers(shop: DrawnShop) -> list[int]:
    """The customers and their tags; the customers' ids in the order drawn."""
    await _insert(
        Customer,
        CUSTOMER_COLUMNS,
        [
            (
                c.name,
                c.company,
                c.email,
                c.country,
                c.status,
                c.payment_rating,
                {},
                c.created_at,
                c.lifetime_cents,
                c.order_count,
                c.average_order_cents,
                c.first_order_at,
                c.last_order_at,
            )
            for c in shop.customers
        ],
    )
    # The database numbers the customers (explicit ids would leave PostgreSQL's id sequence
    # behind); it numbers them in the order they were inserted.
    customer_ids = await Customer.all().order_by("id").values_list("id", flat=True)
    tags = [(customer_ids[i], tag) for i, customer in enumerate(shop.customers) for tag in customer.tags]
    await _insert(CustomerTag, TAG_COLUMNS, tags)
    return customer_ids


async def _seed_memberships(shop: DrawnShop, customer_ids: list[int], groups: dict[str, CustomerGroup]) -> None:
    """The members, the history entries of their joining, and the groups' member counts."""
    memberships = [
        (customer_ids[m.customer], groups[m.group].id, m.source, m.is_primary, m.since) for m in shop.memberships
    ]
    events = [
        (
            customer_ids[e.customer],
            groups[e.group].id,
            groups[e.group].name,
            e.action,
            e.source,
            e.reason,
            SYSTEM_NAME,
            e.at,
        )
        for e in shop.events
    ]
    await _insert(Membership, MEMBERSHIP_COLUMNS, memberships)
    await _insert(MembershipEvent, EVENT_COLUMNS, events)
    async with in_transaction("default") as connection:
        await recount(connection, [group.id for group in groups.values()])


def _share(cents: int, share: float) -> int:
    return round(cents * share)


def _price_list_items(products: list[DemoProduct], ids: dict[str, int], lists: dict[str, int]) -> list[tuple]:
    """The VIP list's contract prices for the VIP exclusive products; the wholesale list's quantity
    breaks for the packs a wholesaler sees."""
    items = []
    for p in products:
        if p.visibility == "VIP Exclusive Products":
            items.append((lists["VIP Price List"], ids[p.sku], 1, _share(p.base_price_cents, VIP_LIST_SHARE)))
        if p.is_pack and p.visibility in ("Standard Products", "Wholesale Only"):
            items += [
                (lists["Wholesale Price List"], ids[p.sku], minimum, _share(p.base_price_cents, share))
                for minimum, share in WHOLESALE_TIERS
            ]
    return items


async def _seed_catalog(seed: int) -> dict[str, dict[str, int]]:
    """Categories, visibility groups, products and the two price lists; the visibility groups' and
    the price lists' ids by name."""
    products = demo_catalog(seed)
    categories = {name: (await Category.create(name=name)).id for name in CATALOG}
    visibility = {
        name: (await VisibilityGroup.create(name=name, is_standard=name == "Standard Products")).id
        for name in VISIBILITY_GROUPS
    }
    lists = {
        name: (await PriceList.create(name=name, description=description)).id
        for name, description in PRICE_LISTS.items()
    }
    async with in_transaction("default") as connection:
        await insert_rows(
            connection,
            Product,
            ("sku", "name", "category_id", "visibility_group_id", "base_price_cents"),
            [(p.sku, p.name, categories[p.category], visibility[p.visibility], p.base_price_cents) for p in products],
        )
    ids = dict(await Product.all().values_list("sku", "id"))
    async with in_transaction("default") as connection:
        await insert_rows(
            connection,
            PriceListItem,
            ("price_list_id", "product_id", "min_quantity", "price_cents"),
            _price_list_items(products, ids, lists),
        )
    return {"visibility": visibility, "price_lists": lists}


def _with_ids(section: dict[str, Any], catalog: dict[str, dict[str, int]]) -> dict[str, Any]:
    """A benefit section from data.BENEFITS with the price list and visibility groups' ids for
    their names."""
    section = dict(section)
    if "price_list_id" in section:
        section["price_list_id"] = catalog["price_lists"][section["price_list_id"]]
    if "visibility_group_ids" in section:
        section["visibility_group_ids"] = [catalog["visibility"][name] for name in section["visibility_group_ids"]]
    return section


async def _seed_benefits(groups: dict[str, CustomerGroup], catalog: dict[str, dict[str, int]]) -> None:
    for key, sections in BENEFITS.items():
        resolved = {name: _with_ids(section, catalog) for name, section in sections.items()}
        await save_benefits(group_id=groups[key].id, sections=resolved, actor=SYSTEM)


async def _seed_promotions(groups: dict[str, CustomerGroup], now: datetime) -> None:
    """data.promotions with the groups' and the free item's ids for their keys and SKU."""
    for promotion in promotions(now.date()):
        data = {key: value for key, value in promotion.items() if key not in ("target_groups", "free_item")}
        data["target_group_ids"] = [groups[key].id for key in promotion["target_groups"]]
        if "free_item" in promotion:
            data["free_item_id"] = await Product.get(sku=promotion["free_item"]).values_list("id", flat=True)
        await create_promotion(data=data, actor=SYSTEM)
