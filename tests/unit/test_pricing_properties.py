"""Properties of the resolver, over generated group trees, pricing settings, memberships and carts.

- A price is never negative, and never above the base price.
- The most favourable applicable candidate wins.
- A child group's own setting beats its parent's (an additional percent adds to the parent's).
- Removing a group never raises a price: any other group's grant still stands.

One database (the `db` fixture) serves every example; each example replaces the groups.
"""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from models.benefits import GroupBenefits
from models.catalog import Category, PriceList, PriceListItem, Product, VisibilityGroup
from models.customer import Customer
from models.group import CustomerGroup, GroupStatus, Membership
from services.benefits import PricingSettings, effective, load_groups
from services.pricing import CartLine, quote

BASES = (0, 1, 999, 10_000, 123_457)  # base prices in cents, one product each


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
        for minimum, share in ((1, 0.95), (10, 0.8), (100, 1.2)):  # a tier may even cost more
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


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_prices_are_never_negative_the_best_wins_and_more_groups_never_cost_more(catalog, data):
    parents, sections, active, member_of, cart = data.draw(shops(catalog))
    ids = await _build(catalog, parents, sections, active, member_of)
    lines = [CartLine(product_id=p, quantity=q) for p, q in cart]
    result = await quote(customer_id=catalog["customer"], lines=lines)
    for line in result.lines:
        note(f"{line.name} x{line.quantity}: {[(c.source, c.unit_cents, c.verdict) for c in line.candidates]}")
        assert 0 <= line.unit_cents <= line.base_unit_cents
        applicable = [c.unit_cents for c in line.candidates if c.unit_cents is not None]
        assert line.unit_cents == min(applicable)
        assert sum(c.won for c in line.candidates) == 1
    assert result.total_cents == sum(line.total_cents for line in result.lines)

    # Leaving any one group never makes a line dearer than the remaining groups price it ...
    for leaving in member_of:
        await Membership.filter(customer_id=catalog["customer"], group_id=ids[leaving]).delete()
        fewer = await quote(customer_id=catalog["customer"], lines=lines)
        for before, after in zip(result.lines, fewer.lines, strict=True):
            assert after.unit_cents >= before.unit_cents
        await Membership.create(customer_id=catalog["customer"], group_id=ids[leaving], since=datetime.now(UTC))


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
