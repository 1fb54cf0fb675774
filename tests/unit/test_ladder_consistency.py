"""A ladder stays whole as the shop's groups change around it: a group moved under it becomes its
bottom rung and the ladder places everyone at once, a rung moved away or deleted leaves the others
numbered 1..n (never fewer than two), a customer put on a rung by hand leaves their other rung with
one move, and the ladder's own group takes nobody by hand."""

from datetime import UTC, datetime

import pytest

from models.group import (
    CustomerGroup,
    GroupStatus,
    GroupType,
    Membership,
    MembershipAction,
    MembershipEvent,
    MembershipSource,
)
from services.benefits.hierarchy import group_tree, move_group, walk
from services.errors import FormError
from services.groups.group import (
    check_group,
    create_group,
    delete_group,
    get_group,
    group_choices,
    turn_hybrid,
    update_group,
)
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.rules.ladder_setup import make_ladder
from services.rules.ladders import run_ladder
from services.rules.runs import apply_rule
from tests.unit.ladder_shop import OWNER, at_least, customer


async def group(name: str, code: str, *, dollars: int | None = None, kind: str = "automatic", parent=None) -> int:
    data = {"name": name, "code": code, "parent_id": parent}
    if dollars is not None:
        data |= {"type": kind, "rule": at_least(dollars)}
    return (await create_group(data=data, actor=OWNER)).id


async def ladder(*tiers: tuple[str, str, int], kind: str = "automatic") -> tuple[int, dict[str, int]]:
    """Tiered Customers, a ladder of these (name, code, from dollars) rungs, top first."""
    parent = await group("Tiered Customers", "TIERED")
    rungs = {code: await group(name, code, dollars=amount, kind=kind, parent=parent) for name, code, amount in tiers}
    await make_ladder(parent_id=parent, rung_order=list(rungs.values()), actor=OWNER)
    return parent, rungs


GOLD, SILVER, BRONZE = ("Gold Tier", "GOLD", 20_000), ("Silver Tier", "SILVER", 8_000), ("Bronze Tier", "BRONZE", 2_000)


async def codes(customer_id: int) -> list[str]:
    return sorted(await Membership.filter(customer_id=customer_id).values_list("group__code", flat=True))


async def rungs_in_order(parent: int) -> list[tuple[str, int | None]]:
    return await CustomerGroup.filter(parent_id=parent).order_by("rung").values_list("code", "rung")


async def on_two_rungs(parent: int) -> int:
    """Customers on more than one rung of the ladder, counted by the database."""
    rungs = await CustomerGroup.filter(parent_id=parent).values_list("id", flat=True)
    held = await Membership.filter(group_id__in=rungs).values_list("customer_id", flat=True)
    return len(held) - len(set(held))


async def move(group_id: int, parent_id: int | None) -> None:
    """The group form's parent changed and saved."""
    current = await get_group(group_id=group_id)
    data = current.as_input()
    data.parent_id = parent_id
    await update_group(group_id=group_id, version=current.version, data=data, actor=OWNER)


# --- Moving groups into and out of a ladder ---------------------------------------------------


async def test_a_group_moved_under_a_ladder_becomes_its_bottom_rung_and_nobody_stays_on_two(db):
    ana, cy = await customer("Ana Alder", 25_000), await customer("Cy Cedar", 3_000)
    parent, rungs = await ladder(GOLD, SILVER)
    bronze = await group("Bronze Club", "BRONZE", dollars=2_000)
    assert await codes(ana) == ["BRONZE", "GOLD"], "a plain group beside the ladder"
    events = await MembershipEvent.all().count()

    await move_group(group_id=bronze, parent_id=parent, actor=OWNER)

    assert await rungs_in_order(parent) == [("GOLD", 1), ("SILVER", 2), ("BRONZE", 3)]
    assert await codes(ana) == ["GOLD"] and await codes(cy) == ["BRONZE"]
    assert await on_two_rungs(parent) == 0
    [left] = await MembershipEvent.filter(id__gt=events)
    assert (left.customer_id, left.action, left.group_id, left.other_group_id) == (
        ana,
        MembershipAction.LEFT,
        bronze,
        rungs["GOLD"],
    ), "Ana keeps Gold, where she was: she leaves Bronze Club, no move up to a rung she was on and no join"
    assert left.reason == "On Gold Tier: one rung of Tiered Customers per customer"
    [ladder_node] = [node for node, _ in walk(await group_tree()) if node.id == parent]
    assert ladder_node.is_ladder
    assert [(c.name, c.rung) for c in ladder_node.children] == [
        ("Gold Tier", 1),
        ("Silver Tier", 2),
        ("Bronze Club", 3),
    ], "the hierarchy's tree lists the rungs top first, not by name"


