"""Group reports on a small hand-made shop whose answers are known: who was a member when, which
orders count for which group, and every metric as a number worked out by hand (the arithmetic is
in the comments), never by the report's own formulas.

The shop, March 2026 being the period (its previous period of the same 31 days: January 29 to
February 28):

- VIP Customers: 20% discount, stacks with promotions. Ada and Dee all along; Ben from March 15.
- VIP Platinum (under VIP): 5% more, so 25%. Hal all along.
- Gold Tier: 10% discount, does not stack with promotions. Ben until March 15; Eve, Fay and Gus.
- Spring Sale: 25% additional from $500, March 10 - 20, stacks; targets VIP (and so Platinum) and
  Gold. Gold Week: 30% additional, March 23 - 27, Gold only. Blowout: 50%, all March, VIP, a draft.
- Cy is in no group.
"""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from models.customer import Customer, Order, OrderStatus
from models.group import MembershipAction, MembershipEvent
from services.benefits.sections import save_benefits
from services.errors import FormError
from services.groups.group import create_group, get_group, update_group
from services.promotions import create_promotion
from services.report_totals import rebuild_all
from services.reports import compare_groups, comparison_csv, group_report, period_for, report_csv, versus
from services.staff.actor import SystemActor

ACTOR = SystemActor("anna")
MARCH = period_for("custom", start=date(2026, 3, 1), end=date(2026, 3, 31))
JANUARY_TO_APRIL = period_for("custom", start=date(2026, 1, 1), end=date(2026, 4, 30))
YEARS = 31 / 365.25  # March, in years


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


LONG_AGO = datetime(2025, 6, 1, tzinfo=UTC)
LIFETIME = {  # what each customer's stats record as their lifetime purchases
    "Ada": 300_000,
    "Ben": 120_000,
    "Cy": 45_000,
    "Dee": 60_000,
    "Eve": 30_000,
    "Fay": 90_000,
    "Gus": 0,
    "Hal": 150_000,
}
ORDERS = [  # (customer, placed, total); completed unless said otherwise
    ("Ada", at(2, 10), 10_000),  # previous period, VIP
    ("Ada", at(3, 5), 20_000),  # VIP, before the Spring Sale: 20%
    ("Ada", at(3, 6), 77_000, OrderStatus.CANCELLED),  # never counts
    ("Ada", at(3, 20), 72_000),  # VIP, the Spring Sale's last day, over $500: stacked
    ("Ada", at(3, 21), 56_000),  # VIP, the day after it: 20%
    ("Ada", at(4, 2), 99_000),  # after March
    ("Ben", at(2, 20), 5_000),  # previous period, in Gold
    ("Ben", at(3, 10), 60_000),  # Gold, the Spring Sale's first day: the better of 10% and 25%
    ("Ben", at(3, 25), 40_000),  # VIP by now (Gold Week is Gold's only): 20%
    ("Cy", at(3, 12), 50_000),  # in no group
    ("Dee", at(2, 15), 8_000),  # previous period, VIP; nothing in March
    ("Eve", at(2, 25), 3_000),  # previous period, Gold; nothing in March
    ("Fay", at(2, 12), 9_000, OrderStatus.CANCELLED),  # not an order "in the previous period"
    ("Fay", at(3, 18), 27_000),  # Gold, in the Spring Sale's dates but under $500: 10%
    ("Hal", at(3, 15), 90_000),  # Platinum, in the Spring Sale, over $500: 25% stacked with 25%
]


