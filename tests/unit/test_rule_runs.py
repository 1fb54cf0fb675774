"""Membership from rules and rule history, on the demo shop's real database."""

import asyncio
from datetime import UTC, datetime

import pytest

from models.customer import Customer
from models.group import (
    CustomerGroup,
    GroupStatus,
    Membership,
    MembershipAction,
    MembershipEvent,
    MembershipExclusion,
    MembershipSource,
)
from services.errors import FormError
from services.groups.group import create_group, delete_group, get_group, update_group
from services.groups.rule_versions import list_rule_versions, restore_rule_version
from services.orders import record_order
from services.rules.runs import (
    apply_pending_rules,
    apply_rule,
    dependency_order,
    refresh_rules_periodically,
    run_all_rules,
)
from services.settings import Settings
from services.staff.actor import SystemActor
from tests.faults import allow_inserts, refuse_inserts

ACTOR = SystemActor("anna")


def dollars(amount: int) -> int:
    return amount * 100


def between(low: int, high: int) -> dict:
    return {
        "match": "all",
        "conditions": [
            {"field": "total_purchases", "op": "gte", "value": dollars(low)},
            {"field": "total_purchases", "op": "lte", "value": dollars(high)},
        ],
    }


async def members(group_id: int) -> dict[int, str]:
    """customer id -> source"""
    return dict(await Membership.filter(group_id=group_id).values_list("customer_id", "source"))


async def everything() -> list[tuple]:
    return sorted(await Membership.all().values_list("group_id", "customer_id", "source", "is_primary", "since"))


async def change_rule(group: CustomerGroup, rule: dict) -> None:
    current = await get_group(group_id=group.id)
    data = current.as_input()
    data.rule = rule
    await update_group(group_id=group.id, version=current.version, data=data, actor=ACTOR)


async def customers_spending(low: int, high: int) -> set[int]:
    """The independent answer: customers whose lifetime purchases lie in [low, high] dollars."""
    return set(
        await Customer.filter(lifetime_cents__gte=dollars(low), lifetime_cents__lte=dollars(high)).values_list(
            "id", flat=True
        )
    )


async def test_the_demo_shops_rule_groups_already_hold_their_matches(demo_db):
    before, events = await everything(), await MembershipEvent.all().count()

    runs = await run_all_rules(actor=ACTOR)

    assert {run.group_name for run in runs} == {
        "VIP Customers",
        "Gold Tier",
        "Silver Tier",
        "Bronze Tier",
        "New Customers",
    }
    assert all((run.joined, run.left, run.version) == (0, 0, 1) for run in runs), runs
    assert await everything() == before and await MembershipEvent.all().count() == events
    gold = await get_group(group_id=(await CustomerGroup.get(code="GOLD")).id)
    assert gold.rule_ran_at is not None and (gold.rule_joined, gold.rule_left) == (0, 0)


