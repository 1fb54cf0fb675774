"""The membership timeline: newest first, filtered and paged in the database, worded for an owner."""

from datetime import UTC, datetime, timedelta

from models.customer import Customer
from models.group import CustomerGroup, MembershipAction, MembershipEvent, MembershipSource
from services.groups.group import delete_group
from services.membership.history import describe, list_history
from services.staff.actor import SystemActor

DAY = timedelta(days=1)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _customer(name: str, email: str) -> Customer:
    return await Customer.create(name=name, email=email, created_at=T0 - 400 * DAY)


async def _group(name: str, code: str) -> CustomerGroup:
    return await CustomerGroup.create(name=name, name_key=name.casefold(), code=code)


async def _event(customer: Customer, group: CustomerGroup, action: MembershipAction, at: datetime, **extra):
    return await MembershipEvent.create(
        customer=customer, group_id=group.id, group_name=group.name, action=action, at=at, **extra
    )


async def _shop():
    """Acme joins Gold, moves on to VIP and is made primary there; Zed joins VIP by rule and leaves."""
    acme = await _customer("Acme Corporation", "buyer@acme.example")
    zed = await _customer("Zed Traders", "zed@traders.example")
    gold, vip = await _group("Gold Tier", "GOLD"), await _group("VIP Customers", "VIP")
    await _event(acme, gold, MembershipAction.JOINED, T0, reason="Big first order")
    await _event(acme, gold, MembershipAction.MOVED, T0 + DAY, other_group_name="VIP Customers", reason="Upgrade")
    await _event(acme, vip, MembershipAction.JOINED, T0 + DAY, other_group_name="Gold Tier", reason="Upgrade")
    await _event(acme, vip, MembershipAction.MADE_PRIMARY, T0 + 2 * DAY, actor=SystemActor("dana"))
    await _event(zed, vip, MembershipAction.JOINED, T0 + 3 * DAY, source=MembershipSource.RULE, reason="Rule")
    await _event(zed, vip, MembershipAction.LEFT, T0 + 4 * DAY, source=MembershipSource.RULE, reason="Rule")
    return acme, zed, gold, vip


async def test_a_group_timeline_is_newest_first_and_names_the_customers(db):
    *_, vip = await _shop()
    history = await list_history(group_id=vip.id)
    assert history.total == 4
    assert [(row.customer_name, describe(row)) for row in history.rows] == [
        ("Zed Traders", "Left VIP Customers"),
        ("Zed Traders", "Joined VIP Customers"),
        ("Acme Corporation", "Made VIP Customers their primary group"),
        ("Acme Corporation", "Joined VIP Customers (moved from Gold Tier)"),
    ]
    assert all(row.group_exists and row.group_id == vip.id for row in history.rows)
    assert history.rows[2].actor == "dana"


async def test_a_customer_timeline_shows_every_group_they_were_in(db):
    acme, *_ = await _shop()
    history = await list_history(customer_id=acme.id)
    assert [describe(row) for row in history.rows] == [
        "Made VIP Customers their primary group",
        # Both halves of the move were written at the same moment: the later id comes first.
        "Joined VIP Customers (moved from Gold Tier)",
        "Moved from Gold Tier to VIP Customers",
        "Joined Gold Tier",
    ]


async def test_filters_by_action_source_search_and_period(db):
    acme, zed, _, vip = await _shop()
    left = await list_history(group_id=vip.id, actions=[MembershipAction.LEFT])
    assert [(r.customer_name, r.action) for r in left.rows] == [("Zed Traders", MembershipAction.LEFT)]
    # "Moved" on a group's timeline also shows who was moved into it.
    moved = await list_history(group_id=vip.id, actions=[MembershipAction.MOVED])
    assert [describe(r) for r in moved.rows] == ["Joined VIP Customers (moved from Gold Tier)"]
    joined_or_left = await list_history(customer_id=zed.id, actions=[MembershipAction.JOINED, MembershipAction.LEFT])
    assert joined_or_left.total == 2

    by_rule = await list_history(group_id=vip.id, source=MembershipSource.RULE)
    assert {r.customer_name for r in by_rule.rows} == {"Zed Traders"} and by_rule.total == 2

    assert {r.customer_name for r in (await list_history(group_id=vip.id, search="ACME")).rows} == {"Acme Corporation"}
    assert (await list_history(group_id=vip.id, search="traders.example")).total == 2
    assert [r.reason for r in (await list_history(group_id=vip.id, search="upgrade")).rows] == ["Upgrade"]
    on_customer = await list_history(customer_id=acme.id, search="gold")
    assert {r.group_name for r in on_customer.rows} == {"Gold Tier", "VIP Customers"}  # a move names both
    assert (await list_history(customer_id=acme.id, search="primary")).total == 0

    window = await list_history(group_id=vip.id, since=T0 + DAY, until=T0 + 3 * DAY)
    assert [describe(r) for r in window.rows] == [
        "Made VIP Customers their primary group",
        "Joined VIP Customers (moved from Gold Tier)",
    ]


async def test_pages_count_the_whole_filtered_timeline(db):
    acme = await _customer("Acme Corporation", "buyer@acme.example")
    vip = await _group("VIP Customers", "VIP")
    for i in range(23):
        action = MembershipAction.JOINED if i % 2 == 0 else MembershipAction.LEFT
        await _event(acme, vip, action, T0 + i * DAY)
    first, last = (
        await list_history(group_id=vip.id, per_page=10),
        await list_history(group_id=vip.id, page=3, per_page=10),
    )
    assert (first.total, first.pages, len(first.rows), len(last.rows)) == (23, 3, 10, 3)
    assert first.rows[0].at == T0 + 22 * DAY and last.rows[-1].at == T0
    joins = await list_history(group_id=vip.id, actions=[MembershipAction.JOINED], per_page=5)
    assert (joins.total, joins.pages) == (12, 3)
    assert (await list_history(group_id=vip.id, page=9)).rows == []


async def test_a_deleted_groups_history_stays(db):
    acme, _, gold, vip = await _shop()
    await delete_group(group_id=gold.id, actor=SystemActor("dana"))
    history = await list_history(customer_id=acme.id)
    gold_rows = [r for r in history.rows if r.group_id == gold.id]
    assert len(gold_rows) == 2 and not any(r.group_exists for r in gold_rows)
    assert all(r.group_exists for r in history.rows if r.group_id == vip.id)
    assert (await list_history(group_id=gold.id)).total == 2


async def test_each_action_is_worded_for_the_owner(db):
    _, _, gold, _ = await _shop()
    (moved,) = (await list_history(group_id=gold.id, actions=[MembershipAction.MOVED])).rows
    assert describe(moved) == "Moved from Gold Tier to VIP Customers"
    rows = {describe(r) for r in (await list_history()).rows}
    assert rows == {
        "Joined Gold Tier",
        "Moved from Gold Tier to VIP Customers",
        "Joined VIP Customers (moved from Gold Tier)",
        "Made VIP Customers their primary group",
        "Joined VIP Customers",
        "Left VIP Customers",
    }


async def test_the_demo_shop_has_a_join_for_every_member(demo_db):
    acme = await Customer.get(name="Acme Corporation")
    history = await list_history(customer_id=acme.id)
    assert [(describe(r), r.reason, r.actor) for r in history.rows] == [
        ("Made VIP Platinum their primary group", "Demo shop: a top VIP customer", "system"),
        ("Joined VIP Platinum", "Demo shop: a top VIP customer", "system"),
        ("Joined VIP Customers", "Demo shop", "system"),
    ]
