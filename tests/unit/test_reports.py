"""Group reports on a small hand-made shop whose answers are known: who was a member when, which
orders count for which group, and every metric against a computation written out by hand."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from models.customer import Customer, Order, OrderStatus
from models.group import MembershipAction, MembershipEvent
from services.benefits import save_benefits
from services.groups import create_group
from services.reports import compare_groups, comparison_csv, group_report, period_for, report_csv, versus

ACTOR = "anna"
MARCH = period_for("custom", start=date(2026, 3, 1), end=date(2026, 3, 31))
FEBRUARY_START = datetime(2026, 2, 1, tzinfo=UTC)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@pytest.fixture
async def shop(db) -> dict:
    """VIP (15% discount) and Gold. Ada is in VIP all along; Ben moves from Gold to VIP on March 15;
    Cy is in no group. Their orders fall before, inside and after March."""
    vip = (await create_group(data={"name": "VIP Customers", "code": "VIP"}, actor=ACTOR)).id
    gold = (await create_group(data={"name": "Gold Tier", "code": "GOLD"}, actor=ACTOR)).id
    await save_benefits(group_id=vip, sections={"pricing": {"type": "percentage", "percent": 15}}, actor=ACTOR)
    people = {}
    for name, lifetime in (("Ada", 300_000), ("Ben", 100_000), ("Cy", 50_000)):
        people[name] = (
            await Customer.create(
                name=name,
                email=f"{name.lower()}@example.com",
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
                lifetime_cents=lifetime,
            )
        ).id

    async def event(name: str, group: int, group_name: str, action: MembershipAction, when: datetime) -> None:
        await MembershipEvent.create(
            customer_id=people[name], group_id=group, group_name=group_name, action=action, actor=ACTOR, at=when
        )

    await event("Ada", vip, "VIP Customers", MembershipAction.JOINED, datetime(2025, 6, 1, tzinfo=UTC))
    await event("Ben", gold, "Gold Tier", MembershipAction.JOINED, datetime(2025, 6, 1, tzinfo=UTC))
    await event("Ben", gold, "Gold Tier", MembershipAction.MOVED, at(3, 15))
    await event("Ben", vip, "VIP Customers", MembershipAction.JOINED, at(3, 15))
    for name, when, total in (
        ("Ada", at(2, 10), 10_000),  # February: the previous period
        ("Ada", at(3, 5), 20_000),
        ("Ada", at(3, 20), 40_000),
        ("Ben", at(2, 20), 5_000),  # February, in Gold
        ("Ben", at(3, 10), 30_000),  # March, still in Gold
        ("Ben", at(3, 25), 60_000),  # March, now in VIP
        ("Cy", at(3, 12), 50_000),
        ("Ada", at(4, 2), 99_000),  # April: outside
    ):
        await Order.create(customer_id=people[name], placed_at=when, total_cents=total)
    await Order.create(customer_id=people["Ada"], placed_at=at(3, 6), total_cents=77_000, status=OrderStatus.CANCELLED)
    return {"vip": vip, "gold": gold, **people}


async def test_orders_count_for_the_group_the_customer_was_in_at_the_time(shop):
    report = await group_report(group_id=shop["vip"], period=MARCH)
    # VIP in March: Ada's two orders and Ben's order after his move; not Ben's order in Gold.
    assert (report.orders, report.revenue_cents, report.members) == (3, 120_000, 2)
    everyone = 20_000 + 40_000 + 30_000 + 60_000 + 50_000  # completed March orders, any group
    assert report.revenue_share == pytest.approx(120_000 / everyone)
    assert report.orders_share == pytest.approx(3 / 5)
    assert (report.aov_cents, report.all_aov_cents) == (40_000, everyone // 5)
    years = 31 / 365.25
    assert report.frequency_per_year == pytest.approx(3 / 2 / years)
    assert report.all_frequency_per_year == pytest.approx(5 / 3 / years)
    assert (report.clv_cents, report.all_clv_cents) == (200_000, 150_000)  # mean of Ada, Ben / of all three
    assert [(c.name, c.revenue_cents, c.orders) for c in report.top_customers] == [
        ("Ada", 60_000, 2),
        ("Ben", 60_000, 1),
    ]
    assert [(m.month, m.value) for m in report.revenue_by_month] == [("2026-03", 120_000)]
    assert [(m.month, m.value) for m in report.members_by_month] == [("2026-03", 2)]

    gold = await group_report(group_id=shop["gold"], period=MARCH)
    assert (gold.orders, gold.revenue_cents, gold.members) == (1, 30_000, 1)


async def test_members_over_time_follow_the_history(shop):
    report = await group_report(
        group_id=shop["vip"], period=period_for("custom", start=date(2026, 1, 1), end=date(2026, 4, 30))
    )
    assert [(m.month, m.value) for m in report.members_by_month] == [
        ("2026-01", 1),
        ("2026-02", 1),
        ("2026-03", 2),
        ("2026-04", 2),
    ]
    assert [(m.month, m.value) for m in report.revenue_by_month] == [
        ("2026-01", 0),
        ("2026-02", 10_000),
        ("2026-03", 120_000),
        ("2026-04", 99_000),
    ]


async def test_the_comparison_side_by_side_with_retention_discount_and_margin(shop):
    comparison = await compare_groups(group_ids=[shop["vip"], shop["gold"]], period=MARCH)
    vip, gold = comparison.rows
    assert (vip.customers, vip.revenue_cents, vip.aov_cents) == (2, 120_000, 40_000)
    assert vip.orders_per_customer == pytest.approx(3 / 2)
    # VIP's customers in March who ordered in February: Ada (and Ben, whose February order counts for
    # the cohort though he was in Gold then); both ordered again in March.
    assert vip.retention_rate == 1.0
    discount = round(120_000 * 15 / 85)
    assert vip.discount_given_cents == discount
    assert vip.net_margin == pytest.approx(((120_000 + discount) * 0.40 - discount) / 120_000)
    assert (gold.customers, gold.discount_given_cents, gold.net_margin) == (1, 0, pytest.approx(0.40))
    assert set(comparison.definitions) == {
        "Customers",
        "Revenue",
        "Average Order Value",
        "Orders per Customer",
        "Retention Rate",
        "Discount Given",
        "Net Margin",
    }


async def test_the_csv_exports_read_back_to_the_same_figures(shop):
    report = await group_report(group_id=shop["vip"], period=MARCH)
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    metrics = {row[0]: row[1:] for row in rows if row}
    assert metrics["Total Revenue"][0] == "1200.00"
    assert metrics["Orders"][0] == "3"
    assert metrics["Average Order Value"][:2] == ["400.00", "400.00"]
    assert metrics["Ada"] == ["600.00", "2"]
    comparison = await compare_groups(group_ids=[shop["vip"], shop["gold"]], period=MARCH)
    table = {row[0]: row[1:] for row in csv.reader(io.StringIO(comparison_csv(comparison).decode("utf-8-sig"))) if row}
    assert table["Metric"] == ["VIP Customers", "Gold Tier"]
    assert table["Revenue"] == ["1200.00", "300.00"]


def test_periods_and_comparisons_are_worded_for_the_owner():
    today = date(2026, 11, 23)
    assert (period_for("30d", today=today).start, period_for("30d", today=today).end) == (
        date(2026, 10, 25),
        date(2026, 11, 24),
    )
    assert period_for("ytd", today=today).start == date(2026, 1, 1)
    assert period_for("12m", today=today).start == date(2025, 11, 24)
    assert versus(145, 100) == "+45% higher"
    assert versus(88, 100) == "12% lower"
    assert versus(100, 100) == "same as all customers"
