"""Net margin in the comparison from the products' own costs where the orders' lines name them,
the 40% estimate for the rest, and a note that says which (on test_reports' hand-made shop: the
figures without costs are worked out there)."""

import pytest

from models.catalog import Category, Product, VisibilityGroup
from models.customer import Order, OrderLine
from services.reports import compare_groups, comparison_csv
from tests.unit.test_reports import MARCH, shop  # noqa: F401 (the shop is a fixture)


async def _catalog() -> dict[str, int]:
    furniture = await Category.create(name="Furniture")
    standard = await VisibilityGroup.create(name="Standard", is_standard=True)
    made = {}
    for sku, cost in (("CHAIR", 20_000), ("LAMP", None)):
        product = await Product.create(
            sku=sku,
            name=sku.title(),
            category=furniture,
            visibility_group=standard,
            base_price_cents=30_000,
            cost_cents=cost,
        )
        made[sku] = product.id
    return made


async def _lines(customer_id: int, total: int, *lines: tuple[str, int, int]) -> None:
    order = await Order.get(customer_id=customer_id, total_cents=total)
    for sku, quantity, price in lines:
        await OrderLine.create(order=order, sku=sku, quantity=quantity, price_cents=price)


async def test_without_product_costs_the_margin_is_the_estimate_and_the_page_says_so(shop):  # noqa: F811
    comparison = await compare_groups(group_ids=[shop["vip"], shop["gold"]], period=MARCH)
    assert comparison.rows[0].net_margin == pytest.approx(29_000 / 188_000)  # as test_reports works it out
    assert comparison.margin_note == (
        "Net margin is estimated at 40%: import your product costs (Customers › Import › Products) to use your own."
    )


async def test_costs_known_for_some_lines_are_used_and_the_rest_is_estimated(shop):  # noqa: F811
    await _catalog()
    # Ada's 720 on March 20 (VIP): two chairs at 300 (cost 200 each) and a lamp at 120 (no cost).
    await _lines(shop["Ada"], 72_000, ("CHAIR", 2, 30_000), ("LAMP", 1, 12_000))
    # Hal's 900 (VIP Platinum): three chairs, the SKU in small letters as the shop's export wrote it.
    await _lines(shop["Hal"], 90_000, ("chair", 3, 30_000))

    comparison = await compare_groups(group_ids=[shop["vip"], shop["gold"], shop["platinum"]], period=MARCH)
    vip, gold, platinum = comparison.rows

    # VIP: 1,880 of revenue, 770 of discount. The chairs brought 600 and cost 400; the other 1,280 is
    # estimated: its list price 1,280 + 770 x 1,280 / 1,880 of the discount, at 60% cost.
    assert vip.costed_revenue_cents == 60_000
    assert vip.net_margin == pytest.approx((188_000 - 40_000 - (128_000 + 77_000 * 128 / 188) * 0.6) / 188_000)
    # Gold has no lines: as before, (870 + 230) x 0.4 - 230 = 210 of 870.
    assert (gold.costed_revenue_cents, gold.net_margin) == (0, pytest.approx(21_000 / 87_000))
    # Platinum's one order is all chairs: 900 in, 600 cost.
    assert platinum.net_margin == pytest.approx(30_000 / 90_000)

    # 600 + 900 of the 1,880 + 870 + 900 compared: 41%.
    assert comparison.margin_note == (
        "Net margin uses your product costs for 41% of revenue; the rest is estimated at 40%."
    )
    assert "Net margin rests on" in comparison_csv(comparison).decode("utf-8-sig")


async def test_costs_without_lines_on_these_orders_say_why_the_estimate_is_used(shop):  # noqa: F811
    await _catalog()
    comparison = await compare_groups(group_ids=[shop["gold"]], period=MARCH)
    assert comparison.margin_note.startswith("Net margin is estimated at 40%: no order here has lines")


async def test_all_revenue_from_costed_lines_says_so(shop):  # noqa: F811
    await _catalog()
    await _lines(shop["Hal"], 90_000, ("CHAIR", 3, 30_000))
    comparison = await compare_groups(group_ids=[shop["platinum"]], period=MARCH)
    assert comparison.margin_note == "Net margin uses your product costs for all of the revenue."