@pytest.fixture
async def shop(db) -> dict:
    vip = (await create_group(data={"name": "VIP Customers", "code": "VIP"}, actor=ACTOR)).id
    platinum = (await create_group(data={"name": "VIP Platinum", "code": "PLAT", "parent_id": vip}, actor=ACTOR)).id
    gold = (await create_group(data={"name": "Gold Tier", "code": "GOLD"}, actor=ACTOR)).id
    await save_benefits(group_id=vip, sections={"pricing": {"type": "percentage", "percent": 20}}, actor=ACTOR)
    await save_benefits(group_id=platinum, sections={"pricing": {"additional_percent": 5}}, actor=ACTOR)
    await save_benefits(
        group_id=gold,
        sections={"pricing": {"type": "percentage", "percent": 10, "stack_with_promotions": False}},
        actor=ACTOR,
    )
    for name, percent, targets, first, last, minimum, stacks, status in (
        ("Spring Sale", 25, [vip, gold], date(2026, 3, 10), date(2026, 3, 20), 50_000, True, "active"),
        ("Gold Week", 30, [gold], date(2026, 3, 23), date(2026, 3, 27), 0, False, "active"),
        ("Blowout", 50, [vip], date(2026, 3, 1), date(2026, 3, 31), 0, True, "draft"),
    ):
        await create_promotion(
            data={
                "name": name,
                "type": "additional_discount",
                "status": status,
                "percent": percent,
                "target_group_ids": targets,
                "valid_from": first,
                "valid_to": last,
                "minimum_purchase_cents": minimum,
                "stack_with_group_discount": stacks,
            },
            actor=ACTOR,
        )
    people = {}
    for name, lifetime in LIFETIME.items():
        people[name] = (
            await Customer.create(
                name=name,
                email=f"{name.lower()}@example.com",
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
                lifetime_cents=lifetime,
            )
        ).id
    names = {vip: "VIP Customers", platinum: "VIP Platinum", gold: "Gold Tier"}
    for name, group, action, when in (
        ("Ada", vip, MembershipAction.JOINED, LONG_AGO),
        ("Dee", vip, MembershipAction.JOINED, LONG_AGO),
        ("Hal", platinum, MembershipAction.JOINED, LONG_AGO),
        ("Ben", gold, MembershipAction.JOINED, LONG_AGO),
        ("Eve", gold, MembershipAction.JOINED, LONG_AGO),
        ("Fay", gold, MembershipAction.JOINED, LONG_AGO),
        ("Gus", gold, MembershipAction.JOINED, LONG_AGO),
        ("Ben", gold, MembershipAction.MOVED, at(3, 15)),
        ("Ben", vip, MembershipAction.JOINED, at(3, 15)),
    ):
        await MembershipEvent.create(
            customer_id=people[name], group_id=group, group_name=names[group], action=action, actor=ACTOR, at=when
        )
    for name, when, total, *status in ORDERS:
        await Order.create(
            customer_id=people[name],
            placed_at=when,
            total_cents=total,
            status=status[0] if status else OrderStatus.COMPLETED,
        )
    await rebuild_all()  # the history and orders above went in directly, not through their writers
    return {"vip": vip, "platinum": platinum, "gold": gold, **people}


# Everyone's completed March orders: Ada 200 + 720 + 560, Ben 600 + 400, Cy 500, Fay 270, Hal 900.
ALL_MARCH_ORDERS = 8
ALL_MARCH_REVENUE = 415_000  # 20_000 + 72_000 + 56_000 + 60_000 + 40_000 + 50_000 + 27_000 + 90_000


async def test_orders_count_for_the_group_the_customer_was_in_at_the_time(shop):
    vip = await group_report(group_id=shop["vip"], period=MARCH)
    # VIP in March: Ada's 200 + 720 + 560 and Ben's 400 after his move; not his 600 in Gold, nor
    # Ada's cancelled 770. Members at any time in March: Ada, Dee, Ben.
    assert (vip.orders, vip.revenue_cents, vip.members) == (4, 188_000, 3)
    assert vip.revenue_share == pytest.approx(188_000 / ALL_MARCH_REVENUE)  # 45.3%
    assert vip.orders_share == pytest.approx(0.5)  # 4 of 8
    assert (vip.aov_cents, vip.all_aov_cents) == (47_000, 51_875)  # 188_000 / 4; 415_000 / 8
    assert vip.frequency_per_year == pytest.approx(4 / 3 / YEARS)  # 4 orders, 3 members: 15.7 a year
    assert vip.all_frequency_per_year == pytest.approx(8 / 8 / YEARS)  # 8 orders, 8 customers: 11.8 a year
    # Lifetime: VIP's (Ada 3,000 + Dee 600 + Ben 1,200) / 3; everyone's 7,950 / 8.
    assert (vip.clv_cents, vip.all_clv_cents) == (160_000, 99_375)
    assert [(c.name, c.revenue_cents, c.orders) for c in vip.top_customers] == [
        ("Ada", 148_000, 3),  # 200 + 720 + 560
        ("Ben", 40_000, 1),
    ]
    assert [(m.month, m.value) for m in vip.revenue_by_month] == [("2026-03", 188_000)]
    assert [(m.month, m.value) for m in vip.members_by_month] == [("2026-03", 3)]

    gold = await group_report(group_id=shop["gold"], period=MARCH)
    # Gold in March: Ben's 600 before his move, Fay's 270. Members: Ben, Eve, Fay, Gus.
    assert (gold.orders, gold.revenue_cents, gold.members) == (2, 87_000, 4)
    assert gold.revenue_share == pytest.approx(87_000 / ALL_MARCH_REVENUE)  # 21.0%
    assert gold.orders_share == pytest.approx(0.25)  # 2 of 8
    assert gold.aov_cents == 43_500  # 87_000 / 2
    assert gold.frequency_per_year == pytest.approx(2 / 4 / YEARS)  # 2 orders, 4 members: 5.9 a year
    assert gold.clv_cents == 60_000  # (Ben 1,200 + Eve 300 + Fay 900 + Gus 0) / 4
    assert [(c.name, c.revenue_cents) for c in gold.top_customers] == [("Ben", 60_000), ("Fay", 27_000)]


