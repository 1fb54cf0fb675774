"""Properties of the resolver, over generated group trees, pricing settings, memberships and carts.

- A price is never negative, and never above the base price.
- The most favourable price wins: the lowest of the base price and what each of the customer's
  active groups grants, worked out here from the generated settings, not read from the trace.
- A child group's own setting beats its parent's (an additional percent adds to the parent's).
- Removing a group never raises a price another group grants: the line costs at most what each
  remaining group (with its ancestors) grants, and if the group that left was not the lowest, the
  price does not change.

One database (the `db` fixture) serves every example; each example replaces the groups.
"""

import math
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from models.benefits import GroupBenefits
from models.catalog import Category, PriceList, PriceListItem, Product, VisibilityGroup
from models.customer import Customer
from models.group import CustomerGroup, GroupStatus, Membership
from services.benefits.pricing import CartLine, quote
from services.benefits.sections import PricingSettings, effective, load_groups

BASES = (0, 1, 999, 10_000, 123_457)  # base prices in cents, one product each
# The price list's tiers for products 0-2: (minimum quantity, share of the base price).
TIERS = ((1, Fraction(95, 100)), (10, Fraction(80, 100)), (100, Fraction(120, 100)))  # a tier may cost more


@pytest.fixture
async def catalog(db) -> dict:
    tools = await Category.create(name="Tools")
    toys = await Category.create(name="Toys")
    standard = await VisibilityGroup.create(name="Standard Products", is_standard=True)
    products = []
    for i, base in enumerate(BASES):
        category = tools if i % 2 else toys
        products.append(
            await Product.create(
                sku=f"P-{i}", name=f"Product {i}", category=category, visibility_group=standard, base_price_cents=base
            )
        )
    price_list = await PriceList.create(name="Trade")
    for product in products[:3]:
        for minimum, share in TIERS:
            await PriceListItem.create(
                price_list=price_list,
                product=product,
                min_quantity=minimum,
                price_cents=int(product.base_price_cents * share),
            )
    customer = await Customer.create(name="Anna", email="anna@example.com", created_at=datetime(2024, 1, 1, tzinfo=UTC))
    return {
        "products": [p.id for p in products],
        "tools": tools.id,
        "price_list": price_list.id,
        "customer": customer.id,
    }


def pricing(catalog: dict) -> st.SearchStrategy[dict]:
    percent = st.sampled_from([5, 12.5, 15, 99.99, 100])
    kinds = st.one_of(
        st.just({}),
        st.just({"type": "none"}),
        st.builds(lambda p: {"type": "percentage", "percent": p}, percent),
        st.builds(lambda p: {"additional_percent": p}, st.sampled_from([5, 50])),
        st.builds(lambda f: {"type": "fixed", "fixed_cents": f}, st.sampled_from([1, 500, 200_000])),
        st.just({"type": "price_list", "price_list_id": catalog["price_list"]}),
    )
    scopes = st.sampled_from(
        [
            {},
            {"scope": "all"},
            {"scope": "categories", "category_ids": [catalog["tools"]]},
            {"scope": "products", "product_ids": catalog["products"][:2]},
        ]
    )
    minimums = st.sampled_from([{}, {"min_order_cents": 0}, {"min_order_cents": 50_000}, {"min_order_quantity": 20}])
    return st.builds(lambda k, s, m, i: {**k, **s, **m, "inherit": i}, kinds, scopes, minimums, st.booleans())


@st.composite
def shops(draw, catalog: dict):
    count = draw(st.integers(1, 5))
    parents = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, count)]
    sections = [draw(pricing(catalog)) for _ in range(count)]
    active = [draw(st.booleans()) or i == 0 for i in range(count)]
    member_of = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=count, unique=True))
    cart = draw(
        st.lists(
            st.tuples(st.sampled_from(catalog["products"]), st.sampled_from([1, 9, 10, 100, 250])),
            min_size=1,
            max_size=4,
        )
    )
    return parents, sections, active, member_of, cart


async def _build(catalog: dict, parents, sections, active, member_of) -> list[int]:
    await Membership.all().delete()
    await GroupBenefits.all().delete()
    await CustomerGroup.all().delete()
    ids: list[int] = []
    for i, parent in enumerate(parents):
        group = await CustomerGroup.create(
            name=f"Group {i}",
            name_key=f"group {i}",
            code=f"G{i}",
            parent_id=ids[parent] if parent is not None else None,
            status=GroupStatus.ACTIVE if active[i] else GroupStatus.INACTIVE,
        )
        ids.append(group.id)
        PricingSettings.model_validate(sections[i])  # the generated settings are ones an owner could save
        await GroupBenefits.create(group_id=group.id, pricing=sections[i])
    for position, i in enumerate(member_of):
        await Membership.create(
            customer_id=catalog["customer"], group_id=ids[i], is_primary=position == 0, since=datetime.now(UTC)
        )
    return ids


# --- The rules, worked out again from the generated settings ----------------------------------
# Nothing below asks the resolver: each group's pricing after inheritance and the price it grants a
# line come from the test's own data (BASES, TIERS, the drawn settings), by the rules in DESIGN.md.

NOTHING = {"type": "none", "scope": "all", "min_order_cents": 0, "min_order_quantity": 0}


def group_pricing(i: int, parents: list, sections: list[dict]) -> dict:
    """Group i's pricing after inheritance: from its top ancestor down, each group's own settings
    replace what came before; one that does not inherit starts again from nothing; an additional
    percent adds to the percent above it (and makes "no pricing" a percentage)."""
    line = []
    while i is not None:
        line.append(i)
        i = parents[i]
    pricing = dict(NOTHING)
    for position, j in enumerate(reversed(line)):
        own = sections[j]
        if position and not own["inherit"]:
            pricing = dict(NOTHING)
        pricing.update({k: v for k, v in own.items() if k not in ("inherit", "additional_percent")})
        if "additional_percent" in own:
            pricing["percent"] = Decimal(str(pricing.get("percent") or 0)) + Decimal(str(own["additional_percent"]))
            if pricing["type"] == "none":
                pricing["type"] = "percentage"
    return pricing


