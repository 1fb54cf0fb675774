"""The benefits in the shop's words: the VIP summary, VIP Platinum's inherited and overridden
settings, and the overview's short texts, on a real database."""

import pytest

from models.catalog import PriceList
from models.shop import Shop
from services.benefits.hierarchy import effective_table
from services.benefits.price_check import payment_terms
from services.benefits.sections import check_benefits, get_benefits, save_benefits
from services.benefits.summary import catalog_names, describe, group_summary, overview_summaries
from services.errors import FormError
from services.groups.group import create_group, list_groups
from tests.seed_vip import ACTOR, seed_vip


@pytest.fixture
async def shop(db) -> dict[str, int]:
    seed = await seed_vip()
    wholesale_list = await PriceList.create(name="Wholesale")
    wholesale = (await create_group(data={"name": "Wholesale", "code": "WHOLESALE"}, actor=ACTOR)).id
    retail = (await create_group(data={"name": "Retail", "code": "RETAIL"}, actor=ACTOR)).id
    await save_benefits(
        group_id=wholesale,
        sections={
            "pricing": {
                "type": "price_list",
                "price_list_id": wholesale_list.id,
                "scope": "categories",
                "category_ids": [seed.catalog.tools],
                "min_order_cents": 50_000,
            }
        },
        actor=ACTOR,
    )
    return {"vip": seed.vip, "platinum": seed.platinum, "wholesale": wholesale, "retail": retail}


async def test_the_vip_summary_reads_like_seed_003(shop):
    _, summary = await group_summary(group_id=shop["vip"])
    assert summary.pricing == "15% discount on all products"
    assert summary.visibility == "VIP Exclusive + Standard products"
    assert summary.payment_terms == "Net 30"
    assert summary.credit_limit == "$100,000"
    assert summary.early_pay == "2/10"


async def test_vip_platinum_adds_5_percent_and_keeps_vip_visibility(shop):
    _, summary = await group_summary(group_id=shop["platinum"])
    assert summary.pricing == "20% discount on all products"
    assert summary.pricing_note == "15% from VIP Customers + 5% here"
    assert summary.visibility == "VIP Exclusive + Standard products"
    assert (summary.payment_terms, summary.credit_limit, summary.early_pay) == ("Net 45", "$250,000", "2/10")


async def test_a_euro_shop_reads_its_amounts_in_euros(shop):
    await Shop.create(name="Nordwind", currency="EUR")
    _, platinum = await group_summary(group_id=shop["platinum"])
    _, wholesale = await group_summary(group_id=shop["wholesale"])
    assert (platinum.credit_limit, wholesale.minimum_order) == ("€250,000", "Minimum order €500")


async def test_the_review_says_where_each_setting_comes_from(shop):
    benefits, _ = await group_summary(group_id=shop["platinum"])
    sections = {
        s.section: {line.label: (line.value, line.source) for line in s.lines}
        for s in describe(benefits, await catalog_names())
    }
    assert sections["pricing"]["Pricing method"] == ("Percentage discount", "inherited from VIP Customers")
    assert sections["pricing"]["Discount"] == ("20% (15% from VIP Customers + 5% here)", "set here")
    assert sections["payment"]["Credit limit"] == ("$250,000", "set here")
    assert sections["payment"]["Early payment discount"] == (
        "2/10 (2% if paid within 10 days)",
        "inherited from VIP Customers",
    )
    assert sections["portal"]["Shop access"] == ("Full", "default")


async def test_a_setting_reads_the_same_on_the_review_the_hierarchy_page_and_the_price_check(shop):
    benefits, _ = await group_summary(group_id=shop["platinum"])
    names = await catalog_names()
    review = {(s.section, line.label): line.value for s in describe(benefits, names) for line in s.lines}
    table = {(row.section, row.label): row.value for row in await effective_table(group_id=shop["platinum"])}
    assert review[("pricing", "Discount")] == "20% (15% from VIP Customers + 5% here)"  # the value and its note
    assert table[("pricing", "Discount")] == "20%"
    del review[("pricing", "Discount")]
    assert review == {key: table[key] for key in review}
    card = {("payment", label): value for label, value in payment_terms(benefits, names)}
    assert card == {key: table[key] for key in card}
    assert card[("payment", "Payment terms")] == "Net 45"


async def test_the_overview_shows_short_texts_for_every_group(shop):
    short = await overview_summaries()
    assert short[shop["vip"]] == ("15% off", "VIP Exclusive + Standard")
    assert short[shop["platinum"]] == ("20% off", "VIP Exclusive + Standard")
    assert short[shop["wholesale"]] == ("Price list: Wholesale (Tools)", "Standard")
    assert short[shop["retail"]] == ("Standard", "Standard")
    rows = {row.name: (row.pricing, row.visibility) for row in (await list_groups()).rows}
    assert rows["VIP Customers"] == ("15% off", "VIP Exclusive + Standard")


async def test_checking_benefits_reports_every_problem_and_writes_nothing(shop):
    with pytest.raises(FormError) as raised:
        await check_benefits(
            sections={
                "pricing": {"type": "percentage", "percent": 150},
                "payment": {"early_discount_percent": 2},
                "visibility": {"mode": "groups", "visibility_group_ids": [999]},
            }
        )
    assert set(raised.value.errors) == {
        "pricing.percent",
        "payment.early_discount_days",
        "visibility.visibility_group_ids",
    }
    assert raised.value.errors["pricing.percent"] == "Enter a number of at most 100."
    assert (await get_benefits(group_id=shop["retail"])).pricing.type is None
