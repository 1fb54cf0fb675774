"""A ladder's own group holds nobody: its customers are on its rungs. So it cannot be the shop's
default group, and a parent that holds customers of its own (or whose rule would put some there,
or that is the default group) is made a ladder only once the owner has moved them: the preview says
so beside "ladder" before anything changes, and nobody's membership is dropped behind their back."""

import pytest

from models.group import CustomerGroup, Membership, MembershipEvent
from services.errors import FormError
from services.groups.group import create_group
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.rules.ladder_setup import ladder_preview, make_ladder
from services.shop import get_shop, update_settings
from tests.unit.ladder_shop import OWNER, at_least, customer


async def club(**parent: object) -> tuple[int, int, int]:
    """Club with Premium ($20,000, automatic) over Plus (hybrid: $8,000, or added by hand)."""
    club_id = (await create_group(data={"name": "Club", "code": "CLUB", **parent}, actor=OWNER)).id
    premium = await create_group(
        data={
            "name": "Premium",
            "code": "PREMIUM",
            "type": "automatic",
            "rule": at_least(20_000),
            "parent_id": club_id,
        },
        actor=OWNER,
    )
    plus = await create_group(
        data={"name": "Plus", "code": "PLUS", "type": "hybrid", "rule": at_least(8_000), "parent_id": club_id},
        actor=OWNER,
    )
    return club_id, premium.id, plus.id


async def groups_of(customer_id: int) -> list[str]:
    return sorted(await Membership.filter(customer_id=customer_id).values_list("group__code", flat=True))


# --- The default group ------------------------------------------------------------------------


async def test_a_ladders_own_group_cannot_be_the_default_group(demo_db):
    tiered = await CustomerGroup.get(code="TIERED")
    with pytest.raises(FormError) as refused:
        await update_settings(one_group_per_customer=False, default_group_id=tiered.id, actor=OWNER)
    # Its rungs are all automatic in the demo: none of them could be the default either.
    assert refused.value.errors == {
        "default_group_id": "Tiered Customers is a ladder: its customers are on its rungs, one each, not in "
        "Tiered Customers itself, so nobody can be moved into it. Choose another group."
    }
    assert (await get_shop()).default_group_name == "Retail", "a refused save changes nothing"


async def test_the_refusal_names_the_rungs_that_could_be_the_default_top_first(db):
    club_id, _, _ = await club()
    await make_ladder(parent_id=club_id, rung_order=await _top_first(club_id), actor=OWNER)
    with pytest.raises(FormError) as refused:
        await update_settings(one_group_per_customer=False, default_group_id=club_id, actor=OWNER)
    assert refused.value.errors["default_group_id"].endswith("Choose one of its rungs (Plus).")


async def _top_first(club_id: int) -> list[int]:
    premium = await CustomerGroup.get(parent_id=club_id, code="PREMIUM")
    plus = await CustomerGroup.get(parent_id=club_id, code="PLUS")
    return [premium.id, plus.id]


# --- Making a ladder of a parent that holds customers -------------------------------------------


async def test_a_parent_holding_customers_is_made_a_ladder_only_after_they_are_moved(db):
    ana, ben = await customer("Ana Alder", 25_000), await customer("Ben Birch", 500)
    cy, dee = await customer("Cy Cedar", 9_000), await customer("Dee Dune", 100)
    club_id, premium, plus = await club()
    await add_members(group_id=club_id, customer_ids=[ana, ben, cy, dee], mode=AddMode.ADD, actor=OWNER)
    order = [premium, plus]
    events = await MembershipEvent.all().count()

    preview = await ladder_preview(parent_id=club_id, rung_order=order, actor=OWNER)

    assert preview.run is None
    assert preview.problems == {
        "ladder": "Club itself holds 4 customers (Ana Alder, Ben Birch, Cy Cedar and 1 more), but a ladder's "
        "customers are on its rungs, one each, not in Club itself. Move them first: on Club's page, tick them "
        'and choose "Remove from Group" (to one of its rungs with "Move to specific group"), then make it a ladder.'
    }
    with pytest.raises(FormError) as refused:
        await make_ladder(parent_id=club_id, rung_order=order, actor=OWNER)
    assert refused.value.errors == preview.problems, "the preview says what making it would say"
    assert not (await CustomerGroup.get(id=club_id)).is_ladder
    assert await groups_of(ben) == ["CLUB"], "nobody was taken out"
    assert await MembershipEvent.all().count() == events

    # The owner decides: Ben, whom no rule would place, onto Plus by hand; the others out of Club.
    await remove_members(
        group_id=club_id, customer_ids=[ben], mode=RemoveMode.OTHER_GROUP, target_group_id=plus, actor=OWNER
    )
    await remove_members(group_id=club_id, customer_ids=[ana, cy, dee], mode=RemoveMode.REMOVE, actor=OWNER)
    preview = await ladder_preview(parent_id=club_id, rung_order=order, actor=OWNER)
    assert preview.problems == {} and preview.run is not None

    await make_ladder(parent_id=club_id, rung_order=order, actor=OWNER)

    assert (await CustomerGroup.get(id=club_id)).is_ladder
    assert await groups_of(ana) == ["PREMIUM"]
    assert await groups_of(ben) == ["PLUS"], "placed by hand: pinned on Plus"
    assert await groups_of(cy) == ["PLUS"]
    assert await groups_of(dee) == []
    assert not await Membership.filter(group_id=club_id).exists()


async def test_one_customer_is_named_without_more(db):
    ana = await customer("Ana Alder", 25_000)
    club_id, premium, plus = await club()
    await add_members(group_id=club_id, customer_ids=[ana], mode=AddMode.ADD, actor=OWNER)
    preview = await ladder_preview(parent_id=club_id, rung_order=[premium, plus], actor=OWNER)
    assert preview.problems["ladder"].startswith("Club itself holds 1 customer (Ana Alder), but ")


@pytest.mark.parametrize("kind", ["automatic", "hybrid"])
async def test_a_rule_based_parent_is_made_manual_first(db, kind: str):
    club_id, premium, plus = await club(type=kind, rule=at_least(50_000))
    preview = await ladder_preview(parent_id=club_id, rung_order=[premium, plus], actor=OWNER)
    assert preview.problems == {
        "ladder": f"Club is {kind}: its rule puts customers in it, but a ladder's customers are on its "
        "rungs, not in Club itself. Make it a manual group first."
    }
    with pytest.raises(FormError):
        await make_ladder(parent_id=club_id, rung_order=[premium, plus], actor=OWNER)
    assert not (await CustomerGroup.get(id=club_id)).is_ladder


async def test_the_default_group_is_not_made_a_ladder(db):
    club_id, premium, plus = await club()
    await update_settings(one_group_per_customer=False, default_group_id=club_id, actor=OWNER)
    with pytest.raises(FormError) as refused:
        await make_ladder(parent_id=club_id, rung_order=[premium, plus], actor=OWNER)
    assert refused.value.errors == {
        "ladder": 'Club is the shop\'s default group, into which "Move to default group" moves customers, and a '
        "ladder takes nobody by hand. Choose another default group in Settings first."
    }
    assert not (await CustomerGroup.get(id=club_id)).is_ladder
