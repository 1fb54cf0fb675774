"""'Select all N matching' (issue 21): the add and remove dialogs hand the list's filter to the
services, which work through its matches in SQL, with what adding and removing by ids gives: the
result's counts and names, memberships, primary groups, exclusions, history and webhooks."""

from models.customer import Customer, CustomerStatus
from models.group import (
    CustomerGroup,
    Membership,
    MembershipAction,
    MembershipEvent,
    MembershipExclusion,
    MembershipSource,
)
from models.shop import Shop
from models.webhook import WebhookEvent
from services.customers import CustomerFilter, search_filter
from services.errors import FormError
from services.membership.changes import AddMode, RemoveMode
from services.membership.matching import add_chosen, add_matching, remove_chosen, remove_matching
from services.staff.actor import SystemActor

ACTOR = SystemActor("anna")


async def _primaries(ids) -> dict[int, int]:
    return dict(
        await Membership.filter(customer_id__in=list(ids), is_primary=True).values_list("customer_id", "group_id")
    )


async def test_adding_every_match_of_a_search_adds_them_as_adding_them_by_id_would(demo_db):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    inside = await Membership.filter(group_id=wholesale.id).values_list("customer_id", flat=True)
    found = await Customer.filter(search_filter("inc")).exclude(id__in=list(inside)).values_list("id", "status")
    blocked_one = found[0][0]
    await Customer.filter(id=blocked_one).update(status=CustomerStatus.BLOCKED)
    joining = [cid for cid, _ in found if cid != blocked_one]
    had_primary = await _primaries(joining)
    sent = await WebhookEvent.filter(type="member.joined", group_id=wholesale.id).count()

    result = await add_matching(
        group_id=wholesale.id,
        matching=CustomerFilter(search="inc", not_in_group_id=wholesale.id),
        mode=AddMode.ADD,
        actor=ACTOR,
        reason="Trade show",
    )

    assert (result.added, result.already, result.blocked) == (len(joining), 0, 1)
    assert result.blocked_names == ((await Customer.get(id=blocked_one)).name,)
    assert result.summary().startswith(f"Added {len(joining)} customers to Wholesale; 1 blocked customer not added")
    joined = await Membership.filter(group_id=wholesale.id, customer_id__in=joining).values_list(
        "customer_id", "source", "is_primary"
    )
    assert sorted(c for c, _, _ in joined) == sorted(joining)
    assert all(source == MembershipSource.MANUAL for _, source, _ in joined)
    primaries = await _primaries(joining)
    assert primaries == {cid: had_primary.get(cid, wholesale.id) for cid in joining}  # the one they had, else this
    events = await MembershipEvent.filter(
        group_id=wholesale.id, action=MembershipAction.JOINED, actor="anna"
    ).values_list("customer_id", "actor", "reason")
    assert sorted(events) == sorted((cid, "anna", "Trade show") for cid in joining)
    assert await WebhookEvent.filter(type="member.joined", group_id=wholesale.id).count() == sent + len(joining)
    assert (await CustomerGroup.get(id=wholesale.id)).member_count == len(inside) + len(joining)
    assert not await Membership.exists(group_id=wholesale.id, customer_id=blocked_one)


async def test_removing_every_member_a_search_finds_keeps_the_books(demo_db):
    vip = await CustomerGroup.get(code="VIP")  # hybrid: members the rule matches stay out afterwards
    leaving = (
        await Membership.filter(group_id=vip.id)
        .filter(search_filter("a", prefix="customer__"))
        .values_list("customer_id", "source", "is_primary")
    )
    assert leaving and any(source != MembershipSource.MANUAL for _, source, _ in leaving)
    by_rule = sorted(c for c, source, _ in leaving if source in (MembershipSource.RULE, MembershipSource.BOTH))
    ids = [c for c, _, _ in leaving]
    before = vip.member_count
    sent = await WebhookEvent.filter(type="member.left", group_id=vip.id).count()

    result = await remove_chosen(
        group_id=vip.id, chosen=CustomerFilter(search="a", group_id=vip.id), mode=RemoveMode.REMOVE, actor=ACTOR
    )

    assert (result.removed, result.excluded, result.not_members) == (len(ids), len(by_rule), 0)
    assert not await Membership.exists(group_id=vip.id, customer_id__in=ids)
    kept_out = await MembershipExclusion.filter(group_id=vip.id, customer_id__in=ids).values_list(
        "customer_id", flat=True
    )
    assert sorted(kept_out) == by_rule
    events = await MembershipEvent.filter(group_id=vip.id, action=MembershipAction.LEFT, actor="anna").values_list(
        "customer_id", "source"
    )
    assert sorted(events) == sorted((c, s) for c, s, _ in leaving)
    assert await WebhookEvent.filter(type="member.left", group_id=vip.id).count() == sent + len(ids)
    # Everyone who still has a group has exactly one primary group: the newest left, for those who lost theirs.
    for cid in ids:
        held = await Membership.filter(customer_id=cid).order_by("-since", "-id").values_list("id", "is_primary")
        assert sum(primary for _, primary in held) == (1 if held else 0)
    assert (await CustomerGroup.get(id=vip.id)).member_count == before - len(ids)


async def test_a_move_of_every_match_goes_through_the_plan_of_each_customer(demo_db):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    chosen = CustomerFilter(search="acme", not_in_group_id=wholesale.id)
    ids = await Customer.filter(search_filter("acme")).values_list("id", flat=True)
    result = await add_chosen(group_id=wholesale.id, chosen=chosen, mode=AddMode.MOVE, actor=ACTOR)
    assert result.added == len(ids)
    assert await Membership.filter(customer_id__in=ids, group_id=wholesale.id).count() == len(ids)


async def test_every_match_is_refused_a_second_group_when_the_shop_allows_one(demo_db):
    await Shop.all().update(one_group_per_customer=True)
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    retail_ids = await Membership.filter(group__code="RETAIL").values_list("customer_id", flat=True)
    name = (await Customer.get(id=retail_ids[0])).name
    try:
        await add_matching(group_id=wholesale.id, matching=CustomerFilter(search=name), mode=AddMode.ADD, actor=ACTOR)
    except FormError as refused:
        assert "already in another group" in refused.errors["mode"] and name in refused.errors["mode"]
    else:
        raise AssertionError("added a customer to a second group")
    assert not await Membership.exists(group_id=wholesale.id, customer_id=retail_ids[0])


async def test_a_filter_matching_nobody_adds_and_removes_nobody(demo_db):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    nobody = CustomerFilter(search="no such customer anywhere")
    for action in (
        add_matching(group_id=wholesale.id, matching=nobody, mode=AddMode.ADD, actor=ACTOR),
        remove_matching(group_id=wholesale.id, matching=nobody, mode=RemoveMode.REMOVE, actor=ACTOR),
    ):
        try:
            await action
        except FormError as refused:
            assert "customers" in refused.errors
        else:
            raise AssertionError("a change for nobody")
