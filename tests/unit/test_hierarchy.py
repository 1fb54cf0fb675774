"""The group hierarchy: the tree, moving groups, inheritance switches and the effective settings
table, with the VIP / VIP Platinum example on a real database."""

from dataclasses import dataclass

import pytest

from models.group import CustomerGroup
from services.benefits.hierarchy import effective_table, group_tree, inheritance_view, move_group, set_inheritance, walk
from services.benefits.sections import effective_benefits, get_benefits
from services.errors import FormError
from services.groups.group import create_group
from tests.seed_vip import ACTOR, seed_vip


@dataclass
class Shop:
    retail: int
    vip: int
    platinum: int
    wholesale: int


async def _group(name: str, code: str, parent: int | None = None) -> int:
    return (await create_group(data={"name": name, "code": code, "parent_id": parent}, actor=ACTOR)).id


@pytest.fixture
async def shop(db) -> Shop:
    """As in the demo shop: VIP Customers gives 15%, Net 30, $100,000 credit and 2/10 early payment;
    VIP Platinum under it adds 5% and overrides credit ($250,000) and terms (Net 45)."""
    retail = await _group("Retail", "RETAIL")
    await CustomerGroup.filter(id=retail).update(is_default=True)
    seed = await seed_vip()
    wholesale = await _group("Wholesale", "WHOLESALE")
    return Shop(retail, seed.vip, seed.platinum, wholesale)


def _row(rows, label: str):
    return next(row for row in rows if row.label == label)


async def test_the_tree_puts_the_default_group_first_and_children_under_their_parents(shop: Shop):
    tree = await group_tree()
    assert [(node.name, depth) for node, depth in walk(tree)] == [
        ("Retail", 0),
        ("VIP Customers", 0),
        ("VIP Platinum", 1),
        ("Wholesale", 0),
    ]
    assert tree[0].is_default
    platinum = tree[1].children[0]
    assert platinum.inherits == {"pricing": True, "payment": True, "visibility": True, "portal": True}
    assert tree[1].inherits == {}  # a top-level group inherits nothing


async def test_moving_a_group_under_another_and_back_to_the_top(shop: Shop):
    await move_group(group_id=shop.wholesale, parent_id=shop.retail, actor=ACTOR)
    tree = await group_tree()
    assert [child.name for child in tree[0].children] == ["Wholesale"]
    await move_group(group_id=shop.wholesale, parent_id=None, actor=ACTOR)
    assert [node.name for node in await group_tree()] == ["Retail", "VIP Customers", "Wholesale"]


async def test_a_move_under_its_own_subgroup_is_refused(shop: Shop):
    with pytest.raises(FormError) as refused:
        await move_group(group_id=shop.vip, parent_id=shop.platinum, actor=ACTOR)
    assert refused.value.errors["parent_id"] == "A group cannot sit under itself or one of its own subgroups."
    with pytest.raises(FormError):
        await move_group(group_id=shop.vip, parent_id=shop.vip, actor=ACTOR)
    assert (await CustomerGroup.get(id=shop.vip)).parent_id is None


async def test_the_effective_table_says_where_each_setting_comes_from(shop: Shop):
    rows = await effective_table(group_id=shop.platinum)
    discount = _row(rows, "Discount")
    assert (discount.value, discount.note) == ("20%", "15% from VIP Customers + 5% here")
    assert discount.sentence == "Discount: 20% (15% from VIP Customers + 5% here) — inherited + added here"
    assert _row(rows, "Pricing method").source == "inherited from VIP Customers"
    credit = _row(rows, "Credit limit")
    assert (credit.value, credit.source, credit.note) == ("$250,000", "overridden here", "VIP Customers: $100,000")
    terms = _row(rows, "Payment terms")
    assert (terms.value, terms.source) == ("Net 45", "overridden here")
    early = _row(rows, "Early payment discount")
    assert early.sentence == "Early payment discount: 2/10 (2% if paid within 10 days) — inherited from VIP Customers"
    assert _row(rows, "Visibility groups").value == "VIP Exclusive + Standard products"
    assert _row(rows, "Portal login").source == "default"
    assert {row.section for row in rows} == {"pricing", "payment", "visibility", "portal"}

    view = await inheritance_view(group_id=shop.platinum)
    assert view.chain == ("VIP Customers", "VIP Platinum")
    assert view.parent_name == "VIP Customers"
    assert [o.text for o in view.overrides] == [
        "Pricing: Additional 5% (total 20%)",
        "Payment terms: Net 45 (vs Net 30)",
        "Credit limit: $250,000 (vs $100,000)",
    ]

    vip = await effective_table(group_id=shop.vip)
    assert _row(vip, "Credit limit").source == "set here"


async def test_turning_inheritance_off_falls_back_to_the_defaults(shop: Shop):
    await set_inheritance(group_id=shop.platinum, section="payment", inherit=False, actor=ACTOR)
    own = (await get_benefits(group_id=shop.platinum)).payment
    assert (own.inherit, own.net_days, own.credit_limit_cents) == (False, 45, 25_000_000)  # its own settings stay
    platinum = await effective_benefits(group_id=shop.platinum)
    assert platinum.payment["early_discount_percent"].origin == "default"
    assert platinum.payment["early_discount_percent"].value is None
    rows = await effective_table(group_id=shop.platinum)
    early = _row(rows, "Early payment discount")
    assert (early.value, early.source) == ("None", "default")
    assert early.note == "not inherited: VIP Customers gives 2/10 (2% if paid within 10 days)"
    assert _row(rows, "Credit limit").source == "set here"  # nothing inherited to override any more
    assert _row(rows, "Discount").value == "20%"  # other sections still inherit
    tree = await group_tree()
    assert tree[1].children[0].inherits["payment"] is False

    await set_inheritance(group_id=shop.platinum, section="payment", inherit=True, actor=ACTOR)
    assert _row(await effective_table(group_id=shop.platinum), "Early payment discount").value.startswith("2/10")


async def test_a_top_level_group_cannot_stop_inheriting(shop: Shop):
    with pytest.raises(FormError) as refused:
        await set_inheritance(group_id=shop.vip, section="pricing", inherit=False, actor=ACTOR)
    assert "no parent" in refused.value.errors["pricing.inherit"]
