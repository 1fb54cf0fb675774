"""Adding customers to a group and removing members, through the group page's dialogs."""

from nicegui import ui
from nicegui.testing import User
from tortoise.expressions import Q

from models.customer import Customer
from models.group import CustomerGroup, GroupStatus, GroupType, Membership, MembershipExclusion, MembershipSource
from models.shop import Shop
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.staff.actor import SystemActor
from tests.ui.finding import until


def tick(user: User, marker: str, *names: str) -> None:
    """Tick the rows with these names, as a click on their checkboxes would."""
    table = user.find(marker=marker).elements.pop()
    rows = [row for row in table.rows if row["name"] in names]
    assert len(rows) == len(names), [row["name"] for row in table.rows]
    user.find(marker=marker).trigger(
        "selection", {"added": True, "rows": rows, "keys": [row[table.row_key] for row in rows]}
    )


async def test_add_two_customers_moving_them_from_their_current_group(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    retail_members = await Membership.filter(group__code="RETAIL").order_by("customer__name").limit(2)
    names = [(await Customer.get(id=m.customer_id)).name for m in retail_members]
    await user.open(f"/groups/{wholesale.id}")
    user.find("Add Customers").click()
    await user.should_see("Add Customers to Group: Wholesale")
    user.find(marker="picker-search").type(names[0])
    await user.should_see(names[0], marker="picker-table")
    tick(user, "picker-table", names[0])
    user.find(marker="picker-search").clear().type(names[1])
    await user.should_see(names[1], marker="picker-table")
    tick(user, "picker-table", names[1])
    await user.should_see("Selected: 2 customers")  # ticks last across searches
    user.find(marker="add-mode").elements.pop().value = "move"
    user.find("Add to Group").click()
    await user.should_see("Added 2 customers to Wholesale; 2 memberships elsewhere ended.", retries=20)
    for member in retail_members:
        groups = await Membership.filter(customer_id=member.customer_id).values_list("group__code", "is_primary")
        assert groups == [("WHOLESALE", True)]


async def test_select_all_matching_takes_every_customer_the_search_finds(user: User):
    retail = await CustomerGroup.get(code="RETAIL")
    members = await Membership.filter(group_id=retail.id).values_list("customer_id", flat=True)
    found = Q(name__icontains="inc") | Q(company__icontains="inc") | Q(email__icontains="inc")
    matching = await Customer.filter(found).exclude(id__in=members).count()
    assert matching > 10  # more than the dialog's page
    await user.open(f"/groups/{retail.id}")
    user.find("Add Customers").click()
    await user.should_see("Add Customers to Group: Retail")
    user.find(marker="picker-search").type("inc")
    await user.should_see(f"Select all {matching:,} customers matching")
    user.find(marker="picker-select-all").click()
    await user.should_see(f"Selected: {matching:,} customers (all that match)")
    user.find("Add to Group").click()
    await user.should_see(f"Added {matching:,} customers to Retail", retries=20)
    members = await Membership.filter(group_id=retail.id).values_list("customer_id", flat=True)
    assert await Customer.filter(found).exclude(id__in=members).count() == 0


async def test_a_full_group_says_so_in_the_dialog_and_adds_no_one(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    await CustomerGroup.filter(id=wholesale.id).update(capacity=wholesale.member_count)
    someone = await Customer.exclude(memberships__group_id=wholesale.id).order_by("name").first()
    await user.open(f"/groups/{wholesale.id}")
    user.find("Add Customers").click()
    await user.should_see("Add Customers to Group: Wholesale")
    user.find(marker="picker-search").type(someone.name)
    await user.should_see(someone.name, marker="picker-table")
    tick(user, "picker-table", someone.name)
    user.find("Add to Group").click()
    count = wholesale.member_count
    await user.should_see(f"Wholesale is full: {count:,} of {count:,}.", marker="add-error", retries=20)
    assert not await Membership.exists(group_id=wholesale.id, customer_id=someone.id)


async def test_remove_members_to_the_default_group_with_a_reason(user: User):
    vip = await CustomerGroup.get(code="VIP")
    platinum = await Membership.filter(group__code="VIP-PLATINUM").values_list("customer_id", flat=True)
    member = (
        await Membership.filter(group_id=vip.id, source=MembershipSource.RULE)
        .exclude(customer_id__in=platinum)  # they would keep VIP Platinum, too
        .order_by("id")
        .first()
    )
    name = (await Customer.get(id=member.customer_id)).name
    await user.open(f"/groups/{vip.id}")
    user.find(marker="member-search").type(name)
    await user.should_see("1 match", marker="member-total")
    tick(user, "members-table", name)
    await user.should_see("Selected: 1 member")
    user.find("Remove from Group").click()
    await user.should_see("Remove Customers from Group")
    await user.should_see("Move to default group (Retail)")
    user.find(marker="remove-mode").elements.pop().value = "default_group"
    user.find(marker="remove-reason").type("No purchases 12+ months")
    user.find(kind=ui.button, content="Remove from Group", marker="confirm-remove").click()
    await user.should_see("Removed 1 customer from VIP Customers and moved them to Retail", retries=20)
    assert await Membership.filter(customer_id=member.customer_id).values_list("group__code", flat=True) == ["RETAIL"]
    # The rule matches them, so the hybrid group keeps them out from now on.
    assert await MembershipExclusion.exists(group_id=vip.id, customer_id=member.customer_id)


async def test_moving_to_a_specific_group_needs_a_group(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    member = await Membership.filter(group_id=wholesale.id).order_by("id").first()
    name = (await Customer.get(id=member.customer_id)).name
    await user.open(f"/groups/{wholesale.id}")
    user.find(marker="member-search").type(name)
    await user.should_see("1 match", marker="member-total")
    tick(user, "members-table", name)
    user.find("Remove from Group").click()
    await user.should_see("Remove Customers from Group")
    user.find(marker="remove-mode").elements.pop().value = "other_group"
    user.find(marker="confirm-remove").click()
    await user.should_see("Choose the group to move them to.", retries=20)
    assert await Membership.exists(group_id=wholesale.id, customer_id=member.customer_id)


async def test_an_automatic_group_explains_itself_and_can_turn_hybrid(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}")
    user.find("Add Customers").click()
    await user.should_see("Gold Tier follows its rule")
    user.find("Turn into hybrid group").click()
    await user.should_see("Gold Tier is now hybrid", retries=20)
    assert (await CustomerGroup.get(id=gold.id)).type == GroupType.HYBRID


async def test_the_group_page_shows_who_joined_in_its_history(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    await user.open(f"/groups/{wholesale.id}?tab=history")
    await user.should_see("Membership history")
    rows = user.find(marker="history-table").elements.pop().rows
    assert rows and all(row["reason"] == "Demo shop" for row in rows)


async def test_a_new_group_is_created_with_its_first_customers_in_one_go(user: User):
    names = list(
        await Customer.filter(memberships__group__code="WHOLESALE")
        .order_by("name")
        .limit(2)
        .values_list("name", flat=True)
    )
    await user.open("/groups/new")
    user.find("name").type("Trade Partners")
    assert len(user.find("Create group").elements) == 1  # only the step in view has one
    user.find(ui.stepper).elements.pop().value = "Customers"
    await user.should_see("Tick the customers to add now")
    for name in names:
        user.find(marker="picker-search").clear().type(name)
        await user.should_see(name, marker="picker-table")
        tick(user, "picker-table", name)
    await user.should_see("Selected: 2 customers")
    user.find(ui.stepper).elements.pop().value = "Review"  # the last step shows them before saving
    await user.should_see(f"2 customers: {names[0]}, {names[1]}", marker="review-customers")
    await user.should_see("Added as: Add to this group only", marker="review-customers")
    user.find("Create group").click()
    await user.should_see("Created Trade Partners. Added 2 customers to Trade Partners.", retries=20)
    members = await Membership.filter(group__code="TRADE-PARTNERS").values_list("customer__name", flat=True)
    assert sorted(members) == names


async def test_a_customer_kept_out_of_a_hybrid_group_can_be_let_back_by_the_rule(user: User):
    vip = await CustomerGroup.get(code="VIP")
    member = await Membership.filter(group_id=vip.id, source=MembershipSource.RULE).order_by("id").first()
    name = (await Customer.get(id=member.customer_id)).name
    await remove_members(
        group_id=vip.id, customer_ids=[member.customer_id], mode=RemoveMode.REMOVE, actor=SystemActor("owner")
    )
    await user.open(f"/groups/{vip.id}?tab=rule")
    await user.should_see("Kept out by hand (1 customer)")
    user.find(marker=f"lift-{member.customer_id}").click()
    await user.should_see(f"{name} is no longer kept out; and the rule added them back.", retries=20)
    assert await Membership.exists(group_id=vip.id, customer_id=member.customer_id)


async def test_a_capacity_below_the_members_is_refused_next_to_the_field(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    await user.open(f"/groups/{wholesale.id}/edit")
    user.find(marker="capacity").elements.pop().value = 1
    user.find("Save changes").click()
    await user.should_see("Please correct the highlighted fields.")
    members = wholesale.member_count
    assert user.find(marker="capacity").elements.pop().error == (
        f"The group has {members:,} members already: set at least {members:,}, or remove members first."
    )
    user.find(marker="capacity").elements.pop().value = members + 5
    user.find("Save changes").click()
    await user.should_see("Saved Wholesale", retries=20)
    await user.should_see(f"{members:,} of {members + 5:,}", marker="info-customers")
    assert (await CustomerGroup.get(id=wholesale.id)).capacity == members + 5


async def open_add_dialog_with(user: User, group: CustomerGroup, name: str) -> None:
    """Open the group's "Add Customers" dialog, find the customer and tick them."""
    await user.open(f"/groups/{group.id}")
    user.find("Add Customers").click()
    await user.should_see(f"Add Customers to Group: {group.name}")
    user.find(marker="picker-search").type(name)
    await user.should_see(name, marker="picker-table")
    tick(user, "picker-table", name)
    await user.should_see("Selected: 1 customer")


async def a_retail_member() -> tuple[int, str]:
    member = await Membership.filter(group__code="RETAIL").order_by("customer__name").first()
    return member.customer_id, (await Customer.get(id=member.customer_id)).name


async def test_add_as_primary_makes_the_group_their_primary_one(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    customer_id, name = await a_retail_member()
    await open_add_dialog_with(user, wholesale, name)
    user.find(marker="add-mode").elements.pop().value = "primary"
    user.find("Add to Group").click()
    await user.should_see("Added 1 customer to Wholesale; now the primary group of 1 customer.", retries=20)
    groups = await Membership.filter(customer_id=customer_id).order_by("group__code")
    assert [(m.group_id == wholesale.id, m.is_primary) for m in groups] == [(False, False), (True, True)]


async def test_one_group_per_customer_refuses_a_second_group_beside_the_options(user: User):
    await Shop.all().update(one_group_per_customer=True)
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    customer_id, name = await a_retail_member()
    await open_add_dialog_with(user, wholesale, name)
    await user.should_see("This shop allows one group per customer: customers in another group must be moved.")
    user.find(marker="add-mode").elements.pop().value = "add"  # the dialog starts on "Move from current group"
    user.find("Add to Group").click()
    await user.should_see(
        f"1 selected customer is already in another group: {name} (Retail). The shop allows one group per "
        'customer: choose "Move from current group".',
        marker="add-mode-error",
        retries=20,
    )
    assert not await Membership.exists(group_id=wholesale.id, customer_id=customer_id)


async def test_de_select_all_empties_the_selection(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    _, name = await a_retail_member()
    await open_add_dialog_with(user, wholesale, name)
    user.find(marker="picker-deselect-all").click()
    await user.should_see("Selected: 0 customers")
    user.find("Add to Group").click()
    await user.should_see("Select at least one customer.", marker="add-error")
    assert await Membership.filter(group_id=wholesale.id).count() == wholesale.member_count


async def test_an_inactive_group_takes_no_new_members(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    customer_id, name = await a_retail_member()
    await open_add_dialog_with(user, wholesale, name)
    await CustomerGroup.filter(id=wholesale.id).update(status=GroupStatus.INACTIVE)  # switched off meanwhile
    user.find("Add to Group").click()
    await user.should_see("Wholesale is inactive: it accepts no new members.", marker="add-error", retries=20)
    assert not await Membership.exists(group_id=wholesale.id, customer_id=customer_id)
    # Opened afresh, the page says why before anyone tries.
    await user.open(f"/groups/{wholesale.id}")
    add = user.find(marker="add-customers").elements.pop()
    assert add.props.get("disable")
    await user.should_see("Wholesale is inactive: it accepts no new members. Make the group active to add customers.")


async def first_member(group: CustomerGroup, **filters) -> tuple[int, str]:
    """The group's longest-standing member (of those `filters` allow): their id and name."""
    member = await Membership.filter(group_id=group.id, **filters).order_by("id").first()
    return member.customer_id, (await Customer.get(id=member.customer_id)).name


async def tick_member(user: User, group: CustomerGroup, name: str) -> None:
    await user.open(f"/groups/{group.id}")
    user.find(marker="member-search").type(name)
    await user.should_see("1 match", marker="member-total")
    tick(user, "members-table", name)
    await user.should_see("Selected: 1 member")
    user.find("Remove from Group").click()


async def test_remove_group_assignment_keeps_their_other_groups(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    customer_id, name = await first_member(wholesale, source=MembershipSource.MANUAL)
    retail = await CustomerGroup.get(code="RETAIL")
    await add_members(group_id=retail.id, customer_ids=[customer_id], mode=AddMode.ADD, actor=SystemActor("owner"))
    await tick_member(user, wholesale, name)
    await user.should_see("Remove Customers from Group")
    user.find(marker="remove-mode").elements.pop().value = "remove"
    user.find(marker="confirm-remove").click()
    await user.should_see("Removed 1 customer from Wholesale.", retries=20)
    groups = await Membership.filter(customer_id=customer_id).values_list("group__code", "is_primary")
    assert groups == [("RETAIL", True)]


async def test_an_inactive_default_group_is_explained_at_the_option(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    customer_id, name = await first_member(wholesale)
    await CustomerGroup.filter(code="RETAIL").update(status=GroupStatus.INACTIVE)
    await tick_member(user, wholesale, name)
    await user.should_see("Remove Customers from Group")
    user.find(marker="remove-mode").elements.pop().value = "default_group"
    user.find(marker="confirm-remove").click()
    await user.should_see(
        "Retail is inactive: it accepts no new members. It is the shop's default group: choose another default "
        "in Settings, or move them to a specific group.",
        marker="remove-mode-error",
        retries=20,
    )
    assert await Membership.exists(group_id=wholesale.id, customer_id=customer_id)


async def test_removing_from_an_automatic_group_offers_to_turn_it_hybrid_and_goes_on(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    customer_id, name = await first_member(gold)
    await tick_member(user, gold, name)
    await user.should_see("Gold Tier follows its rule")
    await user.should_see("so you cannot remove members by hand")
    user.find("Turn into hybrid group").click()
    await user.should_see("Gold Tier is now hybrid", retries=20)
    await user.should_see("Remove Customers from Group")
    await user.should_see(f"1 customer: {name}", marker="remove-names")
    user.find(marker="remove-mode").elements.pop().value = "remove"
    user.find(marker="remove-reason").type("Key account handled by hand")
    user.find(marker="confirm-remove").click()
    await user.should_see("Removed 1 customer from Gold Tier; 1 customer the rule matches will stay out.", retries=20)
    assert (await CustomerGroup.get(id=gold.id)).type == GroupType.HYBRID
    assert not await Membership.exists(group_id=gold.id, customer_id=customer_id)
    assert await MembershipExclusion.exists(group_id=gold.id, customer_id=customer_id)


async def test_adding_to_an_automatic_group_turns_it_hybrid_and_opens_the_add_dialog(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    customer_id, name = await a_retail_member()
    await user.open(f"/groups/{gold.id}")
    user.find("Add Customers").click()
    await user.should_see("so you cannot add customers to it by hand")
    user.find("Turn into hybrid group").click()
    await user.should_see("Add Customers to Group: Gold Tier", retries=20)
    user.find(marker="picker-search").type(name)
    await user.should_see(name, marker="picker-table")
    tick(user, "picker-table", name)
    user.find("Add to Group").click()
    await user.should_see("Added 1 customer to Gold Tier.", retries=20)
    membership = await Membership.get(group_id=gold.id, customer_id=customer_id)
    assert membership.source == MembershipSource.MANUAL


async def test_the_default_group_says_so_instead_of_offering_a_move_to_itself(user: User):
    retail = await CustomerGroup.get(code="RETAIL")
    _, name = await first_member(retail)
    await tick_member(user, retail, name)
    await user.should_see("Remove Customers from Group")
    await user.should_see("Move to default group (this is the default group)")
    await user.should_not_see("none set")


async def test_select_all_members_a_search_finds_and_remove_them(user: User):
    retail = await CustomerGroup.get(code="RETAIL")
    found = Q(customer__name__icontains="a") | Q(customer__company__icontains="a") | Q(customer__email__icontains="a")
    leaving = await Membership.filter(found, group_id=retail.id).values_list("customer_id", flat=True)
    assert len(leaving) > 25  # more than a page
    await user.open(f"/groups/{retail.id}")
    user.find(marker="member-search").type("a")
    await user.should_see(f"{len(leaving):,} matches", marker="member-total")
    user.find(marker="members-select-all").click()
    await user.should_see(f"Selected: {len(leaving):,} members (all that match)")
    user.find("Remove from Group").click()
    await user.should_see(f"All {len(leaving):,} members that match the search.")
    user.find(marker="remove-mode").elements.pop().value = "remove"
    user.find(kind=ui.button, content="Remove from Group", marker="confirm-remove").click()
    await user.should_see(f"Removed {len(leaving):,} customers from Retail.", retries=20)
    assert not await Membership.filter(found, group_id=retail.id).exists()
    assert await Membership.filter(group_id=retail.id).count() == retail.member_count - len(leaving)


async def test_the_members_table_pages_forwards_and_back_in_name_order(user: User):
    retail = await CustomerGroup.get(code="RETAIL")
    names = list(
        await Membership.filter(group_id=retail.id)
        .order_by("customer__name", "customer_id")
        .values_list("customer__name", flat=True)
    )
    assert len(names) > 75
    await user.open(f"/groups/{retail.id}")
    await user.should_see(f"{len(names):,} members", marker="member-total")
    table = user.find(marker="members-table").elements.pop()

    async def turn_to(page: int) -> list[str]:  # what Quasar's pagination buttons send
        user.find(marker="members-table").trigger("request", {"pagination": {**table.pagination, "page": page}})
        assert await until(lambda: table.pagination["page"] == page)
        return [row["name"] for row in table.rows]

    assert [row["name"] for row in table.rows] == names[:25]
    assert await turn_to(2) == names[25:50]
    assert await turn_to(3) == names[50:75]
    assert await turn_to(2) == names[25:50]
    last = -(-len(names) // 25)
    assert await turn_to(last) == names[(last - 1) * 25 :]
    assert await turn_to(last - 1) == names[(last - 2) * 25 : (last - 1) * 25]
