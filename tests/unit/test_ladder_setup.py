"""Making a ladder of tiers written as separate groups: the preview names who is on more than one
rung and where each ends up, and its figures are what making it does; making it resolves the
overlap in one transaction (a customer keeps one rung and leaves the others, an event each, and a
move is one event), reordering runs the ladder again, and turning it off leaves everyone where they
are."""

from datetime import UTC, datetime, timedelta

import pytest

from models.customer import Customer
from models.group import CustomerGroup, Membership, MembershipAction, MembershipEvent
from models.staff import Role
from services.errors import FormError, PermissionDeniedError
from services.groups.group import create_group
from services.membership.history import describe, list_history
from services.rules.ladder_setup import (
    customer_ladders,
    get_ladder,
    ladder_preview,
    make_ladder,
    reorder_rungs,
    set_hold_days,
    turn_off_ladder,
)
from services.rules.ladders import LadderRun
from services.staff.accounts import create_first_owner, create_user
from services.staff.actor import Actor
from tests.unit.ladder_shop import OWNER, at_least, customer


async def separate_tiers() -> tuple[int, dict[str, int]]:
    """Tiered Customers with Gold, Silver and Bronze as plain automatic groups whose rules overlap:
    the $25,000 customer is in all three."""
    parent = (await create_group(data={"name": "Tiered Customers", "code": "TIERED"}, actor=OWNER)).id
    tiers = {}
    for name, code, amount in (
        ("Gold Tier", "GOLD", 20_000),
        ("Silver Tier", "SILVER", 8_000),
        ("Bronze Tier", "BRONZE", 2_000),
    ):
        data = {"name": name, "code": code, "type": "automatic", "rule": at_least(amount), "parent_id": parent}
        tiers[code] = (await create_group(data=data, actor=OWNER)).id
    return parent, tiers


async def codes(customer_id: int) -> list[str]:
    return sorted(await Membership.filter(customer_id=customer_id).values_list("group__code", flat=True))


async def test_a_group_without_subgroups_or_a_wrong_order_is_refused_beside_the_field(db):
    lonely = (await create_group(data={"name": "Wholesale", "code": "WHOLESALE"}, actor=OWNER)).id
    with pytest.raises(FormError) as refused:
        await make_ladder(parent_id=lonely, rung_order=[], actor=OWNER)
    assert refused.value.errors == {
        "ladder": "Wholesale has no subgroups. Add the tiers as its subgroups, then make it a ladder."
    }
    parent, tiers = await separate_tiers()
    cases = {
        (tiers["GOLD"], tiers["SILVER"]): "Put every subgroup of Tiered Customers on the ladder, top rung first: "
        "Bronze Tier missing.",
        (tiers["GOLD"], tiers["GOLD"], tiers["SILVER"], tiers["BRONZE"]): "Each subgroup is one rung: Gold Tier is "
        "listed more than once.",
        (tiers["GOLD"], tiers["SILVER"], tiers["BRONZE"], lonely): "Only subgroups of Tiered Customers can be its "
        f"rungs (group {lonely} is not one).",
    }
    for order, message in cases.items():
        with pytest.raises(FormError) as refused:
            await make_ladder(parent_id=parent, rung_order=order, actor=OWNER)
        assert refused.value.errors == {"rung_order": message}
    order = [tiers["GOLD"], tiers["SILVER"], tiers["BRONZE"]]
    with pytest.raises(FormError) as refused:
        await make_ladder(parent_id=parent, rung_order=order, hold_days=0, actor=OWNER)
    assert refused.value.errors == {"hold_days": "A hold lasts 1 to 3,650 days; leave it empty for none."}
    assert not (await CustomerGroup.get(id=parent)).is_ladder, "nothing was changed"


