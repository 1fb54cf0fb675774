"""Tier ladders on the hierarchy page, as the owner uses them: the demo's Tiered Customers drawn with
the members on each rung, its rungs top first in the tree, each saying which rung of it it is; tiers
written as separate groups made into a ladder after a preview of who is on more than one rung; a new
order of the rungs; the hold period; turning the ladder off."""

import pytest
from nicegui.testing import User

from models.group import CustomerGroup, Membership
from models.staff import Role
from services.groups.group import create_group
from services.rules.ladder_setup import make_ladder
from services.staff.accounts import create_user
from services.staff.actor import SystemActor
from services.wording import count
from tests.ui.conftest import sign_in

OWNER = SystemActor("olivia")


def spent_at_least(dollars: int) -> dict:
    return {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": dollars * 100}]}


async def club_with_two_tiers() -> tuple[int, int, int]:
    """A parent with two automatic subgroups whose rules overlap: every Premium customer ($20,000)
    is a Plus customer ($8,000) too. By name Plus comes first, so it is on top until moved."""
    club = (await create_group(data={"name": "Club", "code": "CLUB"}, actor=OWNER)).id
    tiers = []
    for name, code, dollars in (("Premium", "PREMIUM", 20_000), ("Plus", "PLUS", 8_000)):
        data = {"name": name, "code": code, "type": "automatic", "rule": spent_at_least(dollars), "parent_id": club}
        tiers.append((await create_group(data=data, actor=OWNER)).id)
    return club, *tiers


async def members(group_id: int) -> set[int]:
    return set(await Membership.filter(group_id=group_id).values_list("customer_id", flat=True))


async def test_the_demo_ladder_shows_its_rungs_top_first_with_their_members(user: User):
    tiered = await CustomerGroup.get(code="TIERED")
    rungs = await CustomerGroup.filter(parent_id=tiered.id).order_by("rung")
    assert [r.name for r in rungs] == ["Gold Tier", "Silver Tier", "Bronze Tier"]

    await user.open(f"/groups/hierarchy?group={tiered.id}")
    await user.should_see("Tier ladder: Tiered Customers", marker="ladder-panel")
    for rung in rungs:
        await user.should_see(rung.name, marker=f"rung-{rung.id}")
        await user.should_see(f"{len(await members(rung.id)):,}", marker=f"rung-{rung.id}")
        await user.should_see("by rule", marker=f"rung-{rung.id}")
    chart = user.find(marker="ladder-chart").elements.pop()
    assert chart.props["role"] == "img"
    assert chart.props["aria-label"].startswith("Members per rung of Tiered Customers, top first: Gold Tier ")
    assert chart.options["yAxis"]["data"] == ["Gold Tier", "Silver Tier", "Bronze Tier"]
    await user.should_see("No hold period", marker="ladder-hold")


async def test_the_tree_lists_the_rungs_top_first_and_a_rung_links_to_its_ladder(user: User):
    tiered = await CustomerGroup.get(code="TIERED")
    gold, silver, bronze = await CustomerGroup.filter(parent_id=tiered.id).order_by("rung")

    await user.open(f"/groups/hierarchy?group={gold.id}")
    await user.should_see("ladder", marker=f"ladder-badge-{tiered.id}")
    drawn = list(user.find(marker="hierarchy-tree").elements.pop().descendants())
    places = [drawn.index(user.find(marker=f"tree-{g.id}").elements.pop()) for g in (tiered, gold, silver, bronze)]
    assert places == sorted(places), "the ladder, then its rungs top first (by name Bronze would come first)"
    await user.should_see("Rung 1 of 3 of", marker="rung-of-ladder")
    await user.should_see("Tiered Customers", marker="rung-ladder-link")

    user.find(marker=f"tree-{bronze.id}").click()
    await user.should_see("Rung 3 of 3 of", marker="rung-of-ladder")
    user.find(marker="rung-ladder-link").click()
    await user.should_see("Tier ladder: Tiered Customers", marker="ladder-panel")
    await user.should_see("Inheritance Settings: Tiered Customers")
    await user.should_not_see(marker="rung-of-ladder")


async def test_making_a_ladder_shows_who_is_on_both_rungs_first_and_leaves_nobody_on_two(user: User):
    club, premium, plus = await club_with_two_tiers()
    both = await members(premium) & await members(plus)
    assert both, "the demo shop has customers past $20,000"

    await user.open(f"/groups/hierarchy?group={club}")
    await user.should_see("Make Club a ladder of its 2 subgroups (Plus, Premium)", marker="ladder-panel")
    user.find(marker="make-ladder").click()
    await user.should_see("Make Club a ladder")
    await user.should_see("keep Plus", marker="ladder-overlap", retries=20)  # by name, Plus is on top at first
    user.find(marker=f"rung-up-{premium}").click()
    who = "1 customer is" if len(both) == 1 else f"{len(both):,} customers are"
    await user.should_see(
        f"{who} on more than one rung: {len(both):,} keep Premium.", marker="ladder-overlap", retries=20
    )
    # Those on both keep Premium, where they are: Plus loses them, Premium gains nobody.
    on_premium, on_plus = len(await members(premium)), len(await members(plus))
    await user.should_see(f"-{len(both):,} on Premium only", marker=f"moves-{plus}", retries=20)
    await user.should_see(f"{on_plus:,} → {count(on_plus - len(both), 'member')}", marker=f"moves-{plus}")
    await user.should_see(count(on_premium, "member"), marker=f"moves-{premium}")
    row = user.find(marker=f"moves-{premium}").elements.pop()
    assert count(on_premium, "member") in [getattr(e, "text", "") for e in row.descendants()], "no change on Premium"

    user.find(marker="hold-days").elements.pop().value = 0
    await user.should_see("A hold lasts 1 to 3,650 days; leave it empty for none.", marker="hold-days", retries=20)
    assert not user.find(marker="confirm-ladder").elements.pop().enabled
    user.find(marker="hold-days").elements.pop().value = 30
    await user.should_see(f"-{len(both):,} on Premium only", marker=f"moves-{plus}", retries=20)

    user.find(marker="confirm-ladder").click()
    await user.should_see("Club is a ladder of 2 rungs now: no one moved; nobody is on more than one rung.", retries=20)
    assert not await members(premium) & await members(plus)
    assert (len(await members(premium)), len(await members(plus))) == (on_premium, on_plus - len(both)), (
        "the preview's members after"
    )
    club_row = await CustomerGroup.get(id=club)
    assert (club_row.is_ladder, club_row.hold_days) == (True, 30)
    await user.should_see("Tier ladder: Club", marker="ladder-panel", retries=20)
    await user.should_see(f"{len(both):,} left Plus, now on Premium only", marker="ladder-last-run", retries=20)


async def test_a_new_order_of_the_rungs_is_previewed_then_made(user: User):
    club, premium, plus = await club_with_two_tiers()
    await make_ladder(parent_id=club, rung_order=[premium, plus], actor=OWNER)
    on_premium, on_plus = len(await members(premium)), len(await members(plus))

    await user.open(f"/groups/hierarchy?group={club}")
    user.find(marker="reorder-rungs").click()
    await user.should_see("Reorder the rungs of Club")
    await user.should_see("Move a rung up or down to see who the new order would move.", retries=20)
    assert not user.find(marker="confirm-ladder").elements.pop().enabled
    user.find(marker=f"rung-up-{plus}").click()
    # Up in the new order: Plus is the top rung now.
    await user.should_see(f"-{on_premium:,} up to Plus", marker=f"moves-{premium}", retries=20)
    await user.should_see(f"{on_plus:,} → {on_plus + on_premium:,} members", marker=f"moves-{plus}")

    user.find(marker="confirm-ladder").click()
    await user.should_see(f"New order of Club: Plus, Premium. {on_premium:,} moved up.", retries=20)
    assert await members(premium) == set()
    assert [g.id for g in await CustomerGroup.filter(parent_id=club).order_by("rung")] == [plus, premium]


async def test_a_hold_period_out_of_range_is_refused_beside_the_field(user: User):
    tiered = await CustomerGroup.get(code="TIERED")
    await user.open(f"/groups/hierarchy?group={tiered.id}")
    await user.should_see("Tier ladder: Tiered Customers")
    user.find(marker="hold-days").elements.pop().value = 0
    user.find(marker="save-hold").click()
    await user.should_see("A hold lasts 1 to 3,650 days; leave it empty for none.", marker="hold-days", retries=20)
    assert (await CustomerGroup.get(id=tiered.id)).hold_days is None

    user.find(marker="hold-days").elements.pop().value = 45
    user.find(marker="save-hold").click()
    await user.should_see("Tiered Customers has a hold period of 45 days now", retries=20)
    assert (await CustomerGroup.get(id=tiered.id)).hold_days == 45
    await user.should_see("Hold period 45 days", marker="ladder-hold", retries=20)


async def test_turning_the_ladder_off_keeps_every_member_where_they_are(user: User):
    tiered = await CustomerGroup.get(code="TIERED")
    rungs = await CustomerGroup.filter(parent_id=tiered.id).values_list("id", flat=True)
    before = {gid: await members(gid) for gid in rungs}

    await user.open(f"/groups/hierarchy?group={tiered.id}")
    user.find(marker="turn-off-ladder").click()
    await user.should_see("Turn off the ladder Tiered Customers?")
    await user.should_see("Every member stays where they are")
    user.find(marker="confirm-turn-off").click()
    total = sum(len(m) for m in before.values())
    await user.should_see(
        f"Tiered Customers is no longer a ladder; its {total:,} members stay where they are.", retries=20
    )

    assert not (await CustomerGroup.get(id=tiered.id)).is_ladder
    assert {gid: await members(gid) for gid in rungs} == before
    await user.should_see("Make a ladder…", marker="make-ladder", retries=20)


@pytest.mark.signed_out
async def test_a_viewer_sees_the_ladder_but_not_the_changes(user: User):
    await create_user(
        email="vera@example.com", name="Vera Viewer", password="a long password", role=Role.VIEWER, actor=OWNER
    )
    await sign_in(user, "vera@example.com", "a long password")
    tiered = await CustomerGroup.get(code="TIERED")
    await user.open(f"/groups/hierarchy?group={tiered.id}")
    await user.should_see("Tier ladder: Tiered Customers")
    for marker in ("reorder-rungs", "turn-off-ladder", "save-hold", "hold-days"):
        assert not user.find(marker=marker).elements.pop().enabled, marker
    await user.should_see(marker="missing-manage_groups")