async def test_a_changed_rule_joins_and_leaves_exactly_the_difference(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    old = set(await members(gold.id))

    await change_rule(gold, between(15_000, 30_000))

    new = await customers_spending(15_000, 30_000)
    assert await members(gold.id) == dict.fromkeys(new, MembershipSource.RULE)
    joined, left = new - old, old - new
    assert joined and left, "the new range both adds and drops customers"
    events = await MembershipEvent.filter(group_id=gold.id, actor=ACTOR).values_list(
        "customer_id", "action", "source", "reason"
    )
    # Gold is the top rung of the Tiered Customers ladder: who comes from Silver moves up, in one event.
    assert sorted(events) == sorted(
        [(c, MembershipAction.MOVED_UP, MembershipSource.RULE, "Rule version 2 of Gold Tier") for c in joined]
        + [(c, MembershipAction.LEFT, MembershipSource.RULE, "Rule version 2") for c in left]
    )
    detail = await get_group(group_id=gold.id)
    assert (detail.rule_version, detail.rule_applied_version) == (2, 2)
    assert (detail.rule_joined, detail.rule_left, detail.members) == (len(joined), len(left), len(new))


async def test_a_run_reports_counts_and_a_sample_of_names(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    await CustomerGroup.filter(id=gold.id).update(rule=between(10_000, 30_000), rule_version=2)

    run = await apply_rule(group_id=gold.id, actor=ACTOR)

    assert run.joined > 5 and run.version == 2 and run.changed
    assert len(run.joined_sample) == 5
    assert [c.name for c in run.joined_sample] == sorted(c.name for c in run.joined_sample)
    sampled = {c.id for c in run.joined_sample} | {c.id for c in run.left_sample}
    assert sampled <= set(
        await MembershipEvent.filter(group_id=gold.id, actor=ACTOR).values_list("customer_id", flat=True)
    )


async def test_a_hybrid_group_keeps_manual_members_and_honours_exclusions(demo_db):
    vip = await CustomerGroup.get(code="VIP")
    global_supplies = await Customer.get(name="Global Supplies")
    acme = await Customer.get(name="Acme Corporation")
    start = await members(vip.id)
    assert start[global_supplies.id] == MembershipSource.MANUAL and acme.id in start
    await MembershipExclusion.create(group_id=vip.id, customer_id=acme.id, actor=ACTOR, at=datetime.now(UTC))

    # Broader: everyone above $50,000, whatever their rating. Global Supplies now matches too.
    await change_rule(
        vip, {"match": "all", "conditions": [{"field": "total_purchases", "op": "gt", "value": dollars(50_000)}]}
    )

    matches = await customers_spending(50_001, 10**9)
    now = await members(vip.id)
    assert acme.id not in now, "an excluded customer stays out although the rule matches"
    assert set(now) == matches - {acme.id} | {c for c, s in start.items() if s == MembershipSource.MANUAL}
    assert now[global_supplies.id] == MembershipSource.BOTH
    manual_only = {c for c, s in now.items() if s == MembershipSource.MANUAL}
    assert not manual_only & matches

    # Narrower: above $200,000. "Both" members below it stay, as manual; rule-only ones leave.
    await change_rule(
        vip, {"match": "all", "conditions": [{"field": "total_purchases", "op": "gt", "value": dollars(200_000)}]}
    )

    top = await customers_spending(200_001, 10**9) - {acme.id}
    after = await members(vip.id)
    assert after[global_supplies.id] == MembershipSource.MANUAL
    for customer_id, source in after.items():
        expected_source = (
            {MembershipSource.RULE, MembershipSource.BOTH} if customer_id in top else {MembershipSource.MANUAL}
        )
        assert source in expected_source
    assert top <= set(after)
    left = {c for c in now if c not in after}
    assert left and all(now[c] == MembershipSource.RULE for c in left)


async def test_an_order_moves_a_customer_from_silver_into_gold(demo_db):
    gold, silver = await CustomerGroup.get(code="GOLD"), await CustomerGroup.get(code="SILVER")
    customer = await Customer.get(name="InnoSystems")  # $18,234: Silver
    assert (await Membership.get(group_id=silver.id, customer_id=customer.id)).is_primary

    await record_order(customer_id=customer.id, total_cents=dollars(5_000), placed_at=datetime.now(UTC))

    assert not await Membership.exists(group_id=silver.id, customer_id=customer.id)
    now_gold = await Membership.get(group_id=gold.id, customer_id=customer.id)
    assert now_gold.source == MembershipSource.RULE
    assert now_gold.is_primary, "the customer keeps a primary group: the new tier"
    events = (
        await MembershipEvent.filter(customer_id=customer.id, actor=SystemActor("system"), reason__startswith="Rule")
        .order_by("id")
        .values_list("group_name", "action", "reason")
    )
    # Gold and Silver are rungs of the Tiered Customers ladder: one move, never a leave plus a join.
    assert events == [("Gold Tier", "moved_up", "Rule version 1 of Gold Tier")]


async def test_a_failure_half_way_leaves_the_members_untouched(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    before, events = await everything(), await MembershipEvent.all().count()
    # The events are written before the members change: failing there must undo all of it. Gold is a
    # rung of a ladder, so Silver's customers from $15,000 arrive by moving up.
    await refuse_inserts(
        "no_joins", table="membership_event", when="NEW.action IN ('joined', 'moved_up')", message="no joins today"
    )

    await change_rule(gold, between(15_000, 30_000))  # the save stands; applying its rule fails

    assert await everything() == before and await MembershipEvent.all().count() == events
    detail = await get_group(group_id=gold.id)
    assert (detail.rule_version, detail.rule_applied_version, detail.rule_ran_at) == (2, 1, None)
    with pytest.raises(Exception, match="no joins today"):
        await apply_rule(group_id=gold.id, actor=ACTOR)
    assert await everything() == before

    await allow_inserts("no_joins", table="membership_event")
    runs = await apply_pending_rules(actor=SystemActor("system"))
    assert [run.group_name for run in runs] == ["Gold Tier"]
    assert set(await members(gold.id)) == await customers_spending(15_000, 30_000)


async def test_restoring_a_version_saves_it_as_a_new_one(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    original = await members(gold.id)
    await change_rule(gold, between(15_000, 30_000))
    group = await get_group(group_id=gold.id)

    restored = await restore_rule_version(group_id=gold.id, number=1, version=group.version, actor=SystemActor("ben"))

    versions = await list_rule_versions(group_id=gold.id)
    assert [(v.number, v.author, v.note, v.is_current) for v in versions] == [
        (3, "ben", "Restored from version 1", True),
        (2, ACTOR.name, "", False),
        (1, "system", "Demo shop", False),
    ]
    assert versions[0].rule == versions[2].rule == restored.rule
    assert (restored.rule_version, restored.rule_applied_version) == (3, 3)
    assert await members(gold.id) == original, "the members follow the restored rule"
    with pytest.raises(FormError, match="already the group's rule"):
        await restore_rule_version(group_id=gold.id, number=1, version=restored.version, actor=SystemActor("ben"))


def test_groups_come_after_the_groups_their_rules_read():
    assert dependency_order({1: {3}, 2: set(), 3: {2}, 4: {1, 2}}) == [2, 3, 1, 4]
    assert dependency_order({5: {99}, 4: set()}) == [4, 5], "a group read but not run does not hold others up"


async def test_a_group_reading_another_runs_after_it_and_follows_its_changes(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    # Created first, so it has the lower id; made to read a group created after it.
    reader = await create_group(
        data={
            "name": "Big US",
            "code": "BIG-US",
            "type": "automatic",
            "rule": {"match": "all", "conditions": [{"field": "country", "op": "eq", "value": "US"}]},
        },
        actor=ACTOR,
    )
    big = await create_group(
        data={"name": "Big", "code": "BIG", "type": "automatic", "rule": between(30_000, 10**7)}, actor=ACTOR
    )
    rule = {
        "match": "all",
        "conditions": [
            {"field": "member_of", "op": "in", "value": [big.id, gold.id]},
            {"field": "country", "op": "eq", "value": "US"},
        ],
    }
    reader = await update_group(
        group_id=reader.id, version=reader.version, data={**reader.as_input().model_dump(), "rule": rule}, actor=ACTOR
    )

    runs = await run_all_rules(actor=ACTOR)
    order = [run.group_name for run in runs]
    assert order.index("Big") < order.index("Big US") and order.index("Gold Tier") < order.index("Big US")

    async def expected() -> set[int]:
        read = set(await Membership.filter(group_id__in=[big.id, gold.id]).values_list("customer_id", flat=True))
        return read & set(await Customer.filter(country="US").values_list("id", flat=True))

    before = set(await members(reader.id))
    assert before == await expected()
    # Changing a group it reads updates the reader at once, not at the next periodic run.
    await change_rule(await CustomerGroup.get(id=big.id), between(100_000, 10**7))
    after = set(await members(reader.id))
    assert after == await expected() and after != before


async def test_a_group_read_by_a_rule_cannot_be_deleted(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    rule = {"match": "all", "conditions": [{"field": "member_of", "op": "in", "value": [gold.id]}]}
    await create_group(data={"name": "Gold Fans", "code": "FANS", "type": "hybrid", "rule": rule}, actor=ACTOR)

    with pytest.raises(FormError) as refused:
        await delete_group(group_id=gold.id, actor=ACTOR)

    assert refused.value.errors == {
        "group": '"Gold Tier" cannot be deleted: the rules of "Gold Fans" read its members. Change those rules first.'
    }
    assert await CustomerGroup.exists(id=gold.id) and await members(gold.id)


async def test_an_inactive_group_keeps_its_members_until_switched_on(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    before = await members(gold.id)
    detail = await get_group(group_id=gold.id)
    data = detail.as_input()
    data.status, data.rule = GroupStatus.INACTIVE, between(15_000, 30_000)
    detail = await update_group(group_id=gold.id, version=detail.version, data=data, actor=ACTOR)

    assert await members(gold.id) == before and detail.rule_applied_version == 1
    with pytest.raises(FormError, match="inactive"):
        await apply_rule(group_id=gold.id, actor=ACTOR)
    assert "Gold Tier" not in [run.group_name for run in await run_all_rules()]

    data.status = GroupStatus.ACTIVE
    await update_group(group_id=gold.id, version=detail.version, data=data, actor=ACTOR)
    assert set(await members(gold.id)) == await customers_spending(15_000, 30_000)


async def test_the_background_refresh_applies_pending_rules_and_stops_cleanly(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    await CustomerGroup.filter(id=gold.id).update(rule=between(15_000, 30_000), rule_version=2)

    refresh = asyncio.create_task(refresh_rules_periodically(every_minutes=60))
    for _ in range(100):
        if (await CustomerGroup.get(id=gold.id)).rule_applied_version == 2:
            break
        await asyncio.sleep(0.02)
    refresh.cancel()
    with pytest.raises(asyncio.CancelledError):
        await refresh

    assert set(await members(gold.id)) == await customers_spending(15_000, 30_000)


def test_the_refresh_interval_is_a_setting(monkeypatch):
    monkeypatch.delenv("RULE_REFRESH_MINUTES", raising=False)
    assert Settings().rule_refresh_minutes == 15
    monkeypatch.setenv("RULE_REFRESH_MINUTES", "0")
    assert Settings().rule_refresh_minutes == 0
