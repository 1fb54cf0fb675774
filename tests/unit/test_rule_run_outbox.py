"""What a rule run writes beside the members, on the demo shop: one outbox row per join and leave,
in the history's order and saying what the history says, and the reports' kept totals a rebuild
would give (on PostgreSQL the spans are ended and opened in place, services.report_totals)."""

from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models.customer import Customer
from models.group import CustomerGroup, GroupType, MembershipAction, MembershipEvent, MembershipExclusion
from models.webhook import WebhookEvent
from services.groups.group import create_group
from services.membership.changes import AddMode, add_members
from services.report_totals import rebuild
from services.rules.runs import apply_rule
from services.staff.actor import SystemActor
from services.webhooks.feed import membership_events as feed
from services.webhooks.payloads import MEMBER_ACTIONS

ACTOR = SystemActor("anna")


def spending(low: int, high: int) -> dict:
    return {
        "match": "all",
        "conditions": [
            {"field": "total_purchases", "op": "gte", "value": low * 100},
            {"field": "total_purchases", "op": "lte", "value": high * 100},
        ],
    }


async def kept() -> dict[str, set]:
    async with in_transaction("default") as connection:
        tables = {
            "spans": "SELECT group_id, customer_id, event_id, start_at, end_at FROM report_span",
            "days": "SELECT group_id, day, orders, revenue_cents, began, ended FROM report_day "
            "WHERE orders <> 0 OR revenue_cents <> 0 OR began <> 0 OR ended <> 0",
            "customers": "SELECT group_id, customer_id, orders, revenue_cents FROM report_customer WHERE orders <> 0",
            "months": "SELECT group_id, month, customer_id, orders, revenue_cents FROM report_month WHERE orders <> 0",
        }
        return {name: {tuple(row) for row in (await connection.execute_query(sql))[1]} for name, sql in tables.items()}


async def rebuilt() -> dict[str, set]:
    async with in_transaction("default") as connection:
        await rebuild(connection)
    return await kept()


async def rerun(group_id: int, rule: dict, *, now: datetime) -> None:
    version = (await CustomerGroup.get(id=group_id)).rule_version + 1
    await CustomerGroup.filter(id=group_id).update(rule=rule, rule_version=version)
    await apply_rule(group_id=group_id, actor=ACTOR, now=now)


async def test_a_rule_run_sends_each_join_and_leave_once_in_the_historys_order(demo_db):
    data = {"name": "Middle", "code": "MIDDLE", "type": "automatic", "rule": spending(2_000, 20_000)}
    group = await CustomerGroup.get(id=(await create_group(data=data, actor=ACTOR)).id)
    now = datetime.now(UTC) + timedelta(seconds=1)

    await rerun(group.id, spending(10_000, 60_000), now=now)

    events = await MembershipEvent.filter(group_id=group.id, at=now).order_by("id")
    actions = [e.action for e in events]
    assert MembershipAction.LEFT in actions and MembershipAction.JOINED in actions
    assert actions == sorted(actions, key=lambda a: a != MembershipAction.LEFT), "leavers first, as before"
    sent = await WebhookEvent.filter(membership_event_id__in=[e.id for e in events]).order_by("id")
    assert [w.membership_event_id for w in sent] == [e.id for e in events], "one each, in the history's order"
    customers = {c.id: c for c in await Customer.filter(id__in=[e.customer_id for e in events])}
    for event, row in zip(events, sent, strict=True):
        customer = customers[event.customer_id]
        assert (row.type, row.action, row.source, row.reason) == (
            MEMBER_ACTIONS[event.action],
            event.action,
            event.source,
            event.reason,
        )
        assert (row.customer_id, row.customer_email, row.customer_name) == (customer.id, customer.email, customer.name)
        assert (row.group_id, row.group_name, row.group_code, row.created_at) == (group.id, "Middle", "MIDDLE", now)
    page = await feed(after=f"evt_{sent[0].id - 1}", limit=len(sent), actor=ACTOR)
    assert [item["id"] for item in page.items] == [f"evt_{w.id}" for w in sent]


async def test_rule_runs_keep_the_report_totals_a_rebuild_would_give(demo_db):
    data = {"name": "Middle", "code": "MIDDLE", "type": "hybrid", "rule": spending(2_000, 20_000)}
    group = await CustomerGroup.get(id=(await create_group(data=data, actor=ACTOR)).id)
    assert group.type == GroupType.HYBRID
    assert await kept() == await rebuilt()
    outside = await Customer.filter(lifetime_cents__gt=90_000 * 100).first()
    await add_members(group_id=group.id, customer_ids=[outside.id], mode=AddMode.ADD, actor=ACTOR)
    excluded = await Customer.filter(lifetime_cents__gte=30_000 * 100, lifetime_cents__lte=40_000 * 100).first()
    await MembershipExclusion.create(
        group_id=group.id, customer_id=excluded.id, reason="", actor="anna", at=datetime.now(UTC)
    )
    now = datetime.now(UTC) + timedelta(seconds=1)

    await rerun(group.id, spending(10_000, 60_000), now=now)
    assert await kept() == await rebuilt()
    # Again at the same moment: the spans this moment opened are ended by its new leaves, and the
    # joins seen again open none twice.
    await rerun(group.id, spending(1_000, 12_000), now=now)
    assert await kept() == await rebuilt()
    await rerun(group.id, spending(1_000, 12_000) | {"match": "any"}, now=now + timedelta(days=1))
    assert await kept() == await rebuilt()
