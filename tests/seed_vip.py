"""The demo shop's VIP example, built once for the service tests that check it (pricing, the benefits
summary, the hierarchy, the troubleshooting checklist): a small catalog, then VIP Customers and VIP
Platinum under it with their benefits, and customers in groups. Each test file adds the groups of
its own story."""

from dataclasses import dataclass
from datetime import UTC, datetime

from models.catalog import Category, Product, VisibilityGroup
from models.customer import Customer
from services.benefits.sections import save_benefits
from services.groups.group import create_group
from services.membership.changes import AddMode, add_members
from services.staff.actor import SystemActor

ACTOR = SystemActor("anna")


@dataclass
class VipCatalog:
    tools: int  # category of Widget
    toys: int  # category of Gadget
    standard: int  # the visibility group every customer sees
    exclusive: int  # "VIP Exclusive Products"
    widget: int  # $100.00, Tools, standard
    gadget: int  # $40.00, Toys, VIP exclusive


@dataclass
class VipShop:
    catalog: VipCatalog
    vip: int  # 15% on all products, sees VIP Exclusive, Net 30, $100,000 credit, 2/10 early payment
    platinum: int  # under VIP: 5% more, Net 45, $250,000 credit


async def vip_catalog() -> VipCatalog:
    """The catalog rows the VIP example prices and shows."""
    tools = await Category.create(name="Tools")
    toys = await Category.create(name="Toys")
    standard = await VisibilityGroup.create(name="Standard Products", is_standard=True)
    exclusive = await VisibilityGroup.create(name="VIP Exclusive Products")
    widget = await Product.create(
        sku="W-1", name="Widget", category=tools, visibility_group=standard, base_price_cents=10_000
    )
    gadget = await Product.create(
        sku="G-1", name="Gadget", category=toys, visibility_group=exclusive, base_price_cents=4_000
    )
    return VipCatalog(tools.id, toys.id, standard.id, exclusive.id, widget.id, gadget.id)


async def seed_vip() -> VipShop:
    """The catalog, then VIP Customers and VIP Platinum with the demo shop's benefits."""
    catalog = await vip_catalog()
    vip = (await create_group(data={"name": "VIP Customers", "code": "VIP"}, actor=ACTOR)).id
    platinum = (await create_group(data={"name": "VIP Platinum", "code": "PLAT", "parent_id": vip}, actor=ACTOR)).id
    await save_benefits(
        group_id=vip,
        sections={
            "pricing": {"type": "percentage", "percent": 15, "scope": "all"},
            "visibility": {"mode": "groups", "visibility_group_ids": [catalog.exclusive]},
            "payment": {
                "net_days": 30,
                "credit_limit_cents": 10_000_000,
                "early_discount_percent": 2,
                "early_discount_days": 10,
            },
        },
        actor=ACTOR,
    )
    await save_benefits(
        group_id=platinum,
        sections={"pricing": {"additional_percent": 5}, "payment": {"net_days": 45, "credit_limit_cents": 25_000_000}},
        actor=ACTOR,
    )
    return VipShop(catalog, vip, platinum)


async def new_customer(name: str, *groups: int) -> int:
    """A customer (name@example.com) added to `groups`; the first group becomes the primary one."""
    customer = await Customer.create(
        name=name, email=f"{name.lower()}@example.com", created_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    for group in groups:
        await add_members(group_id=group, customer_ids=[customer.id], mode=AddMode.ADD, actor=ACTOR)
    return customer.id