async def test_members_and_revenue_over_time_follow_the_history(shop):
    vip = await group_report(group_id=shop["vip"], period=JANUARY_TO_APRIL)
    # At each month's end: Ada and Dee; Ben too from March 15.
    assert [(m.month, m.value) for m in vip.members_by_month] == [
        ("2026-01", 2),
        ("2026-02", 2),
        ("2026-03", 3),
        ("2026-04", 3),
    ]
    assert [(m.month, m.value) for m in vip.revenue_by_month] == [
        ("2026-01", 0),
        ("2026-02", 18_000),  # Ada 100 + Dee 80
        ("2026-03", 188_000),
        ("2026-04", 99_000),  # Ada
    ]
    gold = await group_report(group_id=shop["gold"], period=JANUARY_TO_APRIL)
    # Ben, Eve, Fay, Gus; Ben left on March 15.
    assert [m.value for m in gold.members_by_month] == [4, 4, 3, 3]
    assert [m.value for m in gold.revenue_by_month] == [0, 8_000, 87_000, 0]  # Feb: Ben 50 + Eve 30


async def test_the_comparison_side_by_side_with_retention_discount_and_margin(shop):
    comparison = await compare_groups(group_ids=[shop["vip"], shop["gold"], shop["platinum"]], period=MARCH)
    vip, gold, platinum = comparison.rows

    assert (vip.customers, vip.revenue_cents, vip.aov_cents) == (3, 188_000, 47_000)
    assert vip.orders_per_customer == pytest.approx(4 / 3)
    # Ordered in the previous period: Ada, Dee, and Ben (in Gold then: the cohort is the customers,
    # wherever their order counted). Again in March: Ada and Ben, not Dee.
    assert vip.retention_rate == pytest.approx(2 / 3)
    # Ada's 200 at 20% off: listed at 200 / 0.8 = 250, so 50 off.
    # Ada's 720 on the Spring Sale's last day: 20% then 25% = 40% off a list of 720 / 0.6 = 1,200: 480.
    # Ada's 560 the day after: 560 / 0.8 = 700 listed, 140 off. Ben's 400: 500 listed, 100 off.
    # (The draft Blowout and Gold's Gold Week give nothing here.)
    assert vip.discount_given_cents == 77_000  # 50 + 480 + 140 + 100 = 770
    # A 40% margin on the list prices, less the discount: (1,880 + 770) x 0.4 - 770 = 290 of 1,880.
    assert vip.net_margin == pytest.approx(29_000 / 188_000)  # 15.4%

    assert (gold.customers, gold.revenue_cents, gold.aov_cents) == (4, 87_000, 43_500)
    assert gold.orders_per_customer == pytest.approx(0.5)  # 2 orders, 4 customers
    # Ordered in the previous period: Ben and Eve (Fay's February order was cancelled). Again: Ben.
    assert gold.retention_rate == pytest.approx(0.5)
    # Ben's 600 on the Spring Sale's first day: Gold does not stack, so the better of 10% and 25%:
    # 600 / 0.75 = 800 listed, 200 off. Fay's 270 is under the $500 minimum: 10%, 300 listed, 30 off.
    assert gold.discount_given_cents == 23_000  # 200 + 30
    assert gold.net_margin == pytest.approx(21_000 / 87_000)  # (870 + 230) x 0.4 - 230 = 210: 24.1%

    assert (platinum.customers, platinum.revenue_cents, platinum.aov_cents) == (1, 90_000, 90_000)
    assert platinum.orders_per_customer == pytest.approx(1.0)
    assert platinum.retention_rate is None  # Hal did not order in the previous period
    # Hal's 900: VIP's 20% + Platinum's 5% = 25%, and the Spring Sale (it reaches VIP's subgroups)
    # stacked: 0.75 x 0.75 = 0.5625 paid, so listed at 900 / 0.5625 = 1,600: 700 off.
    assert platinum.discount_given_cents == 70_000
    assert platinum.net_margin == pytest.approx(-6_000 / 90_000)  # 1,600 x 0.4 - 700 = -60: -6.7%

    assert list(comparison.definitions) == [
        "Customers",
        "Revenue",
        "Average Order Value",
        "Orders per Customer",
        "Retention Rate",
        "Discount Given",
        "Net Margin",
    ]
    assert "promotion" in comparison.definitions["Discount Given"]