async def test_the_preview_names_who_is_on_several_rungs_and_making_it_leaves_each_on_one(db):
    ana, ben, cy = (
        await customer("Ana Alder", 25_000),
        await customer("Ben Birch", 10_000),
        await customer("Cy Cedar", 3_000),
    )
    parent, tiers = await separate_tiers()
    assert await codes(ana) == ["BRONZE", "GOLD", "SILVER"]
    order = [tiers["GOLD"], tiers["SILVER"], tiers["BRONZE"]]
    events = await MembershipEvent.all().count()

    preview = await ladder_preview(parent_id=parent, rung_order=order, actor=OWNER)

    assert preview.problems == {} and preview.run is not None
    overlap = preview.run.overlap
    assert overlap.words() == "2 customers are on more than one rung: 1 keep Gold Tier, 1 keep Silver Tier."
    assert [(c.name, c.rungs, c.ends_on) for c in overlap.sample] == [
        ("Ana Alder", ("Gold Tier", "Silver Tier", "Bronze Tier"), "Gold Tier"),
        ("Ben Birch", ("Silver Tier", "Bronze Tier"), "Silver Tier"),
    ]
    # Ana stays on Gold and Ben on Silver, where they are: they leave the rungs below, nobody moves.
    assert [preview.run.moves_of(tiers[code]).words() for code in ("GOLD", "SILVER", "BRONZE")] == [
        "No one moves",
        "-1 on Gold Tier only",
        "-1 on Gold Tier only, -1 on Silver Tier only",
    ]
    assert [(r.name, r.members, r.arrived, r.departed) for r in preview.run.rungs] == [
        ("Gold Tier", 1, 0, 0),
        ("Silver Tier", 1, 0, 1),
        ("Bronze Tier", 1, 0, 2),
    ]
    assert await MembershipEvent.all().count() == events, "a preview changes nothing"

    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)  # apart from the groups' first runs
    run = await make_ladder(parent_id=parent, rung_order=order, actor=OWNER, now=later)

    assert [await codes(c) for c in (ana, ben, cy)] == [["GOLD"], ["SILVER"], ["BRONZE"]]
    assert (run.moved_up, run.joined, run.left) == (0, 0, 0)
    new = await MembershipEvent.filter(id__gt=events).order_by("id").values_list("action", "group_id", "other_group_id")
    assert sorted(new) == sorted(
        [
            (MembershipAction.LEFT, tiers["SILVER"], tiers["GOLD"]),
            (MembershipAction.LEFT, tiers["BRONZE"], tiers["GOLD"]),
            (MembershipAction.LEFT, tiers["BRONZE"], tiers["SILVER"]),
        ]
    ), "one event for each rung a customer leaves, none for the rung they keep"
    timeline = (await list_history(customer_id=ana)).rows
    assert sorted((describe(row), row.reason) for row in timeline if row.at == later) == [
        ("Left Bronze Tier (stays on Gold Tier)", "On Gold Tier: one rung of Tiered Customers per customer"),
        ("Left Silver Tier (stays on Gold Tier)", "On Gold Tier: one rung of Tiered Customers per customer"),
    ]
    view = await get_ladder(group_id=parent)
    assert [(r.name, r.position, r.members) for r in view.rungs] == [
        ("Gold Tier", 1, 1),
        ("Silver Tier", 2, 1),
        ("Bronze Tier", 3, 1),
    ]
    assert {(s.from_name, s.to_name, s.direction, s.customers) for s in view.last_moves} == {
        ("Silver Tier", "Gold Tier", "leave", 1),
        ("Bronze Tier", "Gold Tier", "leave", 1),
        ("Bronze Tier", "Silver Tier", "leave", 1),
    }
    [standing] = await customer_ladders(customer_id=ben)
    assert (standing.ladder_name, standing.rung_name, standing.position, standing.pinned) == (
        "Tiered Customers",
        "Silver Tier",
        2,
        False,
    )


def figures(run: LadderRun) -> tuple:
    rungs = [(r.name, r.members, r.arrived, r.departed) for r in run.rungs]
    shifts = sorted((s.from_name or "", s.to_name or "", s.direction, s.customers) for s in run.shifts)
    return rungs, shifts


