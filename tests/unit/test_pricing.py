"""Group benefits after inheritance, and what a customer pays: the demo shop's VIP / VIP Platinum example
and the resolver's trace, on a real database."""

from dataclasses import dataclass

import pytest

from models.catalog import PriceList, PriceListItem, Product
from models.group import CustomerGroup, GroupStatus
from services.benefits.pricing import CartLine, customer_benefits, quote
from services.benefits.sections import PricingType, effective_benefits, save_benefits
from services.errors import FormError
from services.groups.group import create_group
from tests.seed_vip import ACTOR, new_customer, seed_vip


@dataclass
class Catalog:
    vip: int
    platinum: int
    wholesale: int
    widget: int  # $100.00, standard
    gadget: int  # $40.00, VIP exclusive
    bulk: int  # $10.00, on the wholesale price list with tiers
    tools: int  # category of widget and bulk


@pytest.fixture
async def shop(db) -> Catalog:
    seed = await seed_vip()
    bulk = await Product.create(
        sku="B-1",
        name="Bolts",
        category_id=seed.catalog.tools,
        visibility_group_id=seed.catalog.standard,
        base_price_cents=1_000,
    )
    wholesale_list = await PriceList.create(name="Wholesale Price List")
    await PriceListItem.create(price_list=wholesale_list, product=bulk, min_quantity=1, price_cents=900)
    await PriceListItem.create(price_list=wholesale_list, product=bulk, min_quantity=100, price_cents=700)

    wholesale = (await create_group(data={"name": "Wholesale", "code": "WHOLESALE"}, actor=ACTOR)).id
    await save_benefits(
        group_id=wholesale,
        sections={"pricing": {"type": "price_list", "price_list_id": wholesale_list.id, "min_order_cents": 50_000}},
        actor=ACTOR,
    )
    return Catalog(
        seed.vip, seed.platinum, wholesale, seed.catalog.widget, seed.catalog.gadget, bulk.id, seed.catalog.tools
    )


async def test_vip_platinum_inherits_15_percent_and_adds_5_with_its_own_terms(shop: Catalog):
    platinum = await effective_benefits(group_id=shop.platinum)
    assert platinum.chain == ("VIP Customers", "VIP Platinum")
    percent = platinum.pricing["percent"]
    assert (percent.value, percent.note) == (20, "15% from VIP Customers + 5% here")
    assert platinum.pricing["type"].source_text(for_group_id=shop.platinum) == "inherited from VIP Customers"
    assert platinum.payment["credit_limit_cents"].value == 25_000_000
    assert platinum.payment["credit_limit_cents"].source_text(for_group_id=shop.platinum) == "set here"
    assert platinum.payment["net_days"].value == 45
    assert platinum.payment["early_discount_percent"].source_text(for_group_id=shop.platinum) == (
        "inherited from VIP Customers"
    )


async def test_a_platinum_member_pays_20_percent_less_and_the_trace_says_why(shop: Catalog):
    anna = await new_customer("Anna", shop.platinum)
    result = await quote(customer_id=anna, lines=[CartLine(shop.widget, 2)])
    line = result.lines[0]
    assert (line.unit_cents, line.total_cents) == (8_000, 16_000)
    assert line.winner.source == "VIP Platinum: 20% discount"
    assert line.winner.note == "15% from VIP Customers + 5% here"
    assert [(c.source, c.unit_cents, c.verdict) for c in line.candidates] == [
        ("Base price", 10_000, "Higher than $80.00."),
        ("VIP Platinum: 20% discount", 8_000, "Lowest price: applied."),
    ]
    assert result.savings_cents == 4_000


async def test_the_most_favourable_group_wins_and_a_minimum_order_is_checked(shop: Catalog):
    ben = await new_customer("Ben", shop.vip, shop.wholesale)
    small = await quote(customer_id=ben, lines=[CartLine(shop.bulk, 10)])
    # $100 in the cart: Wholesale's $500 minimum is not met, so VIP's 15% applies.
    assert small.lines[0].unit_cents == 850
    assert [m.met for m in small.minimums] == [False]
    wholesale = next(c for c in small.lines[0].candidates if c.group_name == "Wholesale")
    assert (wholesale.unit_cents, wholesale.verdict) == (None, "The cart does not reach this group's minimum order.")
    big = await quote(customer_id=ben, lines=[CartLine(shop.bulk, 100)])
    # 100 units reach the price list's 100+ tier ($7.00), below VIP's $8.50.
    assert big.lines[0].unit_cents == 700
    assert big.lines[0].winner.source == "Wholesale: Wholesale Price List (100+ units)"


async def test_an_inactive_group_gives_nothing(shop: Catalog):
    cleo = await new_customer("Cleo", shop.vip)
    await CustomerGroup.filter(id=shop.vip).update(status=GroupStatus.INACTIVE)
    line = (await quote(customer_id=cleo, lines=[CartLine(shop.widget, 1)])).lines[0]
    assert (line.unit_cents, line.winner.source) == (10_000, "Base price")


async def test_visibility_is_the_union_and_payment_terms_come_from_the_primary_group(shop: Catalog):
    dev = await new_customer("Dev", shop.platinum, shop.wholesale)
    benefits = await customer_benefits(customer_id=dev)
    assert benefits.primary_group == "VIP Platinum"
    assert benefits.visibility_group_names == ("VIP Exclusive Products",)  # inherited, additive
    assert benefits.payment.payment["net_days"].value == 45
    nobody = await new_customer("Eve")
    line = (await quote(customer_id=nobody, lines=[CartLine(shop.gadget, 1)])).lines[0]
    assert not line.visible
    assert (await quote(customer_id=dev, lines=[CartLine(shop.gadget, 1)])).lines[0].visible


async def test_settings_are_checked_with_a_message_at_each_field(shop: Catalog):
    with pytest.raises(FormError) as error:
        await save_benefits(
            group_id=shop.vip,
            sections={
                "pricing": {"type": "percentage", "percent": 150},
                "payment": {"net_days": 20, "early_discount_percent": 2},
            },
            actor=ACTOR,
        )
    assert error.value.errors == {
        "pricing.percent": "Enter a number of at most 100.",
        "payment.net_days": "Choose Net 15, 30, 45, 60 or 90.",
        "payment.early_discount_days": "Enter both the early-payment discount and its days, or neither.",
    }
    with pytest.raises(FormError) as missing:
        await save_benefits(group_id=shop.vip, sections={"pricing": {"type": "price_list"}}, actor=ACTOR)
    assert missing.value.errors == {"pricing.price_list_id": "Choose a price list."}
    assert (await effective_benefits(group_id=shop.vip)).pricing["type"].value == PricingType.PERCENTAGE
