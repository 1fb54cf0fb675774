"""A rule-based group's page: its rule in words, Run rule now, and the rule's history."""

from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup, Membership, RuleVersion
from services.groups.group import get_group, update_group
from services.staff.actor import SystemActor


async def test_the_page_shows_the_rule_and_running_it_again_changes_nothing(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}?tab=rule")
    await user.should_see("Membership Rule")
    await user.should_see("Total Purchases (lifetime) is at least $20,000")
    await user.should_see("Total Purchases (lifetime) is at most $50,000")
    user.find("Run rule now").click()
    await user.should_see("Ran Gold Tier's rule: no one moved.", retries=20)  # Gold is a rung: it speaks in moves


async def test_running_the_rule_adds_a_customer_whose_purchases_grew(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    on_the_ladder = await Membership.filter(group__parent__code="TIERED").values_list("customer_id", flat=True)
    customer = (
        await Customer.filter(lifetime_cents__lt=2_000_000, lifetime_cents__gt=0)
        .exclude(id__in=on_the_ladder)
        .order_by("id")
        .first()
    )
    # Their purchases changed outside an order (say, an import): the periodic run or the owner catches it.
    await Customer.filter(id=customer.id).update(lifetime_cents=3_000_000)
    await user.open(f"/groups/{gold.id}?tab=rule")
    user.find("Run rule now").click()
    await user.should_see("Ran Gold Tier's rule: +1 new to the ladder.", retries=20)
    await user.should_see(customer.name, marker="last-run-join")
    assert await Membership.exists(group_id=gold.id, customer_id=customer.id)


async def test_an_older_rule_version_is_previewed_before_it_is_restored(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    detail = await get_group(group_id=gold.id)
    wider = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 1_000_000}]}
    await update_group(
        group_id=gold.id,
        version=detail.version,
        data={**detail.as_input().model_dump(), "rule": wider},
        actor=SystemActor("owner"),
    )
    await user.open(f"/groups/{gold.id}?tab=rule")
    await user.should_see("Version 2")
    await user.should_see("Rule history (2 versions)")
    user.find("restore-1").click()
    await user.should_see("Restore rule version 1?", retries=20)
    await user.should_see("down to Silver Tier", marker="restore-diff")  # Gold is a rung: its leavers move down
    user.find("confirm-restore").click()
    await user.should_see("Restored rule version 1.", retries=20)
    await user.should_see("Version 3")
    first = await RuleVersion.get(group_id=gold.id, number=1)
    assert (await CustomerGroup.get(id=gold.id)).rule == first.rule
