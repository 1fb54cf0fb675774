"""The "Why isn't this customer getting the discount?" checklist on a small shop: each check
failing in turn, and the verdict when everything passes."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from models.group import CustomerGroup, GroupStatus
from services.benefits.price_check import benefits_summary
from services.benefits.sections import save_benefits
from services.benefits.troubleshoot import (
    GROUP_ASSIGNMENT,
    GROUP_STATUS,
    MINIMUM_ORDER,
    ORDER_DATE,
    PRICING_SCOPE,
    PRODUCT_EXCLUSIONS,
    Check,
    Checklist,
    why_no_discount,
)
from services.errors import NotFoundError
from services.groups.group import create_group
from services.promotions import create_promotion
from tests.seed_vip import ACTOR, new_customer, vip_catalog

ORDER = [GROUP_ASSIGNMENT, GROUP_STATUS, PRICING_SCOPE, PRODUCT_EXCLUSIONS, ORDER_DATE, MINIMUM_ORDER]


@dataclass
class Shop:
    vip: int  # 15% on everything, shows VIP Exclusive Products
    platinum: int  # child of VIP: additional 5%
    toys_club: int  # 10% on Toys only
    wholesale: int  # 30% with a $500 minimum order
    retail: int  # no special pricing
    widget: int  # $100.00, Tools, standard
    gadget: int  # $40.00, Toys, VIP exclusive


@pytest.fixture
async def shop(db) -> Shop:
    catalog = await vip_catalog()  # only the catalog: here VIP Platinum, not VIP, has the early payment discount

    async def group(name: str, code: str, parent: int | None = None) -> int:
        return (await create_group(data={"name": name, "code": code, "parent_id": parent}, actor=ACTOR)).id

    vip = await group("VIP Customers", "VIP")
    platinum = await group("VIP Platinum", "PLAT", vip)
    toys_club = await group("Toys Club", "TOYS")
    wholesale = await group("Wholesale", "WHOLESALE")
    retail = await group("Retail", "RETAIL")
    benefits = {
        vip: {
            "pricing": {"type": "percentage", "percent": 15, "scope": "all"},
            "visibility": {"mode": "groups", "visibility_group_ids": [catalog.exclusive]},
            "payment": {"net_days": 30, "credit_limit_cents": 10_000_000},
        },
        platinum: {
            "pricing": {"additional_percent": 5},
            "payment": {
                "net_days": 45,
                "credit_limit_cents": 25_000_000,
                "early_discount_percent": 2,
                "early_discount_days": 10,
            },
        },
        toys_club: {
            "pricing": {"type": "percentage", "percent": 10, "scope": "categories", "category_ids": [catalog.toys]}
        },
        wholesale: {"pricing": {"type": "percentage", "percent": 30, "min_order_cents": 50_000}},
    }
    for group_id, sections in benefits.items():
        await save_benefits(group_id=group_id, sections=sections, actor=ACTOR)
    return Shop(vip, platinum, toys_club, wholesale, retail, catalog.widget, catalog.gadget)


def outcome(checklist: Checklist) -> list[tuple[str, bool | None]]:
    return [(step.name, step.passed) for step in checklist.steps]


async def test_everything_passes_and_the_verdict_names_the_price_and_the_group(shop: Shop):
    anna = await new_customer("Anna", shop.platinum)
    checklist = await why_no_discount(customer_id=anna, product_id=shop.widget)
    assert [name for name, _ in outcome(checklist)] == ORDER
    assert [passed for _, passed in outcome(checklist)] == [True, True, True, True, None, True]
    assert checklist.first_failure is None
    assert checklist.steps[0].text == "Anna is in VIP Platinum (primary). Special pricing from VIP Platinum."
    assert checklist.steps[2].text == ("VIP Platinum: 20% discount on all products (15% from VIP Customers + 5% here).")
    assert checklist.steps[4].text == "No active promotion reaches this customer's groups, so no dates to check."
    assert checklist.verdict == (
        "Every check passes: Anna gets Widget at $80.00 instead of $100.00, from VIP Platinum (20% discount)."
    )
    assert checklist.price.winner.note == "15% from VIP Customers + 5% here"


async def test_a_customer_in_no_group_fails_the_group_assignment(shop: Shop):
    ben = await new_customer("Ben")
    checklist = await why_no_discount(customer_id=ben, product_id=shop.widget)
    assert outcome(checklist) == [
        (GROUP_ASSIGNMENT, False),
        (GROUP_STATUS, None),
        (PRICING_SCOPE, None),
        (PRODUCT_EXCLUSIONS, True),  # a standard product: everyone sees it
        (ORDER_DATE, None),
        (MINIMUM_ORDER, None),
    ]
    assert checklist.verdict == "Group assignment is the problem: Ben is not in any group, so they pay base prices."


async def test_a_group_without_pricing_fails_the_group_assignment_too(shop: Shop):
    cleo = await new_customer("Cleo", shop.retail)
    checklist = await why_no_discount(customer_id=cleo, product_id=shop.widget)
    assert checklist.first_failure.name == GROUP_ASSIGNMENT
    assert (
        checklist.first_failure.text == "Cleo is in Retail (primary), but none of these groups gives special pricing."
    )


async def test_an_inactive_group_fails_the_group_status(shop: Shop):
    dev = await new_customer("Dev", shop.vip)
    await CustomerGroup.filter(id=shop.vip).update(status=GroupStatus.INACTIVE)
    checklist = await why_no_discount(customer_id=dev, product_id=shop.widget)
    assert outcome(checklist)[:3] == [(GROUP_ASSIGNMENT, True), (GROUP_STATUS, False), (PRICING_SCOPE, None)]
    assert checklist.verdict == (
        "Group status is the problem: VIP Customers is inactive, so their pricing does not apply. "
        "Activate the group to restore it."
    )
    assert checklist.price.unit_cents == 10_000


async def test_a_product_outside_the_groups_pricing_scope_fails_the_scope_check(shop: Shop):
    eve = await new_customer("Eve", shop.toys_club)
    checklist = await why_no_discount(customer_id=eve, product_id=shop.widget)
    assert checklist.first_failure.name == PRICING_SCOPE
    assert checklist.first_failure.text == (
        "No group's pricing covers Widget: Toys Club's pricing covers Toys only; Widget is in Tools."
    )
    assert outcome(checklist)[-1] == (MINIMUM_ORDER, None)


async def test_a_product_the_customer_may_not_see_fails_the_exclusions_check(shop: Shop):
    finn = await new_customer("Finn", shop.toys_club)
    checklist = await why_no_discount(customer_id=finn, product_id=shop.gadget)
    assert outcome(checklist)[:4] == [
        (GROUP_ASSIGNMENT, True),
        (GROUP_STATUS, True),
        (PRICING_SCOPE, True),
        (PRODUCT_EXCLUSIONS, False),
    ]
    assert checklist.verdict.startswith(
        "Product exclusions is the problem: Gadget is in VIP Exclusive Products, which none of Finn's groups shows"
    )


async def test_a_line_below_the_minimum_order_fails_the_minimum_check_until_it_reaches_it(shop: Shop):
    gus = await new_customer("Gus", shop.wholesale)
    small = await why_no_discount(customer_id=gus, product_id=shop.widget, quantity=2)
    assert small.first_failure.name == MINIMUM_ORDER
    assert small.first_failure.text == (
        "Wholesale needs a minimum order of $500.00, and 2 × Widget at base price comes to $200.00."
    )
    assert small.price.unit_cents == 10_000
    big = await why_no_discount(customer_id=gus, product_id=shop.widget, quantity=5)
    assert big.first_failure is None
    assert big.price.unit_cents == 7_000


async def test_an_unknown_customer_or_product_is_reported(shop: Shop):
    with pytest.raises(NotFoundError):
        await why_no_discount(customer_id=999, product_id=shop.widget)
    anna = await new_customer("Anna", shop.platinum)
    with pytest.raises(NotFoundError):
        await why_no_discount(customer_id=anna, product_id=999)


async def test_a_customers_benefits_in_words(shop: Shop):
    hana = await new_customer("Hana", shop.platinum, shop.toys_club)
    summary = await benefits_summary(customer_id=hana)
    assert summary.groups == ("VIP Platinum", "Toys Club")
    assert [(p.group_name, p.is_primary, p.text) for p in summary.pricing] == [
        ("VIP Platinum", True, "20% discount on all products (15% from VIP Customers + 5% here)"),
        ("Toys Club", False, "10% discount on Toys"),
    ]
    assert summary.visibility == "VIP Exclusive + Standard products"
    assert summary.payment_group == "VIP Platinum"
    assert dict(summary.payment) == {
        "Payment terms": "Net 45",
        "Credit limit": "$250,000",
        "Early payment discount": "2/10 (2% if paid within 10 days)",
        "Payment methods": "Credit Card",
    }


# --- Order date vs promotion: the VIP Spring Sale (10% additional, minimum $500, March 2026) ---------


def spring_sale(*targets: int, **changes) -> dict:
    return {
        "name": "VIP Spring Sale",
        "type": "additional_discount",
        "status": "active",
        "target_group_ids": list(targets),
        "percent": 10,
        "minimum_purchase_cents": 50_000,
        "valid_from": date(2026, 3, 1),
        "valid_to": date(2026, 3, 31),
        "stack_with_group_discount": True,
        **changes,
    }


async def test_in_march_the_spring_sale_is_valid_and_the_verdict_names_the_stacked_price(shop: Shop):
    ada = await new_customer("Ada", shop.vip)
    await create_promotion(data=spring_sale(shop.vip), actor=ACTOR)
    checklist = await why_no_discount(customer_id=ada, product_id=shop.widget, quantity=6, at=date(2026, 3, 15))
    assert [name for name, _ in outcome(checklist)] == ORDER
    assert checklist.first_failure is None
    assert checklist.steps[4] == Check(
        ORDER_DATE, True, "VIP Spring Sale is valid on March 15, 2026 (runs March 1 - 31, 2026)."
    )
    assert checklist.price.unit_cents == 7_650
    assert checklist.verdict == (
        "Every check passes: Ada gets Widget at $76.50 instead of $100.00, "
        "from VIP Customers (15% discount + 10% VIP Spring Sale)."
    )


async def test_outside_its_dates_the_promotion_is_explained_and_the_group_price_still_applies(shop: Shop):
    ada = await new_customer("Ada", shop.vip)
    await create_promotion(data=spring_sale(shop.vip), actor=ACTOR)
    for day in (date(2026, 4, 15), datetime(2026, 2, 28, 23, 30, tzinfo=UTC)):
        checklist = await why_no_discount(customer_id=ada, product_id=shop.widget, quantity=6, at=day)
        assert outcome(checklist) == [
            (GROUP_ASSIGNMENT, True),
            (GROUP_STATUS, True),
            (PRICING_SCOPE, True),
            (PRODUCT_EXCLUSIONS, True),
            (ORDER_DATE, None),  # a sale that is over is no problem for VIP's own 15%
            (MINIMUM_ORDER, True),
        ]
        assert checklist.price.unit_cents == 8_500
    assert checklist.steps[4].text == (
        "VIP Spring Sale is not valid on February 28, 2026 (runs March 1 - 31, 2026). "
        "Without a promotion, Ada gets Widget at $85.00 from VIP Customers (15% discount)."
    )
    assert checklist.verdict.startswith("Every check passes: Ada gets Widget at $85.00")


async def test_a_promotion_out_of_its_dates_is_the_problem_when_nothing_else_gives_a_discount(shop: Shop):
    gus = await new_customer("Gus", shop.wholesale)  # 30%, but only from $500
    await create_promotion(
        data=spring_sale(shop.wholesale, name="Wholesale Week", minimum_purchase_cents=0), actor=ACTOR
    )
    in_march = await why_no_discount(customer_id=gus, product_id=shop.widget, quantity=2, at=date(2026, 3, 3))
    assert outcome(in_march)[4:] == [(ORDER_DATE, True), (MINIMUM_ORDER, False)]
    assert in_march.price.unit_cents == 9_000  # the promotion alone: Wholesale's minimum is not met
    in_april = await why_no_discount(customer_id=gus, product_id=shop.widget, quantity=2, at=date(2026, 4, 1))
    assert outcome(in_april)[4:] == [(ORDER_DATE, False), (MINIMUM_ORDER, False)]
    assert in_april.verdict == (
        "Order date vs promotion is the problem: Wholesale Week is not valid on April 1, 2026 "
        "(runs March 1 - 31, 2026). So Gus pays the base price of $100.00."
    )


async def test_a_line_below_the_promotions_minimum_purchase_is_explained(shop: Shop):
    ada = await new_customer("Ada", shop.vip)
    await create_promotion(data=spring_sale(shop.vip), actor=ACTOR)
    checklist = await why_no_discount(customer_id=ada, product_id=shop.widget, quantity=2, at=date(2026, 3, 15))
    assert checklist.steps[4] == Check(
        ORDER_DATE,
        None,
        "VIP Spring Sale needs a minimum purchase of $500.00, and 2 × Widget at base price comes to $200.00. "
        "Without a promotion, Ada gets Widget at $85.00 from VIP Customers (15% discount).",
    )
    assert checklist.first_failure is None


async def test_one_valid_promotion_is_enough_and_the_others_are_still_explained(shop: Shop):
    pia = await new_customer("Pia", shop.platinum)  # reached through VIP, Platinum's parent
    await create_promotion(data=spring_sale(shop.vip), actor=ACTOR)
    await create_promotion(
        data=spring_sale(
            shop.vip,
            name="Easter Free Shipping",
            type="free_shipping",
            minimum_purchase_cents=0,
            valid_from=date(2026, 4, 1),
            valid_to=date(2026, 4, 12),
        ),
        actor=ACTOR,
    )
    checklist = await why_no_discount(customer_id=pia, product_id=shop.widget, quantity=6, at=date(2026, 4, 5))
    assert checklist.steps[4].passed is True
    assert checklist.steps[4].text == (
        "Easter Free Shipping is valid on April 5, 2026 (runs April 1 - 12, 2026); "
        "VIP Spring Sale is not valid on April 5, 2026 (runs March 1 - 31, 2026)."
    )
    assert checklist.first_failure is None


async def test_drafts_and_promotions_for_other_groups_do_not_reach_the_customer(shop: Shop):
    ada = await new_customer("Ada", shop.vip)
    await create_promotion(data=spring_sale(shop.vip, status="draft"), actor=ACTOR)
    await create_promotion(data=spring_sale(shop.wholesale, name="Wholesale Week"), actor=ACTOR)
    checklist = await why_no_discount(customer_id=ada, product_id=shop.widget, quantity=6, at=date(2026, 3, 15))
    assert outcome(checklist)[4] == (ORDER_DATE, None)
    assert checklist.price.unit_cents == 8_500
