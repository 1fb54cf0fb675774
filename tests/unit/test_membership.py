"""Adding and removing members by hand: each option and each constraint, on a real database."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from models.customer import Customer, CustomerStatus
from models.group import (
    CustomerGroup,
    GroupStatus,
    Membership,
    MembershipAction,
    MembershipEvent,
    MembershipExclusion,
    MembershipSource,
)
from models.shop import Shop
from services.errors import FormError
from services.groups.group import create_group, delete_group, get_group, update_group
from services.membership.changes import (
    AddMode,
    RemoveMode,
    add_members,
    lift_exclusions,
    list_exclusions,
    remove_members,
)
from services.orders import record_order
from services.rules.runs import apply_rule
from services.staff.actor import SystemActor

ACTOR = SystemActor("anna")
BIG_SPENDERS = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 1_000_000}]}


@dataclass
class Shopfront:
    retail: int
    vip: int
    gold: int  # automatic: lifetime purchases of $10,000 or more
    wholesale: int  # hybrid, same rule
    acme: int
    dataflow: int  # a big spender
    smarttech: int
    blocked: int


async def _customer(name: str, *, status: CustomerStatus = CustomerStatus.ACTIVE) -> int:
    customer = await Customer.create(
        name=name,
        email=f"{name.split()[0].lower()}@example.com",
        status=status,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return customer.id


async def _group(name: str, code: str, *, type: str = "manual", rule: dict | None = None, **extra) -> int:
    group = await create_group(data={"name": name, "code": code, "type": type, "rule": rule, **extra}, actor=ACTOR)
    return group.id


@pytest.fixture
async def shop(db) -> Shopfront:
    await Shop.create(name="Test shop")
    ids = {
        "acme": await _customer("Acme Corporation"),
        "dataflow": await _customer("DataFlow Corp"),
        "smarttech": await _customer("SmartTech LLC"),
        "blocked": await _customer("Blocked Buyer", status=CustomerStatus.BLOCKED),
    }
    await record_order(customer_id=ids["dataflow"], total_cents=1_200_000, placed_at=datetime(2025, 5, 1, tzinfo=UTC))
    retail = await _group("Retail", "RETAIL")
    await CustomerGroup.filter(id=retail).update(is_default=True)
    return Shopfront(
        retail=retail,
        vip=await _group("VIP Customers", "VIP"),
        gold=await _group("Gold Tier", "GOLD", type="automatic", rule=BIG_SPENDERS),
        wholesale=await _group("Wholesale", "WHOLESALE", type="hybrid", rule=BIG_SPENDERS),
        **ids,
    )


async def groups_of(customer_id: int) -> dict[str, bool]:
    """The customer's groups by name, with whether each is their primary group."""
    rows = await Membership.filter(customer_id=customer_id).values_list("group__name", "is_primary")
    return dict(rows)


async def history(customer_id: int) -> list[tuple]:
    return list(
        await MembershipEvent.filter(customer_id=customer_id)
        .order_by("id")
        .values_list("group_name", "action", "other_group_name", "reason", "actor")
    )


async def counts_are_right() -> None:
    for group_id, stored in await CustomerGroup.all().values_list("id", "member_count"):
        assert stored == await Membership.filter(group_id=group_id).count()