async def test_a_rung_moved_from_one_ladder_to_another_goes_to_the_bottom_of_the_new_one(db):
    dee = await customer("Dee Dogwood", 60_000)
    tiers, _ = await ladder(GOLD, SILVER)
    partners = await group("Partner Tiers", "PARTNERS")
    key, core, basic = [
        await group(n, c, dollars=d, parent=partners)
        for n, c, d in (("Key Partner", "KEY", 50_000), ("Core Partner", "CORE", 10_000), ("Basic", "BASIC", 1))
    ]
    await make_ladder(parent_id=partners, rung_order=[key, core, basic], actor=OWNER)
    assert await codes(dee) == ["GOLD", "KEY"]

    await move(key, tiers)  # Key Partner was rung 1 of Partner Tiers: it brings no number along

    assert await rungs_in_order(tiers) == [("GOLD", 1), ("SILVER", 2), ("KEY", 3)]
    assert await rungs_in_order(partners) == [("CORE", 1), ("BASIC", 2)]
    assert await codes(dee) == ["CORE", "GOLD"], "Gold is above Key; Core is now Partner Tiers' top rung"
    assert await on_two_rungs(tiers) == 0 and await on_two_rungs(partners) == 0


async def test_a_rung_moved_out_keeps_its_members_and_the_ladder_closes_ranks(db):
    ana, ben = await customer("Ana Alder", 25_000), await customer("Ben Birch", 10_000)
    parent, rungs = await ladder(GOLD, SILVER, BRONZE)
    assert [await codes(c) for c in (ana, ben)] == [["GOLD"], ["SILVER"]]
    await Membership.filter(customer_id=ana).update(held_until=datetime(2030, 1, 1, tzinfo=UTC))

    await move(rungs["GOLD"], None)

    assert (await CustomerGroup.get(id=rungs["GOLD"])).rung is None
    assert await rungs_in_order(parent) == [("SILVER", 1), ("BRONZE", 2)]
    gold = await Membership.get(customer_id=ana, group_id=rungs["GOLD"])
    assert gold.held_until is None, "a plain group holds nobody"
    assert await codes(ana) == ["GOLD", "SILVER"], "still in Gold, a plain group now; Silver is the ladder's top"
    assert await codes(ben) == ["SILVER"]
    assert await on_two_rungs(parent) == 0


async def test_a_ladder_is_never_left_with_one_rung(db):
    ana = await customer("Ana Alder", 25_000)
    parent, rungs = await ladder(GOLD, SILVER)
    message = (
        "Silver Tier is one of the 2 rungs of the ladder Tiered Customers, which needs at least 2: "
        "turn the ladder off first, then move Silver Tier out of it."
    )
    silver = (await get_group(group_id=rungs["SILVER"])).as_input()
    silver.parent_id = None

    assert (await check_group(data=silver, group_id=rungs["SILVER"]))["parent_id"] == message, "the wizard's check"
    with pytest.raises(FormError) as refused:
        await move_group(group_id=rungs["SILVER"], parent_id=None, actor=OWNER)
    assert refused.value.errors == {"parent_id": message}
    assert await rungs_in_order(parent) == [("GOLD", 1), ("SILVER", 2)] and await codes(ana) == ["GOLD"]


# --- Deleting a rung or the ladder's group ----------------------------------------------------