async def test_a_preview_over_groups_that_overlap_counts_what_making_the_ladder_does(db):
    ana, ben, dee, eve = [
        await customer(name, spent)
        for name, spent in (("Ana Alder", 25_000), ("Ben Birch", 10_000), ("Dee Dogwood", 10_000), ("Eve Elm", 3_000))
    ]
    parent, tiers = await separate_tiers()
    # Since the groups last ran: Dee spent past Gold's $20,000, Eve's orders were refunded below
    # Bronze's $2,000, and Fay arrived with $9,000.
    await Customer.filter(id=dee).update(lifetime_cents=30_000_00)
    await Customer.filter(id=eve).update(lifetime_cents=500_00)
    fay = await customer("Fay Fir", 9_000)
    assert [await codes(c) for c in (ana, ben, dee, eve, fay)] == [
        ["BRONZE", "GOLD", "SILVER"],
        ["BRONZE", "SILVER"],
        ["BRONZE", "SILVER"],
        ["BRONZE"],
        [],
    ]
    order = [tiers["GOLD"], tiers["SILVER"], tiers["BRONZE"]]

    preview = (await ladder_preview(parent_id=parent, rung_order=order, actor=OWNER)).run
    events = await MembershipEvent.all().count()
    made = await make_ladder(parent_id=parent, rung_order=order, actor=OWNER)

    assert preview is not None and figures(preview) == figures(made)
    assert figures(made)[0] == [
        ("Gold Tier", 2, 1, 0),  # Ana stays; Dee moves up from Silver, her highest rung
        ("Silver Tier", 2, 1, 2),  # Ben stays, Fay is new; Ana keeps Gold, Dee moves up
        ("Bronze Tier", 0, 0, 4),  # Ana, Ben and Dee are on a higher rung; Eve is off the ladder
    ]
    counted = dict(await CustomerGroup.filter(id__in=order).values_list("name", "member_count"))
    assert counted == {"Gold Tier": 2, "Silver Tier": 2, "Bronze Tier": 0}
    assert [await codes(c) for c in (ana, ben, dee, eve, fay)] == [["GOLD"], ["SILVER"], ["GOLD"], [], ["SILVER"]]
    assert [preview.moves_of(tiers[code]).words() for code in ("GOLD", "SILVER", "BRONZE")] == [
        "+1 up from Silver Tier",
        "+1 new to the ladder, -1 up to Gold Tier, -1 on Gold Tier only",
        "-1 off the ladder, -2 on Gold Tier only, -1 on Silver Tier only",
    ]
    assert (made.moved_up, made.moved_down, made.joined, made.left) == (1, 0, 1, 1)
    dees = await MembershipEvent.filter(id__gt=events, customer_id=dee).values_list(
        "action", "group_id", "other_group_id"
    )
    assert sorted(dees) == sorted(
        [
            (MembershipAction.MOVED_UP, tiers["GOLD"], tiers["SILVER"]),
            (MembershipAction.LEFT, tiers["BRONZE"], tiers["GOLD"]),
        ]
    ), "Dee moves up once, from her highest rung, and leaves the other"


async def test_reordering_the_rungs_runs_the_ladder_again(db):
    ana = await customer("Ana Alder", 25_000)
    parent, tiers = await separate_tiers()
    await make_ladder(parent_id=parent, rung_order=[tiers["GOLD"], tiers["SILVER"], tiers["BRONZE"]], actor=OWNER)

    run = await reorder_rungs(
        ladder_id=parent, rung_order=[tiers["BRONZE"], tiers["SILVER"], tiers["GOLD"]], actor=OWNER
    )

    assert await codes(ana) == ["BRONZE"], "Bronze is the top rung now, and Ana matches it"
    assert run.moved_down == 0 and run.moved_up == 1
    with pytest.raises(FormError) as refused:
        await make_ladder(parent_id=parent, rung_order=[tiers["GOLD"], tiers["SILVER"], tiers["BRONZE"]], actor=OWNER)
    assert refused.value.errors == {
        "ladder": "Tiered Customers is a ladder already: change the order of its rungs instead."
    }


async def test_turning_a_ladder_off_keeps_everyone_where_they_are(db):
    ana = await customer("Ana Alder", 25_000)
    parent, tiers = await separate_tiers()
    await make_ladder(
        parent_id=parent, rung_order=[tiers["GOLD"], tiers["SILVER"], tiers["BRONZE"]], hold_days=30, actor=OWNER
    )
    events = await MembershipEvent.all().count()

    view = await turn_off_ladder(ladder_id=parent, actor=OWNER)

    assert not view.is_ladder and [r.name for r in view.rungs] == ["Gold Tier", "Silver Tier", "Bronze Tier"]
    assert await codes(ana) == ["GOLD"] and await MembershipEvent.all().count() == events
    with pytest.raises(FormError):
        await set_hold_days(ladder_id=parent, hold_days=10, actor=OWNER)


async def test_a_viewer_can_preview_but_not_make_a_ladder(db):
    owner = await create_first_owner(email="olivia@example.com", name="Olivia Owner", password="correct horse 1")
    row = await create_user(
        email="vera@example.com", name="Vera Viewer", password="correct horse 2", role=Role.VIEWER, actor=owner
    )
    viewer = Actor(id=row.id, name=row.name, email=row.email, role=row.role)
    parent, tiers = await separate_tiers()
    order = [tiers["GOLD"], tiers["SILVER"], tiers["BRONZE"]]
    assert (await ladder_preview(parent_id=parent, rung_order=order, actor=viewer)).problems == {}
    with pytest.raises(PermissionDeniedError):
        await make_ladder(parent_id=parent, rung_order=order, actor=viewer)
