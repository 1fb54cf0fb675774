"""Customers, their stats and their groups."""

from datetime import UTC, datetime, timedelta

from tortoise.functions import Sum

from models.customer import Customer, Order, OrderStatus
from models.group import CustomerGroup, Membership
from services.customers import get_customer, list_customers
from services.membership.members import list_members
from services.orders import record_order


async def test_recording_orders_keeps_the_stats_current(db):
    customer = await Customer.create(name="Acme Corporation", email="buyer@acme.example", created_at=datetime.now(UTC))
    first, later = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    await record_order(customer_id=customer.id, total_cents=50_000, placed_at=later)
    await record_order(customer_id=customer.id, total_cents=20_000, placed_at=first)
    await record_order(customer_id=customer.id, total_cents=99_000, placed_at=later, status=OrderStatus.CANCELLED)

    detail = await get_customer(customer_id=customer.id)
    assert (detail.lifetime_cents, detail.order_count, detail.average_order_cents) == (70_000, 2, 35_000)
    assert (detail.first_order_at, detail.last_order_at) == (first, later)


async def test_the_customer_list_searches_pages_and_filters_by_group(demo_db):
    acme = await list_customers(search="acme")
    assert [row.name for row in acme.rows] == ["Acme Corporation"]
    assert acme.rows[0].groups == ["VIP Platinum", "VIP Customers"]  # primary first

    everyone = await Customer.all().count()
    first, second = await list_customers(per_page=10), await list_customers(page=2, per_page=10)
    assert first.total == everyone and len(first.rows) == 10
    assert {r.id for r in first.rows}.isdisjoint({r.id for r in second.rows})

    vip = await CustomerGroup.get(code="VIP")
    in_vip = await list_customers(group_id=vip.id, per_page=200)
    assert in_vip.total == await Membership.filter(group_id=vip.id).count()
    assert all("VIP Customers" in row.groups for row in in_vip.rows)


async def test_searches_treat_injection_shaped_text_as_text(demo_db):
    assert (await list_customers(search="' OR 1=1 --")).total == 0
    assert (await list_customers(search="%")).total == 0
    assert await Customer.all().count() > 0


async def test_a_groups_members_are_paged_by_name(demo_db):
    retail = await CustomerGroup.get(code="RETAIL")
    total = await Membership.filter(group_id=retail.id).count()
    page = await list_members(group_id=retail.id, per_page=25)
    assert page.total == total and len(page.rows) == min(25, total)
    assert [r.name.casefold() for r in page.rows] == sorted(r.name.casefold() for r in page.rows)
    acme = await list_members(group_id=(await CustomerGroup.get(code="VIP")).id, search="Acme")
    assert [(r.name, r.lifetime_cents) for r in acme.rows] == [("Acme Corporation", 24_567_800)]


async def test_demo_stats_agree_with_the_orders(demo_db):
    sums = dict(
        await Order.filter(status=OrderStatus.COMPLETED)
        .annotate(total=Sum("total_cents"))
        .group_by("customer_id")
        .values_list("customer_id", "total")
    )
    for customer in await Customer.all():
        assert customer.lifetime_cents == sums.get(customer.id, 0), customer.name
    assert await Order.filter(placed_at__lt=datetime.now(UTC) - timedelta(days=731)).count() == 0