async def test_add_only_joins_with_an_event_and_a_primary_group_for_the_groupless(shop: Shopfront):
    await add_members(group_id=shop.retail, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    result = await add_members(
        group_id=shop.vip, customer_ids=[shop.acme, shop.smarttech], mode=AddMode.ADD, actor=ACTOR, reason="Trade show"
    )
    assert (result.added, result.already, result.moved_out) == (2, 0, 0)
    assert result.summary() == "Added 2 customers to VIP Customers."
    assert await groups_of(shop.acme) == {"Retail": True, "VIP Customers": False}
    assert await groups_of(shop.smarttech) == {"VIP Customers": True}
    assert (await history(shop.smarttech))[-1] == (
        "VIP Customers",
        MembershipAction.JOINED,
        None,
        "Trade show",
        ACTOR.name,
    )
    assert (await get_group(group_id=shop.vip)).members == 2
    await counts_are_right()


async def test_adding_someone_already_in_the_group_changes_nothing(shop: Shopfront):
    await add_members(group_id=shop.vip, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    result = await add_members(group_id=shop.vip, customer_ids=[shop.acme, shop.acme], mode=AddMode.ADD, actor=ACTOR)
    assert (result.added, result.already) == (0, 1)
    assert len(await history(shop.acme)) == 1


async def test_move_from_current_group_leaves_manual_groups_and_says_where_to(shop: Shopfront):
    await add_members(group_id=shop.retail, customer_ids=[shop.acme, shop.dataflow], mode=AddMode.ADD, actor=ACTOR)
    result = await add_members(
        group_id=shop.vip, customer_ids=[shop.acme, shop.dataflow], mode=AddMode.MOVE, actor=ACTOR, reason="Upgrade"
    )
    # Acme leaves Retail; DataFlow leaves Retail and hybrid Wholesale, but is in automatic Gold Tier
    # by its rule: the move leaves that alone and says so.
    assert (result.added, result.moved_out) == (2, 3)
    assert (result.kept_by_rule, result.kept_by_rule_names) == (1, ("DataFlow Corp (Gold Tier)",))
    assert "kept because an automatic group's rule includes them (DataFlow Corp (Gold Tier))" in result.summary()
    assert await groups_of(shop.acme) == {"VIP Customers": True}
    assert set(await groups_of(shop.dataflow)) == {"Gold Tier", "VIP Customers"}
    assert (await history(shop.acme))[-2:] == [
        ("Retail", MembershipAction.MOVED, "VIP Customers", "Upgrade", ACTOR.name),
        ("VIP Customers", MembershipAction.JOINED, "Retail", "Upgrade", ACTOR.name),
    ]
    await counts_are_right()


async def test_moving_a_rule_matched_member_out_of_a_hybrid_group_keeps_them_out(shop: Shopfront):
    assert "Wholesale" in await groups_of(shop.dataflow)
    await add_members(group_id=shop.vip, customer_ids=[shop.dataflow], mode=AddMode.MOVE, actor=ACTOR)
    assert "Wholesale" not in await groups_of(shop.dataflow)
    await apply_rule(group_id=shop.wholesale, actor=ACTOR)
    assert "Wholesale" not in await groups_of(shop.dataflow)


async def test_add_as_primary_switches_the_primary_group_with_an_event(shop: Shopfront):
    await add_members(group_id=shop.retail, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    result = await add_members(group_id=shop.vip, customer_ids=[shop.acme], mode=AddMode.PRIMARY, actor=ACTOR)
    assert (result.added, result.made_primary) == (1, 1)
    assert await groups_of(shop.acme) == {"Retail": False, "VIP Customers": True}
    assert (await history(shop.acme))[-1][:2] == ("VIP Customers", MembershipAction.MADE_PRIMARY)
    again = await add_members(group_id=shop.vip, customer_ids=[shop.acme], mode=AddMode.PRIMARY, actor=ACTOR)
    assert (again.added, again.already, again.made_primary) == (0, 1, 0)


async def test_blocked_customers_are_not_added_and_are_named(shop: Shopfront):
    result = await add_members(group_id=shop.vip, customer_ids=[shop.acme, shop.blocked], mode=AddMode.ADD, actor=ACTOR)
    assert (result.added, result.blocked, result.blocked_names) == (1, 1, ("Blocked Buyer",))
    assert "1 blocked customer not added (Blocked Buyer)" in result.summary()
    assert await groups_of(shop.blocked) == {}


async def test_inactive_and_automatic_groups_take_no_one_by_hand(shop: Shopfront):
    await CustomerGroup.filter(id=shop.vip).update(status=GroupStatus.INACTIVE)
    with pytest.raises(FormError) as inactive:
        await add_members(group_id=shop.vip, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    assert inactive.value.errors == {"group": "VIP Customers is inactive: it accepts no new members."}
    with pytest.raises(FormError) as automatic:
        await add_members(group_id=shop.gold, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    assert "Turn it into a hybrid group" in automatic.value.errors["group"]
    with pytest.raises(FormError) as removing:
        await remove_members(group_id=shop.gold, customer_ids=[shop.dataflow], mode=RemoveMode.REMOVE, actor=ACTOR)
    assert "its members follow its rule" in removing.value.errors["group"]
    assert await groups_of(shop.acme) == {}


async def test_a_full_group_says_how_full_and_takes_no_one(shop: Shopfront):
    await CustomerGroup.filter(id=shop.vip).update(capacity=2)
    with pytest.raises(FormError) as too_many:
        await add_members(
            group_id=shop.vip, customer_ids=[shop.acme, shop.dataflow, shop.smarttech], mode=AddMode.ADD, actor=ACTOR
        )
    assert too_many.value.errors == {"capacity": "VIP Customers has room for 2 more customers (0 of 2); 3 would join."}
    assert await Membership.filter(group_id=shop.vip).count() == 0
    await add_members(group_id=shop.vip, customer_ids=[shop.acme, shop.dataflow], mode=AddMode.ADD, actor=ACTOR)
    with pytest.raises(FormError) as full:
        await add_members(group_id=shop.vip, customer_ids=[shop.smarttech], mode=AddMode.ADD, actor=ACTOR)
    assert full.value.errors == {"capacity": "VIP Customers is full: 2 of 2."}


async def test_capacity_below_the_members_already_there_is_refused_at_the_field(shop: Shopfront):
    await add_members(group_id=shop.vip, customer_ids=[shop.acme, shop.dataflow], mode=AddMode.ADD, actor=ACTOR)
    detail = await get_group(group_id=shop.vip)
    data = detail.as_input().model_dump() | {"capacity": 1}
    with pytest.raises(FormError) as error:
        await update_group(group_id=shop.vip, version=detail.version, data=data, actor=ACTOR)
    assert error.value.errors == {
        "capacity": "The group has 2 members already: set at least 2, or remove members first."
    }


async def test_one_group_per_customer_refuses_a_second_group_unless_moving(shop: Shopfront):
    await add_members(group_id=shop.retail, customer_ids=[shop.acme, shop.smarttech], mode=AddMode.ADD, actor=ACTOR)
    await Shop.all().update(one_group_per_customer=True)
    with pytest.raises(FormError) as error:
        await add_members(group_id=shop.vip, customer_ids=[shop.acme, shop.smarttech], mode=AddMode.ADD, actor=ACTOR)
    assert error.value.errors == {
        "mode": "2 selected customers are already in another group: Acme Corporation (Retail), SmartTech LLC (Retail). "
        'The shop allows one group per customer: choose "Move from current group".'
    }
    await add_members(group_id=shop.vip, customer_ids=[shop.acme, shop.smarttech], mode=AddMode.MOVE, actor=ACTOR)
    assert await groups_of(shop.acme) == {"VIP Customers": True}
    # A customer held by an automatic group's rule cannot be moved while groups are exclusive.
    with pytest.raises(FormError) as held:
        await add_members(group_id=shop.vip, customer_ids=[shop.dataflow], mode=AddMode.MOVE, actor=ACTOR)
    assert "in an automatic group by its rule: DataFlow Corp (Gold Tier)" in held.value.errors["mode"]


async def test_rules_do_not_give_a_second_group_while_groups_are_exclusive(shop: Shopfront):
    await Shop.all().update(one_group_per_customer=True)
    await remove_members(group_id=shop.wholesale, customer_ids=[shop.dataflow], mode=RemoveMode.REMOVE, actor=ACTOR)
    await MembershipExclusion.all().delete()
    await Membership.filter(customer_id=shop.dataflow).delete()
    await add_members(group_id=shop.vip, customer_ids=[shop.dataflow], mode=AddMode.ADD, actor=ACTOR)
    run = await apply_rule(group_id=shop.gold, actor=ACTOR)
    assert run.joined == 0
    assert await groups_of(shop.dataflow) == {"VIP Customers": True}


async def test_remove_keeps_other_groups_and_hands_the_primary_on(shop: Shopfront):
    await add_members(group_id=shop.vip, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    await add_members(group_id=shop.retail, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    result = await remove_members(
        group_id=shop.vip,
        customer_ids=[shop.acme, shop.smarttech],
        mode=RemoveMode.REMOVE,
        actor=ACTOR,
        reason="Lapsed",
    )
    assert (result.removed, result.not_members) == (1, 1)
    assert result.summary() == "Removed 1 customer from VIP Customers; 1 selected customer not in the group."
    assert await groups_of(shop.acme) == {"Retail": True}
    assert (await history(shop.acme))[-1] == ("VIP Customers", MembershipAction.LEFT, None, "Lapsed", ACTOR.name)


async def test_move_to_default_group_with_a_reason(shop: Shopfront):
    await add_members(group_id=shop.vip, customer_ids=[shop.acme, shop.smarttech], mode=AddMode.ADD, actor=ACTOR)
    result = await remove_members(
        group_id=shop.vip,
        customer_ids=[shop.acme],
        mode=RemoveMode.DEFAULT_GROUP,
        actor=ACTOR,
        reason="No purchases 12+ months",
    )
    assert (result.removed, result.moved_to, result.joined_target) == (1, "Retail", 1)
    assert await groups_of(shop.acme) == {"Retail": True}
    assert (await history(shop.acme))[-2:] == [
        ("VIP Customers", MembershipAction.MOVED, "Retail", "No purchases 12+ months", ACTOR.name),
        ("Retail", MembershipAction.JOINED, "VIP Customers", "No purchases 12+ months", ACTOR.name),
    ]
    await counts_are_right()


async def test_moving_to_another_group_checks_that_group(shop: Shopfront):
    await add_members(group_id=shop.vip, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    with pytest.raises(FormError) as no_target:
        await remove_members(group_id=shop.vip, customer_ids=[shop.acme], mode=RemoveMode.OTHER_GROUP, actor=ACTOR)
    assert no_target.value.errors == {"target": "Choose the group to move them to."}
    with pytest.raises(FormError) as automatic:
        await remove_members(
            group_id=shop.vip,
            customer_ids=[shop.acme],
            mode=RemoveMode.OTHER_GROUP,
            target_group_id=shop.gold,
            actor=ACTOR,
        )
    assert "Gold Tier is an automatic group" in automatic.value.errors["target"]
    assert await groups_of(shop.acme) == {"VIP Customers": True}  # nothing half-done
    with pytest.raises(FormError) as default_itself:
        await remove_members(group_id=shop.retail, customer_ids=[shop.acme], mode=RemoveMode.DEFAULT_GROUP, actor=ACTOR)
    assert default_itself.value.errors == {
        "mode": "This is the default group: move its members to another group instead."
    }


async def test_removing_a_rule_matched_member_of_a_hybrid_group_excludes_them_until_added_again(shop: Shopfront):
    result = await remove_members(
        group_id=shop.wholesale, customer_ids=[shop.dataflow], mode=RemoveMode.REMOVE, actor=ACTOR, reason="Retail only"
    )
    assert result.excluded == 1
    exclusion = await MembershipExclusion.get(group_id=shop.wholesale, customer_id=shop.dataflow)
    assert (exclusion.reason, exclusion.actor) == ("Retail only", ACTOR.name)
    await apply_rule(group_id=shop.wholesale, actor=ACTOR)
    assert "Wholesale" not in await groups_of(shop.dataflow)

    await add_members(group_id=shop.wholesale, customer_ids=[shop.dataflow], mode=AddMode.ADD, actor=ACTOR)
    assert not await MembershipExclusion.exists(group_id=shop.wholesale, customer_id=shop.dataflow)
    await apply_rule(group_id=shop.wholesale, actor=ACTOR)
    source = await Membership.get(group_id=shop.wholesale, customer_id=shop.dataflow).values_list("source", flat=True)
    assert source == MembershipSource.BOTH


async def test_adding_a_rule_member_of_a_hybrid_group_by_hand_makes_them_both(shop: Shopfront):
    result = await add_members(group_id=shop.wholesale, customer_ids=[shop.dataflow], mode=AddMode.ADD, actor=ACTOR)
    assert (result.added, result.already) == (0, 1)
    membership = await Membership.get(group_id=shop.wholesale, customer_id=shop.dataflow)
    assert membership.source == MembershipSource.BOTH


async def test_deleting_a_group_hands_its_members_primary_on(shop: Shopfront):
    await add_members(group_id=shop.vip, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    await add_members(group_id=shop.retail, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    await delete_group(group_id=shop.vip, actor=ACTOR)
    assert await groups_of(shop.acme) == {"Retail": True}
    await counts_are_right()


async def test_nothing_selected_is_a_clear_message(shop: Shopfront):
    with pytest.raises(FormError) as error:
        await add_members(group_id=shop.vip, customer_ids=[], mode=AddMode.ADD, actor=ACTOR)
    assert error.value.errors == {"customers": "Select at least one customer."}


async def test_letting_the_rule_decide_again_brings_an_excluded_customer_back(shop: Shopfront):
    await remove_members(group_id=shop.wholesale, customer_ids=[shop.dataflow], mode=RemoveMode.REMOVE, actor=ACTOR)
    rows, total = await list_exclusions(group_id=shop.wholesale)
    assert total == 1 and rows[0].name == "DataFlow Corp"
    assert await lift_exclusions(group_id=shop.wholesale, customer_ids=[shop.dataflow], actor=ACTOR) == 1
    assert "Wholesale" in await groups_of(shop.dataflow)
    assert (await history(shop.dataflow))[-1][:2] == ("Wholesale", MembershipAction.JOINED)


async def test_move_to_a_specific_group_joins_it_with_both_ends_in_the_history(shop: Shopfront):
    await add_members(group_id=shop.vip, customer_ids=[shop.acme, shop.smarttech], mode=AddMode.ADD, actor=ACTOR)
    await add_members(group_id=shop.retail, customer_ids=[shop.smarttech], mode=AddMode.ADD, actor=ACTOR)
    result = await remove_members(
        group_id=shop.vip,
        customer_ids=[shop.acme, shop.smarttech],
        mode=RemoveMode.OTHER_GROUP,
        target_group_id=shop.retail,
        actor=ACTOR,
        reason="Downgrade",
    )
    # SmartTech was in Retail already: removed from VIP, but nobody joins Retail twice.
    assert (result.removed, result.moved_to, result.joined_target) == (2, "Retail", 1)
    assert result.summary() == "Removed 2 customers from VIP Customers and moved them to Retail."
    assert await groups_of(shop.acme) == {"Retail": True}
    assert await groups_of(shop.smarttech) == {"Retail": True}
    assert (await history(shop.acme))[-2:] == [
        ("VIP Customers", MembershipAction.MOVED, "Retail", "Downgrade", ACTOR.name),
        ("Retail", MembershipAction.JOINED, "VIP Customers", "Downgrade", ACTOR.name),
    ]
    await counts_are_right()


async def test_moving_to_an_inactive_default_group_says_so_at_the_option(shop: Shopfront):
    await add_members(group_id=shop.vip, customer_ids=[shop.acme], mode=AddMode.ADD, actor=ACTOR)
    await CustomerGroup.filter(id=shop.retail).update(status=GroupStatus.INACTIVE)  # as an older version allowed
    with pytest.raises(FormError) as error:
        await remove_members(group_id=shop.vip, customer_ids=[shop.acme], mode=RemoveMode.DEFAULT_GROUP, actor=ACTOR)
    assert error.value.errors == {
        "mode": "Retail is inactive: it accepts no new members. It is the shop's default group: choose another "
        "default in Settings, or move them to a specific group."
    }
    await CustomerGroup.filter(id=shop.retail).update(is_default=False)
    with pytest.raises(FormError) as none:
        await remove_members(group_id=shop.vip, customer_ids=[shop.acme], mode=RemoveMode.DEFAULT_GROUP, actor=ACTOR)
    assert none.value.errors == {"mode": "The shop has no default group. Choose one in Settings, or pick a group."}
    assert await groups_of(shop.acme) == {"VIP Customers": True}


async def test_the_default_group_cannot_be_switched_off_or_made_automatic(shop: Shopfront):
    detail = await get_group(group_id=shop.retail)
    data = detail.as_input().model_dump() | {"status": "inactive", "type": "automatic", "rule": BIG_SPENDERS}
    with pytest.raises(FormError) as error:
        await update_group(group_id=shop.retail, version=detail.version, data=data, actor=ACTOR)
    assert error.value.errors == {
        "status": "This is the shop's default group, which must stay active: choose another default in Settings first.",
        "type": "This is the shop's default group, into which customers are moved by hand, so it cannot be "
        "automatic: choose another default in Settings first.",
    }
    hybrid = detail.as_input().model_dump() | {"type": "hybrid", "rule": BIG_SPENDERS}
    assert (await update_group(group_id=shop.retail, version=detail.version, data=hybrid, actor=ACTOR)).is_default


async def test_rule_runs_add_no_blocked_customer(shop: Shopfront):
    await record_order(customer_id=shop.blocked, total_cents=2_000_000, placed_at=datetime(2025, 6, 1, tzinfo=UTC))
    for group in (shop.gold, shop.wholesale):
        await apply_rule(group_id=group, actor=ACTOR)
    assert await groups_of(shop.blocked) == {}


async def test_a_rule_run_fills_a_group_up_to_its_capacity_and_reports_the_rest(shop: Shopfront):
    detail = await get_group(group_id=shop.gold)
    await update_group(
        group_id=shop.gold, version=detail.version, data=detail.as_input().model_dump() | {"capacity": 2}, actor=ACTOR
    )
    # Both become big spenders at once (the stats the rule reads; no order re-checks them one by one).
    await Customer.filter(id__in=[shop.smarttech, shop.acme]).update(lifetime_cents=1_500_000)
    run = await apply_rule(group_id=shop.gold, actor=ACTOR)
    # DataFlow was a member already; of the two new matches, the longer-standing customer gets the place.
    assert (run.joined, run.turned_away, run.members) == (1, 1, 2)
    assert set(await Membership.filter(group_id=shop.gold).values_list("customer__name", flat=True)) == {
        "DataFlow Corp",
        "Acme Corporation",
    }
    again = await apply_rule(group_id=shop.gold, actor=ACTOR)
    assert (again.joined, again.left, again.turned_away) == (0, 0, 1)  # the same choice, no churn
    await counts_are_right()


async def test_two_owners_adding_one_customer_to_two_groups_at_once_leave_them_in_one(shop: Shopfront):
    # On PostgreSQL the two actions run side by side on connections of their own; a few customers
    # make a missed race unlikely to go unnoticed.
    await Shop.all().update(one_group_per_customer=True)
    for customer in [shop.acme, shop.smarttech] + [await _customer(f"Racer{i} Ltd") for i in range(6)]:
        outcomes = await asyncio.gather(
            add_members(group_id=shop.vip, customer_ids=[customer], mode=AddMode.ADD, actor=ACTOR),
            add_members(group_id=shop.retail, customer_ids=[customer], mode=AddMode.ADD, actor=SystemActor("ben")),
            return_exceptions=True,
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["AddResult", "FormError"]
        assert len(await groups_of(customer)) == 1
    await counts_are_right()


async def test_two_owners_moving_customers_in_opposite_directions_at_once_both_succeed(shop: Shopfront):
    # Each move recounts the group it takes its customer out of, the group the other move adds to.
    # On PostgreSQL, locking only the group added to made the two wait for each other in a circle,
    # and the database cancelled one of them.
    for round_ in range(4):
        one, other = await _customer(f"Mover{round_}a Ltd"), await _customer(f"Mover{round_}b Ltd")
        await add_members(group_id=shop.vip, customer_ids=[one], mode=AddMode.ADD, actor=ACTOR)
        await add_members(group_id=shop.retail, customer_ids=[other], mode=AddMode.ADD, actor=ACTOR)
        await asyncio.gather(
            add_members(group_id=shop.retail, customer_ids=[one], mode=AddMode.MOVE, actor=ACTOR),
            add_members(group_id=shop.vip, customer_ids=[other], mode=AddMode.MOVE, actor=SystemActor("ben")),
        )
        assert list(await groups_of(one)) == ["Retail"]
        assert list(await groups_of(other)) == ["VIP Customers"]
    await counts_are_right()


async def test_a_rule_run_and_an_owner_adding_the_same_customers_at_once_leave_each_in_one_group(shop: Shopfront):
    # With one group per customer, a rule run skips customers in another group and an owner's add
    # refuses them; run side by side (PostgreSQL), each must see what the other did.
    await Shop.all().update(one_group_per_customer=True)
    for round_ in range(4):
        racers = [await _customer(f"Rich{round_}x{i} Ltd") for i in range(3)]
        await Customer.filter(id__in=racers).update(lifetime_cents=1_500_000)  # the rule's big spenders
        outcomes = await asyncio.gather(
            apply_rule(group_id=shop.gold, actor=ACTOR),
            add_members(group_id=shop.retail, customer_ids=racers, mode=AddMode.ADD, actor=SystemActor("ben")),
            return_exceptions=True,
        )
        assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, FormError)], outcomes
        for racer in racers:
            assert len(await groups_of(racer)) == 1
    await counts_are_right()
