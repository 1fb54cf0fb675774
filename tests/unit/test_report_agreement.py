"""The reports read from kept totals say exactly what the old queries over the history and the
orders said (tests/unit/reports_oracle.py), and the totals kept by the app's own writers are
exactly what rebuilding them from scratch gives.

Hypothesis builds small shops: customers who join, leave, move and join again, at moments on and
around month boundaries (ties in time included), orders just before and after those moments,
cancelled ones, some with lines of a costed product, and a promotion with a minimum purchase; then
asks for every group's report and the comparison over custom periods that start and end mid-month
or on a month's first day. The second test drives the writers themselves (adding, moving and
removing members, recording, importing, re-dating and cancelling orders) and compares the kept
tables with a rebuild after every step.

As in test_rule_agreement.py, one database (the `db` fixture) serves every example; each example
empties it first.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from tortoise.transactions import in_transaction

from models.catalog import Category, Product, VisibilityGroup
from models.customer import Customer, Order, OrderLine, OrderStatus
from models.group import CustomerGroup, MembershipAction, MembershipEvent
from models.promotion import Promotion, PromotionTarget
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.orders.recording import OrderData, change_order_status, record_order, save_orders
from services.orders.stats import recompute_stats
from services.report_totals import rebuild, rebuild_all
from services.reports import compare_groups, group_report, period_for
from services.staff.actor import SYSTEM
from tests.unit.reports_oracle import old_compare_groups, old_group_report

GROUP_IDS = (1, 2, 3)
CUSTOMER_IDS = tuple(range(1, 10))
# Moments around the turn of February/March and March/April 2026, ties and microseconds included.
BOUNDARIES = (
    datetime(2026, 3, 1, tzinfo=UTC),
    datetime(2026, 4, 1, tzinfo=UTC),
    datetime(2026, 3, 15, tzinfo=UTC),
    datetime(2025, 6, 1, tzinfo=UTC),  # long before: what a customer brought a group before the period
)
# Everyone joins the first group long before, so its top customers have to be told apart.
FOUNDING = [(cid, GROUP_IDS[0], MembershipAction.JOINED, datetime(2025, 1, 1, tzinfo=UTC)) for cid in range(1, 10)]
NUDGES = (timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1), timedelta(hours=13), -timedelta(days=3))
moments = st.builds(lambda b, n: b + n, st.sampled_from(BOUNDARIES), st.sampled_from(NUDGES))
DAYS = (date(2026, 2, 14), date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 15), date(2026, 3, 31))
days = st.sampled_from([*DAYS, date(2026, 4, 1), date(2026, 4, 17)])
events = st.tuples(
    st.sampled_from(CUSTOMER_IDS),
    st.sampled_from(GROUP_IDS),
    st.sampled_from([MembershipAction.JOINED, MembershipAction.JOINED, MembershipAction.LEFT, MembershipAction.MOVED]),
    moments,
)
orders = st.tuples(
    st.sampled_from(CUSTOMER_IDS),
    moments,
    st.sampled_from([0, 100, 50_000, 50_000, 70_001, 123_456]),  # ties in revenue, around the promotion's minimum
    st.booleans(),  # completed
    st.booleans(),  # with a line of the costed product
)


@pytest.fixture
async def groups(db) -> None:
    for group_id in GROUP_IDS:
        await CustomerGroup.create(
            id=group_id, name=f"Group {group_id}", name_key=f"group {group_id}", code=f"G{group_id}"
        )
    category = await Category.create(name="Things")
    standard = await VisibilityGroup.create(name="Standard", is_standard=True)
    await Product.create(
        sku="CHAIR",
        name="Chair",
        category=category,
        visibility_group=standard,
        base_price_cents=9_000,
        cost_cents=4_000,
    )
    promotion = await Promotion.create(
        name="Spring",
        name_key="spring",
        type="additional_discount",
        status="active",
        percent=25,
        minimum_purchase_cents=50_000,
        valid_from=date(2026, 3, 10),
        valid_to=date(2026, 3, 20),
    )
    await PromotionTarget.create(promotion_id=promotion.id, group_id=GROUP_IDS[0])


async def _store(history: list, placed: list) -> None:
    async with in_transaction("default") as connection:
        await Customer.all().delete()  # orders, lines and events go with them
        await MembershipEvent.all().delete()
        await Customer.bulk_create(
            [
                Customer(
                    id=cid,
                    name=f"Customer {cid}",
                    email=f"c{cid}@example.com",
                    created_at=datetime(2025, 1, 1, tzinfo=UTC),
                )
                for cid in CUSTOMER_IDS
            ]
        )
        for customer_id, group_id, action, at in history:
            await MembershipEvent.create(
                customer_id=customer_id, group_id=group_id, group_name=f"Group {group_id}", action=action, at=at
            )
        for customer_id, at, total, completed, lined in placed:
            order = await Order.create(
                customer_id=customer_id,
                placed_at=at,
                total_cents=total,
                status=OrderStatus.COMPLETED if completed else OrderStatus.CANCELLED,
            )
            if lined:
                await OrderLine.create(order=order, sku="chair", quantity=2, price_cents=total // 4)
        await recompute_stats(connection, CUSTOMER_IDS)  # lifetime, first and last order, as the app keeps them
    await rebuild_all()


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    history=st.lists(events, max_size=14),
    placed=st.lists(orders, max_size=30),
    first=days,
    # Up to 45 days: the months' lists of top customers; 120-160: more months than MONTH_LISTS, all time.
    length=st.integers(min_value=0, max_value=45) | st.integers(min_value=120, max_value=160),
)
async def test_reports_from_kept_totals_say_what_the_old_queries_said(groups, history, placed, first, length):
    await _store([*FOUNDING, *history], placed)
    period = period_for("custom", start=first, end=first + timedelta(days=length))
    note(f"period {period}")
    for group_id in GROUP_IDS:
        assert await group_report(group_id=group_id, period=period) == await old_group_report(
            group_id=group_id, period=period
        ), f"group {group_id}"
    assert await compare_groups(group_ids=list(GROUP_IDS), period=period) == await old_compare_groups(
        group_ids=list(GROUP_IDS), period=period
    )


async def _kept() -> dict[str, set]:
    """The kept tables' rows, without their ids and without rows that add up to nothing."""
    async with in_transaction("default") as connection:
        _, spans = await connection.execute_query(
            "SELECT group_id, customer_id, event_id, start_at, end_at FROM report_span"
        )
        _, days_ = await connection.execute_query(
            "SELECT group_id, day, orders, revenue_cents, began, ended FROM report_day "
            "WHERE orders <> 0 OR revenue_cents <> 0 OR began <> 0 OR ended <> 0"
        )
        _, customers = await connection.execute_query(
            "SELECT group_id, customer_id, orders, revenue_cents FROM report_customer WHERE orders <> 0"
        )
        _, months = await connection.execute_query(
            "SELECT group_id, month, customer_id, orders, revenue_cents FROM report_month WHERE orders <> 0"
        )
    return {
        "spans": {tuple(row) for row in spans},
        "days": {tuple(row) for row in days_},
        "customers": {tuple(row) for row in customers},
        "months": {tuple(row) for row in months},
    }


