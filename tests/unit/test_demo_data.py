"""The demo shop's data and what is drawn from it, without a database: the groups, rules,
benefits, promotions and catalog hold together, and the drawn customers are the groups' members."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from models.group import GroupType, MembershipAction, MembershipSource
from services.benefits.sections import SECTIONS, parse_section
from services.demo.data import (
    BENEFITS,
    CATALOG,
    CATALOG_SIZE,
    GROUPS,
    NAMED_CUSTOMERS,
    PLATINUM_MEMBERS,
    PRICE_LISTS,
    VISIBILITY_GROUPS,
    VISIBILITY_SIZES,
    promotions,
)
from services.demo.drawing import DrawnCustomer, demo_catalog, draw_shop
from services.rules.explainer import CustomerFacts, evaluate
from services.rules.model import parse_rule, rule_json

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
KEYS = {spec.key for spec in GROUPS}


def test_every_group_has_its_own_key_name_and_code_whatever_the_letter_case():
    for values in ([s.key for s in GROUPS], [s.name.casefold() for s in GROUPS], [s.code.casefold() for s in GROUPS]):
        assert len(set(values)) == len(GROUPS), values


def test_every_parent_is_a_group_seeded_before_its_children_and_retail_is_the_only_default():
    seen: set[str] = set()
    for spec in GROUPS:
        assert spec.parent is None or spec.parent in seen, spec.key
        seen.add(spec.key)
    assert [spec.name for spec in GROUPS if spec.is_default] == ["Retail"]


def test_every_rule_parses_and_only_rule_groups_have_one():
    for spec in GROUPS:
        assert (spec.rule is None) == (spec.type == GroupType.MANUAL), spec.key
        if spec.rule is not None:
            assert rule_json(parse_rule(spec.rule)) == spec.rule, spec.key


def test_every_benefit_section_is_valid_once_its_names_are_ids():
    lists = {name: number for number, name in enumerate(PRICE_LISTS, start=1)}
    visibility = {name: number for number, name in enumerate(VISIBILITY_GROUPS, start=1)}
    assert set(BENEFITS) <= KEYS
    for sections in BENEFITS.values():
        for name, section in sections.items():
            assert name in SECTIONS
            section = dict(section)
            if "price_list_id" in section:
                section["price_list_id"] = lists[section["price_list_id"]]
            if "visibility_group_ids" in section:
                section["visibility_group_ids"] = [visibility[v] for v in section["visibility_group_ids"]]
            parse_section(name, section)  # raises FormError on a bad setting


@pytest.mark.parametrize("today", [date(2026, 1, 31), date(2026, 3, 15), date(2024, 12, 31), date(2028, 2, 29)])
def test_the_promotions_target_demo_groups_and_run_forwards(today):
    skus = {product.sku for product in demo_catalog(2024)}
    found = promotions(today)
    assert [p["name"] for p in found] == ["VIP Spring Sale", "Wholesale Free Shipping", "Silver Coffee Bonus"]
    for promotion in found:
        assert set(promotion["target_groups"]) <= KEYS
        assert promotion["valid_from"] <= promotion["valid_to"]
        assert promotion.get("free_item", "BRK-001") in skus
    wholesale = found[1]
    assert wholesale["valid_from"] <= today <= wholesale["valid_to"], "the free shipping offer runs now"
    draft = found[2]
    assert draft["valid_from"] > today and draft["valid_from"].day == 1, "the draft is for next month"


def test_the_catalog_has_200_products_with_their_visibility_and_the_same_seed_draws_the_same():
    products = demo_catalog(7)
    assert len(products) == CATALOG_SIZE == len({p.sku for p in products})
    assert {p.category for p in products} == set(CATALOG)
    sizes = Counter(p.visibility for p in products)
    assert {name: sizes[name] for name in VISIBILITY_SIZES} == VISIBILITY_SIZES
    assert set(sizes) == set(VISIBILITY_GROUPS)
    assert all(p.is_pack for p in products if p.visibility == "Wholesale Only")
    assert demo_catalog(7) == products
    assert demo_catalog(8) != products


def _facts(position: int, customer: DrawnCustomer) -> CustomerFacts:
    return CustomerFacts(
        customer_id=position,
        name=customer.name,
        email=customer.email,
        company=customer.company,
        country=customer.country,
        status=customer.status,
        payment_rating=customer.payment_rating,
        created_at=customer.created_at,
        lifetime_cents=customer.lifetime_cents,
        order_count=customer.order_count,
        average_order_cents=customer.average_order_cents,
        first_order_at=customer.first_order_at,
        last_order_at=customer.last_order_at,
        tags=frozenset(customer.tags),
    )


def test_the_drawn_customers_are_their_rule_groups_matches():
    shop = draw_shop(customers=1200, orders=None, seed=3, now=NOW)
    members: dict[str, set[int]] = {key: set() for key in KEYS}
    manual: dict[str, set[int]] = {key: set() for key in KEYS}
    for m in shop.memberships:
        members[m.group].add(m.customer)
        if m.source == MembershipSource.MANUAL:
            manual[m.group].add(m.customer)
    for spec in GROUPS:
        if spec.rule is None:
            continue
        rule = parse_rule(spec.rule)
        matches = {i for i, c in enumerate(shop.customers) if evaluate(rule, _facts(i, c), now=NOW).passed}
        assert matches, spec.key
        # An automatic group holds exactly its matches; a hybrid one its matches plus those added by hand.
        assert matches == members[spec.key] - manual[spec.key], spec.key


def test_the_drawn_shop_is_shaped_like_the_demo_and_the_same_seed_and_day_draw_the_same():
    shop = draw_shop(customers=1200, orders=None, seed=1, now=NOW)
    sizes = Counter(m.group for m in shop.memberships)
    assert {spec.name: sizes[spec.key] for spec in GROUPS} == {
        "VIP Customers": 45,
        "Gold Tier": 89,
        "Silver Tier": 156,
        "Wholesale": 234,
        "Retail": 567,
        "New Customers": 78,
        "VIP Platinum": PLATINUM_MEMBERS,
        "Tiered Customers": 0,  # the ladder of Gold, Silver and Bronze has no members of its own
        "Bronze Tier": 198,  # Retail customers whose purchases fall in its band
    }
    assert [(c.name, c.lifetime_cents) for c in shop.customers[: len(NAMED_CUSTOMERS)]] == [
        (name, dollars * 100) for name, _, dollars, _ in NAMED_CUSTOMERS
    ]
    joins = Counter((e.customer, e.group) for e in shop.events if e.action == MembershipAction.JOINED)
    assert joins == Counter((m.customer, m.group) for m in shop.memberships), "one join for every member"
    completed = [o for o in shop.orders if o.status == "completed"]
    assert sum(o.total_cents for o in completed) == sum(c.lifetime_cents for c in shop.customers)
    assert draw_shop(customers=1200, orders=None, seed=1, now=NOW) == shop
