"""The comparison says what its net margins rest on: the 40% estimate until products have costs,
then the share of revenue their costs cover."""

from nicegui.testing import User

from models.catalog import Product
from models.customer import Order, OrderLine, OrderStatus
from models.group import CustomerGroup, Membership
from services.reports import period_for


async def test_the_note_says_the_margin_is_estimated_until_products_have_costs(user: User):
    await user.open("/reports")
    await user.should_see("Customer Group Comparison")
    await user.should_see(
        "Net margin is estimated at 40%: import your product costs (Customers › Import › Products) to use your own."
    )


async def test_with_costs_on_the_lines_of_some_orders_the_note_says_how_much_they_cover(user: User):
    product = await Product.all().order_by("id").first()
    await Product.filter(id=product.id).update(cost_cents=product.base_price_cents // 2)
    vip = await CustomerGroup.get(code="VIP")
    members = await Membership.filter(group_id=vip.id).values_list("customer_id", flat=True)
    period = period_for("12m")
    orders = await Order.filter(
        customer_id__in=members, status=OrderStatus.COMPLETED, placed_at__gte=str(period.start)
    ).limit(20)
    for order in orders:
        await OrderLine.create(order=order, sku=product.sku, quantity=1, price_cents=order.total_cents)

    await user.open("/reports")
    await user.should_see("Customer Group Comparison")
    note = user.find(marker="margin-note").elements.pop().text
    assert note.startswith("Net margin uses your product costs for ")
    assert note.endswith("of revenue; the rest is estimated at 40%.")