async def _rebuilt() -> dict[str, set]:
    async with in_transaction("default") as connection:
        await rebuild(connection)
    return await _kept()


steps = st.one_of(
    st.tuples(
        st.just("add"), st.sampled_from(GROUP_IDS), st.lists(st.sampled_from(CUSTOMER_IDS), min_size=1, max_size=3)
    ),
    st.tuples(
        st.just("move"), st.sampled_from(GROUP_IDS), st.lists(st.sampled_from(CUSTOMER_IDS), min_size=1, max_size=3)
    ),
    st.tuples(
        st.just("remove"), st.sampled_from(GROUP_IDS), st.lists(st.sampled_from(CUSTOMER_IDS), min_size=1, max_size=3)
    ),
    st.tuples(st.just("record"), st.sampled_from(CUSTOMER_IDS), st.sampled_from([-2, 0, 1, 20]), st.booleans()),
    st.tuples(
        st.just("import"),
        st.sampled_from(["A-1", "A-2", "A-3"]),
        st.sampled_from(CUSTOMER_IDS),
        st.sampled_from([-40, -1, 0, 1]),
        st.sampled_from([OrderStatus.COMPLETED, OrderStatus.COMPLETED, OrderStatus.REFUNDED]),
        st.sampled_from([100, 2_500]),
    ),
    st.tuples(st.just("status"), st.integers(min_value=0, max_value=5), st.sampled_from(list(OrderStatus))),
)


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(steps, min_size=1, max_size=8))
async def test_the_writers_keep_the_totals_a_rebuild_would_give(groups, script):
    """Orders dated a little after now (an export's local times read as UTC) count for the groups
    the customer joins or leaves now: the one case where a membership change moves orders."""
    await _store([], [])
    now = datetime.now(UTC)
    for step in script:
        kind = step[0]
        if kind == "add":
            await add_members(group_id=step[1], customer_ids=step[2], mode=AddMode.ADD, actor=SYSTEM)
        elif kind == "move":
            await add_members(group_id=step[1], customer_ids=step[2], mode=AddMode.MOVE, actor=SYSTEM)
        elif kind == "remove":
            await remove_members(group_id=step[1], customer_ids=step[2], mode=RemoveMode.REMOVE, actor=SYSTEM)
        elif kind == "record":
            await record_order(
                customer_id=step[1],
                total_cents=1_000,
                placed_at=now + timedelta(hours=step[2]),
                status=OrderStatus.COMPLETED if step[3] else OrderStatus.PENDING,
            )
        elif kind == "import":
            _, number, customer_id, hours, status, total = step
            await save_orders(
                orders=[
                    OrderData(
                        number=number,
                        placed_at=now + timedelta(hours=hours),
                        total_cents=total,
                        status=status,
                        customer_id=customer_id,
                    )
                ],
                actor=SYSTEM,
            )
        else:
            ids = await Order.all().order_by("id").values_list("id", flat=True)
            if ids:
                await change_order_status(order_id=ids[step[1] % len(ids)], status=step[2], actor=SYSTEM)
        note(f"after {step}")
        kept = await _kept()
        assert kept == await _rebuilt(), f"after {step}"


async def test_the_top_customers_of_a_period_are_who_bought_most_in_it_not_over_all_time(groups):
    """Customers 1-6 spent the most in the first group, long ago; 7-9 little, in March."""
    long_ago, march = datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)
    await _store(
        FOUNDING,
        [(cid, long_ago, 100_000 * cid, True, False) for cid in range(1, 7)]
        + [(cid, march, 100 * cid, True, False) for cid in (7, 8, 9)]
        + [(6, march, 50, True, False)],
    )
    period = period_for("custom", start=date(2026, 3, 1), end=date(2026, 3, 31))
    report = await group_report(group_id=GROUP_IDS[0], period=period)
    assert [(c.name, c.revenue_cents) for c in report.top_customers] == [
        ("Customer 9", 900),
        ("Customer 8", 800),
        ("Customer 7", 700),
        ("Customer 6", 50),
    ]
    assert report == await old_group_report(group_id=GROUP_IDS[0], period=period)
