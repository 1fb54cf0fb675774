"""What a shop owner sees and does on the group pages (NiceGUI's simulated user)."""

from nicegui import ui
from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup, Membership


async def test_the_overview_lists_the_demo_groups_with_their_member_counts(user: User):
    await user.open("/")
    await user.should_see("Northwind Supply Co.")
    table = user.find("groups-table").elements.pop()
    counts = {row["name"]: row["members"] for row in table.rows}
    for group in await CustomerGroup.all():
        assert counts[group.name] == await Membership.filter(group_id=group.id).count()
    await user.should_see("Total Groups: 9")


async def test_searching_the_overview_narrows_the_list(user: User):
    await user.open("/groups")
    user.find("group-search").type("tier")
    await user.should_see("Total Groups: 4")
    names = [row["name"] for row in user.find("groups-table").elements.pop().rows]
    assert names == ["Bronze Tier", "Gold Tier", "Silver Tier", "Tiered Customers"]


async def test_a_new_group_gets_a_suggested_code_and_opens_after_saving(user: User):
    await user.open("/groups/new")
    user.find("name").type("Trade Partners")
    assert user.find("code").elements.pop().value == "TRADE-PARTNERS"
    user.find("description").type("Resellers with a contract")
    user.find("Create group").click()
    await user.should_see("Created Trade Partners")
    group = await CustomerGroup.get(code="TRADE-PARTNERS")
    assert group.description == "Resellers with a contract"
    await user.should_see("Trade Partners", marker="group-name")
    await user.should_see("No customers in this group yet")


async def test_a_duplicate_name_is_shown_next_to_the_field(user: User):
    await user.open("/groups/new")
    user.find("name").type("vip customers")
    user.find("code").clear().type("VIP2")
    user.find("Create group").click()
    await user.should_see("Please correct the highlighted fields.")
    assert user.find("name").elements.pop().error == 'A group named "vip customers" already exists.'
    assert await CustomerGroup.all().count() == 9


async def test_an_empty_name_is_refused(user: User):
    await user.open("/groups/new")
    user.find("Create group").click()
    await user.should_see("Please correct the highlighted fields.")
    assert user.find("name").elements.pop().error == "Enter a group name."
    assert user.find("code").elements.pop().error == "Enter a group code."


async def test_editing_a_group_that_changed_meanwhile_offers_a_reload(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}/edit")
    await CustomerGroup.filter(id=gold.id).update(name="Gold Tier (renamed)", version=gold.version + 1)
    user.find("description").type("More")
    user.find("Save changes").click()
    await user.should_see("This group was changed meanwhile")
    await user.should_see("Reload")
    assert (await CustomerGroup.get(id=gold.id)).name == "Gold Tier (renamed)"


async def test_the_group_page_shows_information_and_members(user: User):
    vip = await CustomerGroup.get(code="VIP")
    await user.open(f"/groups/{vip.id}?tab=overview")
    await user.should_see("Hybrid (rules + manual overrides)")
    members = await Membership.filter(group_id=vip.id).count()
    assert user.find("info-customers").elements.pop().text == f"{members:,}"
    user.find(marker="tab-members").click()  # a tab's content is drawn when it is first opened
    await user.should_see(marker="members-table")
    table = user.find("members-table").elements.pop()
    assert "Acme Corporation" in [row["name"] for row in table.rows]
    user.find("member-search").type("Acme")
    await user.should_see("1 match")
    assert [row["name"] for row in table.rows] == ["Acme Corporation"]


async def test_deleting_a_group_asks_first_and_names_its_members(user: User):
    silver = await CustomerGroup.get(code="SILVER")
    members = await Membership.filter(group_id=silver.id).count()
    await user.open(f"/groups/{silver.id}")
    user.find("delete-group").click()
    await user.should_see("Delete Silver Tier?")
    await user.should_see(f"{members} customers will be removed from this group.")
    user.find("confirm-delete").click()
    await user.should_see(f"Deleted Silver Tier: {members} members released.")
    assert not await CustomerGroup.exists(code="SILVER")


async def test_an_unknown_group_shows_a_friendly_page(user: User):
    await user.open("/groups/9999")
    await user.should_see("This group does not exist")
    await user.open("/groups/9999/edit")
    await user.should_see("This group does not exist")


async def test_reports_has_its_own_page(user: User):
    await user.open("/reports")
    await user.should_see("Compare how your groups perform side by side")
    await user.should_see(kind=ui.button, content="Groups")