async def test_deleting_a_rung_renumbers_the_rest_and_its_members_land_on_the_next_rung(db):
    ana = await customer("Ana Alder", 25_000)
    parent, rungs = await ladder(GOLD, SILVER, BRONZE)

    result = await delete_group(group_id=rungs["GOLD"], actor=OWNER)

    assert result.released == 1
    assert await rungs_in_order(parent) == [("SILVER", 1), ("BRONZE", 2)]
    assert await codes(ana) == ["SILVER"], "placed by the ladder in the same transaction, not at the next run"
    timeline = await MembershipEvent.filter(customer_id=ana).order_by("id").values_list("action", "group_name")
    assert timeline[-2:] == [(MembershipAction.LEFT, "Gold Tier"), (MembershipAction.JOINED, "Silver Tier")]


async def test_deleting_a_rung_of_a_two_rung_ladder_is_refused(db):
    ana = await customer("Ana Alder", 25_000)
    parent, rungs = await ladder(GOLD, SILVER)

    with pytest.raises(FormError) as refused:
        await delete_group(group_id=rungs["GOLD"], actor=OWNER)

    assert refused.value.errors == {
        "group": "Gold Tier is one of the 2 rungs of the ladder Tiered Customers, which needs at least 2: "
        "turn the ladder off first, then delete Gold Tier."
    }
    assert await codes(ana) == ["GOLD"] and await rungs_in_order(parent) == [("GOLD", 1), ("SILVER", 2)]


async def test_deleting_the_ladders_group_leaves_its_rungs_as_plain_groups(db):
    ana = await customer("Ana Alder", 25_000)
    parent, rungs = await ladder(GOLD, SILVER)
    events = await MembershipEvent.all().count()

    result = await delete_group(group_id=parent, actor=OWNER)

    assert result.reparented == 2
    rows = await CustomerGroup.filter(id__in=list(rungs.values())).values_list("parent_id", "rung")
    assert rows == [(None, None), (None, None)]
    assert await codes(ana) == ["GOLD"] and await MembershipEvent.all().count() == events
    await apply_rule(group_id=rungs["SILVER"], actor=OWNER)
    assert await codes(ana) == ["GOLD", "SILVER"], "each group goes on by its own rule"


async def test_subgroups_of_a_deleted_rung_move_up_as_the_ladders_bottom_rungs(db):
    parent, rungs = await ladder(GOLD, SILVER)
    starter = await group("Starter", "STARTER", dollars=1, parent=rungs["SILVER"])
    await group("Extra Rung", "EXTRA", dollars=5_000, parent=parent)
    cy = await customer("Cy Cedar", 3_000)
    await run_ladder(ladder_id=parent, actor=OWNER)

    await delete_group(group_id=rungs["SILVER"], actor=OWNER)

    assert await rungs_in_order(parent) == [("GOLD", 1), ("EXTRA", 2), ("STARTER", 3)]
    assert (await CustomerGroup.get(id=starter)).parent_id == parent
    assert await codes(cy) == ["STARTER"] and await on_two_rungs(parent) == 0


async def test_an_inactive_rung_stays_on_the_ladder_with_its_members(db):
    ben = await customer("Ben Birch", 10_000)
    parent, rungs = await ladder(GOLD, SILVER, BRONZE)
    silver = (await get_group(group_id=rungs["SILVER"])).as_input()
    silver.status = GroupStatus.INACTIVE
    current = await get_group(group_id=rungs["SILVER"])

    await update_group(group_id=rungs["SILVER"], version=current.version, data=silver, actor=OWNER)
    await run_ladder(ladder_id=parent, actor=OWNER)

    assert await rungs_in_order(parent) == [("GOLD", 1), ("SILVER", 2), ("BRONZE", 3)]
    assert await codes(ben) == ["SILVER"], "a rung no rule runs keeps who is on it"
    assert await on_two_rungs(parent) == 0


# --- Putting a customer on a rung by hand ------------------------------------------------------