async def test_a_period_without_promotions_counts_the_group_discount_alone(shop):
    # February: Ada's 100 and Dee's 80 in VIP at 20% off: 125 + 100 listed, 25 + 20 off.
    february = period_for("custom", start=date(2026, 2, 1), end=date(2026, 2, 28))
    (vip,) = (await compare_groups(group_ids=[shop["vip"]], period=february)).rows
    assert (vip.revenue_cents, vip.discount_given_cents) == (18_000, 4_500)


async def test_the_csv_exports_read_back_to_the_same_figures(shop):
    report = await group_report(group_id=shop["vip"], period=MARCH)
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    metrics = {row[0]: row[1:] for row in rows if row}
    assert metrics["Total Revenue"] == ["1880.00", "", "45.3% of total"]
    assert metrics["Orders"] == ["4", "", "50.0% of total"]
    assert metrics["Average Order Value"] == ["470.00", "518.75", "9% lower"]
    assert metrics["Customer Lifetime Value"] == ["1600.00", "993.75", "'+61% higher"]
    assert metrics["Ada"] == ["1480.00", "3"]

    comparison = await compare_groups(group_ids=[shop["vip"], shop["gold"], shop["platinum"]], period=MARCH)
    table = {row[0]: row[1:] for row in csv.reader(io.StringIO(comparison_csv(comparison).decode("utf-8-sig"))) if row}
    assert table["Metric"] == ["VIP Customers", "Gold Tier", "VIP Platinum"]
    assert table["Customers"] == ["3", "4", "1"]
    assert table["Revenue"] == ["1880.00", "870.00", "900.00"]
    assert table["Average Order Value"] == ["470.00", "435.00", "900.00"]
    assert table["Orders per Customer"] == ["1.33", "0.50", "1.00"]
    assert table["Retention Rate"] == ["66.7%", "50.0%", ""]
    assert table["Discount Given"] == ["770.00", "230.00", "700.00"]
    assert table["Net Margin"] == ["15.4%", "24.1%", "-6.7%"]


def test_periods_and_comparisons_are_worded_for_the_owner():
    today = date(2026, 11, 23)
    assert (period_for("30d", today=today).start, period_for("30d", today=today).end) == (
        date(2026, 10, 25),
        date(2026, 11, 24),
    )
    assert period_for("ytd", today=today).start == date(2026, 1, 1)
    assert period_for("12m", today=today).start == date(2025, 11, 24)
    assert MARCH.previous.start == date(2026, 1, 29)  # the 31 days before March 1
    assert versus(145, 100) == "+45% higher"
    assert versus(88, 100) == "12% lower"
    assert versus(100, 100) == "same as all customers"


async def test_names_a_spreadsheet_would_run_as_formulas_are_exported_as_text(shop):
    # The owner names one group like a link formula and another like a sum, and a customer's name
    # starts with "@"; the report and the comparison write them as text. The app's own figures stay
    # numbers, negative ones too.
    for key, name in (("vip", '=HYPERLINK("http://x","y")'), ("gold", "-2+3")):
        group = await get_group(group_id=shop[key])
        await update_group(
            group_id=group.id, version=group.version, data={**group.as_input().model_dump(), "name": name}, actor=ACTOR
        )
    await Customer.filter(id=shop["Ada"]).update(name="@SUM(1+1)")

    report = await group_report(group_id=shop["vip"], period=MARCH)
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert rows[0] == ["Customer Group Report", '\'=HYPERLINK("http://x","y")']
    metrics = {row[0]: row[1:] for row in rows if row}
    assert metrics["'@SUM(1+1)"] == ["1480.00", "3"]

    comparison = await compare_groups(group_ids=[shop["vip"], shop["gold"], shop["platinum"]], period=MARCH)
    table = {row[0]: row[1:] for row in csv.reader(io.StringIO(comparison_csv(comparison).decode("utf-8-sig"))) if row}
    assert table["Metric"] == ['\'=HYPERLINK("http://x","y")', "'-2+3", "VIP Platinum"]
    assert table["Net Margin"] == ["15.4%", "24.1%", "-6.7%"]


def test_a_custom_period_outside_the_years_2000_to_2100_is_refused():
    # The previous period of the same length (retention) and the day after the last are worked out
    # from the days chosen: year 1 and 9999 leave no room for them.
    for start, end in ((date(1, 1, 1), date(2026, 3, 31)), (date(2026, 3, 1), date(9999, 12, 31))):
        with pytest.raises(FormError) as error:
            period_for("custom", start=start, end=end)
        assert error.value.errors == {"period": "Choose days in the years 2000 to 2100."}