def granted(pricing: dict, catalog: dict, product_id: int, quantity: int, cart: list) -> int | None:
    """The unit price a group with this pricing grants the line, or None when it grants none."""
    index = catalog["products"].index(product_id)
    base = BASES[index]
    in_tools = index % 2 == 1
    if pricing["type"] == "none":
        return None
    if pricing["scope"] == "categories" and not in_tools:
        return None
    if pricing["scope"] == "products" and product_id not in pricing["product_ids"]:
        return None
    cart_base = sum(BASES[catalog["products"].index(p)] * q for p, q in cart)
    cart_quantity = sum(q for _, q in cart)
    if cart_base < pricing["min_order_cents"] or cart_quantity < pricing["min_order_quantity"]:
        return None
    if pricing["type"] == "percentage":
        exact = base * (100 - Fraction(Decimal(str(pricing["percent"])))) / 100
        return max(0, math.floor(exact + Fraction(1, 2)))  # to the nearest cent, half up
    if pricing["type"] == "fixed":
        return max(0, base - pricing["fixed_cents"])
    if index >= 3:
        return None  # not on the price list
    _, share = max((tier for tier in TIERS if tier[0] <= quantity), key=lambda tier: tier[0])
    return int(base * share)


def grants(groups: list[int], drawn: tuple, catalog: dict, product_id: int, quantity: int) -> dict[int, int]:
    """What each of `groups` (active ones: an inactive group gives nothing) grants the line."""
    parents, sections, active, _, cart = drawn
    found = {}
    for i in groups:
        price = granted(group_pricing(i, parents, sections), catalog, product_id, quantity, cart) if active[i] else None
        if price is not None:
            found[i] = price
    return found


settings_for_db = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings_for_db
@given(data=st.data())
async def test_prices_are_never_negative_and_the_most_favourable_wins(catalog, data):
    drawn = data.draw(shops(catalog))
    parents, sections, active, member_of, cart = drawn
    await _build(catalog, parents, sections, active, member_of)
    result = await quote(customer_id=catalog["customer"], lines=[CartLine(product_id=p, quantity=q) for p, q in cart])
    for line, (product_id, quantity) in zip(result.lines, cart, strict=True):
        note(f"{line.name} x{line.quantity}: {[(c.source, c.unit_cents, c.verdict) for c in line.candidates]}")
        base = BASES[catalog["products"].index(product_id)]
        offers = grants(member_of, drawn, catalog, product_id, quantity)
        note(f"worked out: base {base}, groups {offers}")
        assert line.base_unit_cents == base
        assert line.unit_cents == min([base, *offers.values()])
        assert 0 <= line.unit_cents <= base
        assert sum(c.won for c in line.candidates) == 1
        assert line.total_cents == line.unit_cents * quantity
    assert result.total_cents == sum(line.total_cents for line in result.lines)


@settings_for_db
@given(data=st.data())
async def test_removing_a_group_never_raises_a_price_another_group_grants(catalog, data):
    drawn = data.draw(shops(catalog))
    parents, sections, active, member_of, cart = drawn
    ids = await _build(catalog, parents, sections, active, member_of)
    lines = [CartLine(product_id=p, quantity=q) for p, q in cart]
    before = await quote(customer_id=catalog["customer"], lines=lines)
    for position, leaving in enumerate(member_of):
        await Membership.filter(customer_id=catalog["customer"], group_id=ids[leaving]).delete()
        after = await quote(customer_id=catalog["customer"], lines=lines)
        staying = [i for i in member_of if i != leaving]
        for was, now, (product_id, quantity) in zip(before.lines, after.lines, cart, strict=True):
            base = BASES[catalog["products"].index(product_id)]
            rest = grants(staying, drawn, catalog, product_id, quantity)
            gone = grants([leaving], drawn, catalog, product_id, quantity).get(leaving)
            note(f"without group {leaving}: {now.name} x{quantity} {was.unit_cents} -> {now.unit_cents}; rest {rest}")
            # Every remaining group (with its ancestors) still grants its price; never below zero.
            assert 0 <= now.unit_cents <= base
            for price in rest.values():
                assert now.unit_cents <= price
            # The group that left was not the (only) lowest: nothing changes.
            if gone is None or gone >= min([base, *rest.values()]):
                assert now.unit_cents == was.unit_cents
        await Membership.create(
            customer_id=catalog["customer"], group_id=ids[leaving], is_primary=position == 0, since=datetime.now(UTC)
        )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_a_child_group_setting_beats_its_parent(catalog, data):
    parents, sections, active, member_of, _ = data.draw(shops(catalog))
    ids = await _build(catalog, parents, sections, active, member_of)
    groups = await load_groups()
    for i, own in enumerate(sections):
        result = effective(ids[i], groups).pricing
        parent = parents[i]
        if own.get("type") is not None:
            assert result["type"].value == own["type"] and result["type"].group_id == ids[i]
        if "percent" in own and "additional_percent" not in own:
            assert result["percent"].value == own["percent"]
        if "additional_percent" in own:
            inherited = (
                effective(ids[parent], groups).pricing["percent"].value
                if parent is not None and own["inherit"]
                else None
            )
            assert result["percent"].value == pytest.approx((inherited or 0) + own["additional_percent"])
        if parent is not None and own["inherit"] and "scope" not in own:
            # Not set here: the parent's scope stands.
            assert result["scope"].value == effective(ids[parent], groups).pricing["scope"].value