@pytest.mark.parametrize("mode", [AddMode.ADD, AddMode.MOVE])
async def test_a_customer_added_to_a_rung_by_hand_is_pinned_there_and_moves_off_their_rung_in_one_event(db, mode):
    ana = await customer("Ana Alder", 25_000)
    parent, rungs = await ladder(GOLD, SILVER, BRONZE)
    await turn_hybrid(group_id=rungs["SILVER"], actor=OWNER)
    events = await MembershipEvent.all().count()

    await add_members(group_id=rungs["SILVER"], customer_ids=[ana], mode=mode, actor=OWNER, reason="Asked for it")

    assert await codes(ana) == ["SILVER"]
    here = await Membership.get(customer_id=ana)
    # By hand (a pin), and Silver's rule matches her too; her primary group moved along.
    assert (here.source, here.is_primary) == (MembershipSource.BOTH, True)
    [moved] = await MembershipEvent.filter(id__gt=events)
    assert (moved.action, moved.group_id, moved.other_group_id, moved.reason) == (
        MembershipAction.MOVED_DOWN,
        rungs["SILVER"],
        rungs["GOLD"],
        "Asked for it",
    )
    run = await run_ladder(ladder_id=parent, actor=OWNER)
    assert not run.changed and await codes(ana) == ["SILVER"], "Gold's rule does not take her back"


async def test_moving_a_member_to_another_rung_from_the_group_page_is_one_move(db):
    ben = await customer("Ben Birch", 10_000)
    parent, rungs = await ladder(GOLD, SILVER, BRONZE, kind="hybrid")
    events = await MembershipEvent.all().count()

    result = await remove_members(
        group_id=rungs["SILVER"],
        customer_ids=[ben],
        mode=RemoveMode.OTHER_GROUP,
        target_group_id=rungs["GOLD"],
        actor=OWNER,
    )

    assert result.joined_target == 1 and await codes(ben) == ["GOLD"]
    actions = await MembershipEvent.filter(id__gt=events).values_list("action", flat=True)
    assert actions == [MembershipAction.MOVED_UP]
    assert await on_two_rungs(parent) == 0


# --- The ladder's own group --------------------------------------------------------------------


async def test_the_ladders_group_takes_nobody_by_hand_and_pickers_offer_its_rungs(db):
    cy = await customer("Cy Cedar", 3_000)
    parent, _ = await ladder(GOLD, SILVER, kind="hybrid")
    retail = await group("Retail", "RETAIL")
    refusal = (
        "Tiered Customers is a ladder: its customers are on its rungs, one each, not in Tiered Customers itself. "
        "Add them to one of its rungs (Gold Tier, Silver Tier)."
    )

    with pytest.raises(FormError) as refused:
        await add_members(group_id=parent, customer_ids=[cy], mode=AddMode.ADD, actor=OWNER)
    assert refused.value.errors == {"group": refusal}
    await add_members(group_id=retail, customer_ids=[cy], mode=AddMode.ADD, actor=OWNER)
    with pytest.raises(FormError) as refused:
        await remove_members(
            group_id=retail, customer_ids=[cy], mode=RemoveMode.OTHER_GROUP, target_group_id=parent, actor=OWNER
        )
    assert refused.value.errors == {"target": refusal}
    assert await codes(cy) == ["RETAIL"]

    takers = [c.name for c in await group_choices(takes_members=True)]
    assert takers == ["Gold Tier", "Retail", "Silver Tier"], "the add-to-group dialogs offer the rungs"
    parents = [c.label for c in await group_choices(exclude_id=retail)]
    assert parents == ["Gold Tier", "Silver Tier", "Tiered Customers (ladder)"], "the wizard's parent select"
    assert (await get_group(group_id=parent)).is_ladder


async def test_the_ladders_group_takes_no_rule_of_its_own(db):
    ana = await customer("Ana Alder", 25_000)
    parent, _ = await ladder(GOLD, SILVER)
    tiered = await get_group(group_id=parent)
    data = tiered.as_input()
    data.type, data.rule = GroupType.AUTOMATIC, at_least(1_000)
    message = (
        "Tiered Customers is a ladder: its customers are on its rungs, one each, so it takes no rule of its own. "
        "Give the rule to one of its rungs, or turn the ladder off first."
    )

    assert (await check_group(data=data, group_id=parent))["type"] == message, "the wizard's check"
    with pytest.raises(FormError) as refused:
        await update_group(group_id=parent, version=tiered.version, data=data, actor=OWNER)
    assert refused.value.errors == {"type": message}
    assert await codes(ana) == ["GOLD"]  # nobody put into the ladder's own group