async def test_promotions_has_its_own_page(user: User):
    await user.open("/promotions")
    await user.should_see("Target discounts, free shipping and other promotions at your groups")
    await user.should_see(kind=ui.button, content="New Promotion")


async def test_the_default_group_cannot_be_switched_off_and_says_why_at_the_field(user: User):
    retail = await CustomerGroup.get(code="RETAIL")
    await user.open(f"/groups/{retail.id}/edit")
    user.find(marker="status").elements.pop().value = "inactive"
    user.find(marker="type").elements.pop().value = "automatic"
    user.find("Save changes").click()
    await user.should_see("Please correct the highlighted fields.")
    assert user.find(marker="status").elements.pop().error == (
        "This is the shop's default group, which must stay active: choose another default in Settings first."
    )
    await user.should_see("so it cannot be automatic: choose another default in Settings first.", marker="type-error")
    assert (await CustomerGroup.get(id=retail.id)).status == "active"


async def test_a_search_that_finds_no_group_offers_to_clear_the_filters(user: User):
    await user.open("/groups")
    user.find("group-search").type("no such group")
    await user.should_see("No groups match these filters.")
    user.find(marker="groups-clear").click()
    await user.should_see("Total Groups: 9")
    assert user.find("group-search").elements.pop().value == ""


async def test_the_overview_says_why_total_customers_is_not_the_shops_customer_count(user: User):
    await user.open("/groups")
    memberships = await Membership.all().count()
    in_groups = len(set(await Membership.all().values_list("customer_id", flat=True)))
    shop = await Customer.all().count()
    await user.should_see(f"Total Customers: {in_groups:,}")
    await user.should_see(
        f"{memberships:,} memberships of {in_groups:,} customers: a customer may be in several groups and is "
        f"counted once. The shop has {shop:,} customers; {shop - in_groups:,} are in no group."
    )


async def test_the_group_page_opens_on_its_members_and_each_tab_can_be_linked(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    members = await Membership.filter(group_id=gold.id).count()
    await user.open(f"/groups/{gold.id}")
    tabs = user.find(marker="group-tabs").elements.pop()
    assert tabs.value == "members"
    await user.should_see(f"Members ({members:,})")
    for name in ("Overview", "Rule", "History"):
        await user.should_see(name, kind=ui.tab)
    await user.should_see(
        f"Automatic (rule-based assignment) · {members:,} customers · in Tiered Customers", marker="group-facts"
    )

    await user.open(f"/groups/{gold.id}?tab=history")
    assert user.find(marker="group-tabs").elements.pop().value == "history"


async def test_the_tab_last_opened_on_a_group_comes_back_after_the_page_reloads(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}")
    user.find(marker="tab-rule").click()
    assert user.find(marker="group-tabs").elements.pop().value == "rule"
    await user.open(f"/groups/{gold.id}")  # as after "Run rule now"
    assert user.find(marker="group-tabs").elements.pop().value == "rule"
    silver = await CustomerGroup.get(code="SILVER")
    await user.open(f"/groups/{silver.id}")
    assert user.find(marker="group-tabs").elements.pop().value == "members"


async def test_members_have_a_labelled_why_button_and_the_primary_star_is_explained(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}")
    await user.should_see("marks members whose primary group this is", marker="primary-legend")
    table = user.find("members-table").elements.pop()
    why = table.slots["body-cell-why"].template
    assert 'label="Why?"' in why and 'size="sm"' not in why and ":aria-label=" in why
    name = table.slots["body-cell-name"].template
    assert "(primary group)" in name and 'class="sr-only"' in name


async def test_a_member_search_that_finds_nobody_offers_to_clear_it(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}")
    user.find("member-search").type("zzz nobody")
    await user.should_see("No members match this search.")
    user.find(marker="members-clear").click()
    await user.should_see(marker="members-table")
    assert user.find("member-search").elements.pop().value == ""


async def test_the_outcome_of_an_action_is_a_message_in_the_page_not_over_its_buttons(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}")
    user.find(marker="delete-group").click()
    user.find(marker="confirm-delete").click()
    await user.should_see(marker="outcome", retries=20)
    outcome = user.find(marker="outcome-text").elements.pop()
    assert outcome.text.startswith("Deleted Gold Tier: ") and outcome.text.endswith("members released.")
    assert not user.notify.messages  # nothing floats over the overview's buttons
    await user.should_see(marker="new-group")
