"""Tier ladders: Gold, Silver and Bronze under Tiered Customers, each customer on at most one rung,
the highest whose rule they match; a move is one event, seen on both rungs, in the feed and sent
as one member.moved."""

from datetime import UTC, datetime, timedelta

import pytest

from models.customer import Customer, CustomerStatus
from models.group import CustomerGroup, Membership, MembershipAction, MembershipEvent, MembershipSource
from models.shop import Shop
from models.webhook import WebhookEvent
from services.errors import FormError, NotFoundError
from services.groups.group import create_group, get_group, update_group
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.membership.history import describe, list_history
from services.orders import record_order
from services.rules.ladders import run_ladder
from services.rules.preview import preview_rule, preview_rung_rule
from services.rules.runs import apply_rule, reevaluate_customer, run_all_rules
from services.staff.actor import SystemActor
from services.webhooks.feed import membership_events
from services.webhooks.payloads import payload

OWNER = SystemActor("olivia")


def dollars(amount: int) -> int:
    return amount * 100


def at_least(amount: int) -> dict:
    return {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": dollars(amount)}]}


async def customer(name: str, spent: int, **extra) -> int:
    row = await Customer.create(
        name=name,
        email=f"{name.split()[0].lower()}@example.com",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        lifetime_cents=dollars(spent),
        order_count=1 if spent else 0,
        **extra,
    )
    return row.id


async def tiers(*, silver_type: str = "automatic", gold_capacity: int | None = None, hold_days: int | None = None):
    """Tiered Customers with Gold (from $20,000), Silver (from $8,000) and Bronze (from $2,000): the
    rules overlap on purpose, as an owner writes tiers; the ladder keeps each customer on one."""
    parent = await create_group(data={"name": "Tiered Customers", "code": "TIERED"}, actor=OWNER)
    await CustomerGroup.filter(id=parent.id).update(is_ladder=True, hold_days=hold_days)
    rungs = {}
    for position, (name, code, amount, kind, capacity) in enumerate(
        (
            ("Gold Tier", "GOLD", 20_000, "automatic", gold_capacity),
            ("Silver Tier", "SILVER", 8_000, silver_type, None),
            ("Bronze Tier", "BRONZE", 2_000, "automatic", None),
        ),
        start=1,
    ):
        # Each new rung comes in at the bottom, and saving it runs the ladder.
        data = {"name": name, "code": code, "type": kind, "rule": at_least(amount), "parent_id": parent.id}
        rungs[code] = (await create_group(data=data | {"capacity": capacity}, actor=OWNER)).id
        await CustomerGroup.filter(id=rungs[code]).update(rung=position)
    return parent.id, rungs


async def rungs_of(customer_id: int) -> list[str]:
    return sorted(await Membership.filter(customer_id=customer_id).values_list("group__code", flat=True))


async def newest(**timeline) -> str:
    """The newest entry of a group's or a customer's membership timeline, as the page words it."""
    return describe((await list_history(**timeline)).rows[0])


async def set_rule(group_id: int, rule: dict) -> None:
    current = await get_group(group_id=group_id)
    data = current.as_input()
    data.rule = rule
    await update_group(group_id=group_id, version=current.version, data=data, actor=OWNER)


async def test_each_customer_is_on_the_highest_rung_they_qualify_for(db):
    ana, ben, cy, dot = [
        await customer(n, s) for n, s in (("Ana A", 25_000), ("Ben B", 10_000), ("Cy C", 3_000), ("Dot D", 500))
    ]
    _, rungs = await tiers()

    assert [await rungs_of(c) for c in (ana, ben, cy, dot)] == [["GOLD"], ["SILVER"], ["BRONZE"], []]
    assert await MembershipEvent.filter(action=MembershipAction.JOINED).count() == 3
    counts = dict(await CustomerGroup.filter(id__in=list(rungs.values())).values_list("code", "member_count"))
    assert counts == {"GOLD": 1, "SILVER": 1, "BRONZE": 1}


async def test_lowering_gold_moves_silver_customers_up_with_one_event_each(db):
    ben = await customer("Ben B", 16_000)
    _, rungs = await tiers()
    before = await MembershipEvent.all().count()

    await set_rule(rungs["GOLD"], at_least(15_000))

    assert await rungs_of(ben) == ["GOLD"], "up from Silver, and no longer on Silver"
    [move] = await MembershipEvent.filter(id__gt=before)
    assert (move.action, move.group_id, move.other_group_id) == (
        MembershipAction.MOVED_UP,
        rungs["GOLD"],
        rungs["SILVER"],
    )
    assert move.reason == "Rule version 2 of Gold Tier"
    assert await newest(group_id=rungs["SILVER"]) == "Moved up to Gold Tier"
    assert await newest(group_id=rungs["GOLD"]) == "Moved up from Silver Tier"
    assert await newest(customer_id=ben) == "Moved up from Silver Tier to Gold Tier"
    moved = [
        i for i in (await membership_events(after=None, limit=100, actor=OWNER)).items if i["type"] == "member.moved"
    ]
    assert [(i["from"]["name"], i["to"]["name"], i["direction"]) for i in moved] == [("Silver Tier", "Gold Tier", "up")]
    [sent] = await WebhookEvent.filter(type="member.moved")
    data = payload(sent)["data"]
    assert (data["customer"]["name"], data["from"]["id"], data["to"]["code"], data["direction"]) == (
        "Ben B",
        rungs["SILVER"],
        "GOLD",
        "up",
    )


async def test_a_rung_is_never_run_alone_and_a_full_run_runs_the_ladder_once(db):
    ana = await customer("Ana A", 25_000)
    _, rungs = await tiers()
    await Customer.filter(id=ana).update(lifetime_cents=dollars(9_000))

    run = await apply_rule(group_id=rungs["BRONZE"], actor=OWNER)

    assert await rungs_of(ana) == ["SILVER"], "running Bronze ran the ladder: Ana moved down from Gold"
    assert run.ladder is not None and run.ladder.moved_down == 1
    await Customer.filter(id=ana).update(lifetime_cents=dollars(3_000))
    runs = await run_all_rules(actor=OWNER)
    assert sorted(r.group_name for r in runs) == ["Bronze Tier", "Gold Tier", "Silver Tier"]
    assert len({id(r.ladder) for r in runs}) == 1, "one ladder run for its three rungs"
    assert await rungs_of(ana) == ["BRONZE"]
    assert await MembershipEvent.filter(action=MembershipAction.MOVED_DOWN).count() == 2


async def test_an_order_moves_the_customer_up_at_once(db):
    cy = await customer("Cy C", 3_000)
    await tiers()

    await record_order(customer_id=cy, total_cents=dollars(9_000), placed_at=datetime.now(UTC))

    assert await rungs_of(cy) == ["SILVER"]
    changes = await reevaluate_customer(customer_id=cy, actor=OWNER)
    assert (changes.joined, changes.left) == ((), ()), "nothing left to do"
    [move] = await MembershipEvent.filter(action=MembershipAction.MOVED_UP)
    assert (move.group_name, move.other_group_name) == ("Silver Tier", "Bronze Tier")


async def test_a_customer_placed_by_hand_stays_on_that_rung_until_taken_off(db):
    ana = await customer("Ana A", 25_000)
    _, rungs = await tiers(silver_type="hybrid")

    result = await add_members(group_id=rungs["SILVER"], customer_ids=[ana], mode=AddMode.ADD, actor=OWNER)

    assert await rungs_of(ana) == ["SILVER"], "moved down from Gold, never on two rungs"
    assert result.moved_out == 1
    [move] = await MembershipEvent.filter(action=MembershipAction.MOVED_DOWN)
    assert (move.source, move.other_group_name) == (MembershipSource.MANUAL, "Gold Tier")
    later = MembershipEvent.filter(customer_id=ana, at__gte=move.at)
    assert await later.count() == 1, "one move: no leave from Gold, no join of Silver"
    await run_all_rules(actor=OWNER)
    assert await rungs_of(ana) == ["SILVER"], "a pin holds against the rule"

    await remove_members(group_id=rungs["SILVER"], customer_ids=[ana], mode=RemoveMode.REMOVE, actor=OWNER)

    assert await rungs_of(ana) == ["GOLD"], "off the pin, the ladder places her where her rule says"


async def test_moving_a_member_by_hand_between_rungs_is_one_move(db):
    ben = await customer("Ben B", 10_000)
    _, rungs = await tiers(silver_type="hybrid")
    await CustomerGroup.filter(id=rungs["BRONZE"]).update(type="hybrid")
    before = await MembershipEvent.all().count()

    result = await remove_members(
        group_id=rungs["SILVER"],
        customer_ids=[ben],
        mode=RemoveMode.OTHER_GROUP,
        target_group_id=rungs["BRONZE"],
        actor=OWNER,
    )

    assert (result.removed, result.joined_target, result.excluded) == (1, 1, 0)
    assert await rungs_of(ben) == ["BRONZE"]
    [move] = await MembershipEvent.filter(id__gt=before)
    assert (move.action, move.group_name, move.other_group_name) == (
        MembershipAction.MOVED_DOWN,
        "Bronze Tier",
        "Silver Tier",
    )


async def test_blocked_customers_never_join_a_rung_by_rule(db):
    eve = await customer("Eve E", 30_000, status=CustomerStatus.BLOCKED)
    await tiers()
    assert await rungs_of(eve) == []


async def test_a_full_top_rung_sends_the_next_customer_to_the_rung_below(db):
    first, second = await customer("Ana A", 25_000), await customer("Ben B", 30_000)
    parent, _ = await tiers(gold_capacity=1)

    assert (await rungs_of(first), await rungs_of(second)) == (["GOLD"], ["SILVER"])
    run = await run_ladder(ladder_id=parent, actor=OWNER)
    assert run.rung((await CustomerGroup.get(code="GOLD")).id).turned_away == 1
    assert not run.changed, "the same choice on every run: nobody churns"


async def test_with_a_hold_a_customer_below_their_rung_keeps_it_until_the_hold_ends(db):
    ana = await customer("Ana A", 25_000)
    parent, rungs = await tiers(hold_days=30)
    await Customer.filter(id=ana).update(lifetime_cents=dollars(9_000))
    now = datetime.now(UTC).replace(microsecond=0)

    await run_ladder(ladder_id=parent, actor=OWNER, now=now)

    membership = await Membership.get(customer_id=ana)
    assert (membership.group_id, membership.held_until) == (rungs["GOLD"], now + timedelta(days=30))
    await run_ladder(ladder_id=parent, actor=OWNER, now=now + timedelta(days=29))
    assert await rungs_of(ana) == ["GOLD"]
    await run_ladder(ladder_id=parent, actor=OWNER, now=now + timedelta(days=31))
    assert await rungs_of(ana) == ["SILVER"]
    [move] = await MembershipEvent.filter(action=MembershipAction.MOVED_DOWN)
    assert move.reason == "Rule version 1 of Gold Tier; held for 30 days"
    assert (await Membership.get(customer_id=ana)).held_until is None


async def test_with_one_group_per_customer_a_customer_in_another_group_does_not_join_the_ladder(db):
    ana, ben = await customer("Ana A", 25_000), await customer("Ben B", 25_000)
    wholesale = await create_group(data={"name": "Wholesale", "code": "WHOLESALE"}, actor=OWNER)
    await add_members(group_id=wholesale.id, customer_ids=[ben], mode=AddMode.ADD, actor=OWNER)
    await Shop.create(name="Shop", one_group_per_customer=True)
    parent, _ = await tiers()
    assert (await rungs_of(ana), await rungs_of(ben)) == (["GOLD"], ["WHOLESALE"])
    await Customer.filter(id=ana).update(lifetime_cents=dollars(9_000))
    await run_ladder(ladder_id=parent, actor=OWNER)
    assert await rungs_of(ana) == ["SILVER"], "moving along the ladder is no second group"


async def test_a_rungs_rule_preview_shows_moves_not_joins_and_leaves(db):
    ben, dan, cy = await customer("Ben B", 16_000), await customer("Dan D", 9_000), await customer("Cy C", 500)
    _, rungs = await tiers()
    events = await MembershipEvent.all().count()

    gold = await preview_rule(rule=at_least(15_000), group_id=rungs["GOLD"])
    silver = await preview_rule(rule=at_least(12_000), group_id=rungs["SILVER"])
    bronze = await preview_rule(rule=at_least(400), group_id=rungs["BRONZE"])

    assert gold.ladder.words() == "+1 up from Silver Tier"
    assert [c.name for c in gold.ladder.moves.up_from[0].sample] == ["Ben B"]
    assert silver.ladder.words() == "-1 down to Bronze Tier"
    assert bronze.ladder.words() == "+1 new to the ladder"
    assert (gold.change.joining, gold.change.leaving) == (1, 0), "the group's own view stays as it was"
    assert await MembershipEvent.all().count() == events, "previews change nothing"
    assert [await rungs_of(c) for c in (ben, dan, cy)] == [["SILVER"], ["SILVER"], []]
    wholesale = await create_group(data={"name": "Wholesale", "code": "WHOLESALE"}, actor=OWNER)
    assert await preview_rung_rule(group_id=wholesale.id, rule=at_least(1)) is None


async def test_running_a_group_that_is_no_ladder_is_refused(db):
    wholesale = await create_group(data={"name": "Wholesale", "code": "WHOLESALE"}, actor=OWNER)
    with pytest.raises(FormError) as refused:
        await run_ladder(ladder_id=wholesale.id, actor=OWNER)
    assert refused.value.errors == {"ladder": "Wholesale is not a ladder."}
    with pytest.raises(NotFoundError):
        await run_ladder(ladder_id=wholesale.id + 100, actor=OWNER)
