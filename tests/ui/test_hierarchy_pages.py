"""The hierarchy and overlaps pages, as the owner uses them on the demo shop."""

from datetime import UTC, datetime

from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup, Membership
from services.benefits.sections import get_benefits, save_benefits
from services.membership.changes import AddMode, add_members
from services.staff.actor import SystemActor


async def _ids(*codes: str) -> list[int]:
    return [(await CustomerGroup.get(code=code)).id for code in codes]


async def test_the_tree_lists_the_groups_with_the_default_marked(user: User):
    await user.open("/groups")
    user.find(marker="open-hierarchy").click()
    await user.should_see("Customer Group Hierarchy")
    for name in ("VIP Customers", "Retail", "New Customers", "Wholesale", "default"):
        await user.should_see(name, marker="hierarchy-tree")
    wholesale, retail = await _ids("WHOLESALE", "RETAIL")
    user.find(marker=f"tree-{wholesale}").click()
    await user.should_see("Inheritance Settings: Wholesale")
    await user.should_see("A top-level group has nothing to inherit")
    user.find(marker=f"tree-{retail}").click()
    await user.should_see("Inheritance Settings: Retail")


async def test_moving_a_group_under_its_own_subgroup_shows_why_it_cannot(user: User):
    retail, new = await _ids("RETAIL", "NEW")
    await user.open(f"/groups/hierarchy?group={retail}")
    await user.should_see("Inheritance Settings: Retail")
    user.find(marker="move-under").elements.pop().value = new
    await user.should_see("A group cannot sit under itself or one of its own subgroups.", marker="move-under")
    assert (await CustomerGroup.get(id=retail)).parent_id is None


async def test_moving_a_group_under_another_and_back_to_the_top(user: User):
    wholesale, retail = await _ids("WHOLESALE", "RETAIL")
    await user.open(f"/groups/hierarchy?group={wholesale}")
    await user.should_see("Inheritance Settings: Wholesale")
    user.find(marker="move-under").elements.pop().value = retail
    await user.should_see("Moved Wholesale under Retail.")
    await user.should_see("Retail › Wholesale", marker="group-chain")
    assert (await CustomerGroup.get(id=wholesale)).parent_id == retail
    user.find(marker="move-under").elements.pop().value = 0
    await user.should_see("Wholesale is top level.")
    assert (await CustomerGroup.get(id=wholesale)).parent_id is None


async def test_the_effective_settings_say_what_is_inherited_and_what_is_overridden(user: User):
    retail, new = await _ids("RETAIL", "NEW")
    await save_benefits(
        group_id=retail,
        sections={"payment": {"net_days": 30, "credit_limit_cents": 5_000_000, "require_po": True}},
        actor=SystemActor("test"),
    )
    await save_benefits(
        group_id=new, sections={"payment": {"credit_limit_cents": 1_000_000}}, actor=SystemActor("test")
    )
    await user.open(f"/groups/hierarchy?group={new}")
    await user.should_see("Inheritance Settings: New Customers")
    await user.should_see("Credit limit: $10,000 (vs $50,000)", marker="overrides")
    await user.should_see("Net 30", marker="value-payment-net_days")
    await user.should_see("inherited from Retail", marker="source-payment-net_days")
    await user.should_see("overridden here", marker="source-payment-credit_limit_cents")

    user.find(marker="inherit-payment").elements.pop().value = False
    await user.should_see("New Customers no longer inherits payment terms from Retail.")
    await user.should_see("default", marker="source-payment-net_days")
    await user.should_see("set here", marker="source-payment-credit_limit_cents")
    payment = (await get_benefits(group_id=new)).payment
    assert (payment.inherit, payment.credit_limit_cents) == (False, 1_000_000)


async def test_overlaps_list_a_customer_whose_groups_give_different_terms(user: User):
    vip, wholesale = await _ids("VIP", "WHOLESALE")
    await save_benefits(group_id=vip, sections={"payment": {"net_days": 30}}, actor=SystemActor("test"))
    await save_benefits(group_id=wholesale, sections={"payment": {"net_days": 60}}, actor=SystemActor("test"))
    zed = await Customer.create(name="Zed Overlap", email="zed@example.com", created_at=datetime.now(UTC))
    await add_members(group_id=wholesale, customer_ids=[zed.id], mode=AddMode.ADD, actor=SystemActor("test"))
    await add_members(group_id=vip, customer_ids=[zed.id], mode=AddMode.ADD, actor=SystemActor("test"))
    in_vip = set(await Membership.filter(group_id=vip).values_list("customer_id", flat=True))
    in_wholesale = set(await Membership.filter(group_id=wholesale).values_list("customer_id", flat=True))
    shared = len(in_vip & in_wholesale)

    await user.open("/groups")
    user.find(marker="open-overlaps").click()
    await user.should_see("Shared members")
    await user.should_see(f"{shared:,}", marker=f"cell-{vip}-{wholesale}")
    table = user.find(marker="conflicts-table").elements.pop()
    zed_row = next(row for row in table.rows if row["name"] == "Zed Overlap")
    assert [g["name"] for g in zed_row["groups"]] == ["Wholesale", "VIP Customers"]  # primary first
    payment = next(c for c in zed_row["conflicts"] if c["kind"] == "payment")
    assert "VIP Customers Net 30" in payment["what"] and "Wholesale Net 60" in payment["what"]
    assert payment["gets"].startswith("Net 60") and payment["gets"].endswith("from Wholesale (primary group)")


async def test_overlaps_without_shared_customers_say_so(user: User):
    await Membership.all().delete()
    await user.open("/groups/overlaps")
    await user.should_see("No two groups share a customer.")
    await user.should_see("No conflicting benefits")
    await user.should_not_see(marker="conflicts-table")
