"""What a shop owner sees on the customer pages."""

from nicegui.testing import User

from models.customer import Customer
from models.group import RULE_TYPES, CustomerGroup, Membership
from models.shop import Shop


async def test_the_customer_list_is_paged_and_searchable(user: User):
    await user.open("/customers")
    everyone = await Customer.all().count()
    await user.should_see(f"{everyone:,} customers")
    assert len(user.find("customers-table").elements.pop().rows) == 25
    user.find("customer-search").type("Acme")
    await user.should_see("1 customer")
    assert [row["name"] for row in user.find("customers-table").elements.pop().rows] == ["Acme Corporation"]


async def test_a_customer_page_shows_stats_and_groups(user: User):
    acme = await Customer.get(name="Acme Corporation")
    await user.open(f"/customers/{acme.id}")
    await user.should_see("$245,678")
    await user.should_see("Excellent")
    groups = user.find("customer-groups").elements.pop()
    assert [row["group"] for row in groups.rows] == ["VIP Platinum", "VIP Customers"]  # primary first


async def test_a_euro_shop_shows_euros_in_the_list_and_on_the_customer_page(user: User):
    await Shop.all().update(currency="EUR")
    await user.open("/customers")
    user.find("customer-search").type("Acme")
    await user.should_see("1 customer")
    assert [row["purchases"] for row in user.find("customers-table").elements.pop().rows] == ["€245,678"]

    acme = await Customer.get(name="Acme Corporation")
    await user.open(f"/customers/{acme.id}")
    await user.should_see("€245,678")
    await user.should_not_see("$245,678")


async def test_a_customer_search_that_finds_nobody_offers_to_clear_the_filters(user: User):
    await user.open("/customers")
    user.find("customer-search").type("zzz nobody by this name")
    await user.should_see("No customers match this search and group.")
    user.find(marker="customers-clear").click()
    await user.should_see(f"{await Customer.all().count():,} customers")


async def test_a_customer_page_adds_them_to_a_group_with_the_group_pages_options(user: User):
    acme = await Customer.get(name="Acme Corporation")
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    await user.open(f"/customers/{acme.id}")
    user.find(marker="join-group-button").click()
    await user.should_see("Add Acme Corporation to a group")
    await user.should_see("Add to this group as primary")  # the group page's options
    user.find(marker="confirm-join").click()
    await user.should_see("Choose a group.")
    user.find(marker="join-group").elements.pop().value = wholesale.id
    user.find(marker="join-mode").elements.pop().value = "primary"
    user.find(marker="join-reason").type("Buys by the pallet now")
    user.find(marker="confirm-join").click()
    await user.should_see("Added Acme Corporation to Wholesale; now the primary group of 1 customer.", retries=20)
    membership = await Membership.get(customer_id=acme.id, group_id=wholesale.id)
    assert membership.is_primary
    await user.open(f"/customers/{acme.id}")
    groups = user.find("customer-groups").elements.pop()
    assert [row["group"] for row in groups.rows] == ["Wholesale", "VIP Customers", "VIP Platinum"]  # primary first


async def test_a_customer_page_offers_only_groups_that_take_customers_by_hand(user: User):
    acme = await Customer.get(name="Acme Corporation")
    await user.open(f"/customers/{acme.id}")
    user.find(marker="join-group-button").click()
    await user.should_see("Add Acme Corporation to a group")
    offered = set(user.find(marker="join-group").elements.pop().options.values())
    # Not Acme's own groups, not the automatic ones, not Tiered Customers (a ladder: its rungs take them).
    assert offered == {"Retail", "Wholesale"}
    await user.should_see("Automatic groups take their members from their rule")


async def test_a_customer_page_takes_them_out_of_a_group_through_the_remove_dialog(user: User):
    acme = await Customer.get(name="Acme Corporation")
    platinum = await CustomerGroup.get(code="VIP-PLATINUM")
    await user.open(f"/customers/{acme.id}")
    user.find(marker="customer-groups").trigger("leave", {"group_id": platinum.id})
    await user.should_see("Remove Customers from Group")
    await user.should_see("1 customer: Acme Corporation", marker="remove-names")
    user.find(marker="remove-mode").elements.pop().value = "remove"
    user.find(marker="confirm-remove").click()
    await user.should_see("Removed 1 customer from VIP Platinum.", retries=20)
    await user.should_see(marker="customer-name")  # back on Acme's page
    assert await Membership.filter(customer_id=acme.id).values_list("group__code", flat=True) == ["VIP"]


async def test_why_in_each_rule_group_comes_before_the_details(user: User):
    acme = await Customer.get(name="Acme Corporation")
    await user.open(f"/customers/{acme.id}")
    why = user.find(marker="rule-groups").elements.pop()
    details = user.find("Details").elements.pop()
    assert why.id < details.id


async def test_a_rule_group_the_customer_does_not_match_shows_why_once_opened(user: User):
    acme = await Customer.get(name="Acme Corporation")
    await user.open(f"/customers/{acme.id}")
    await user.should_see(marker="rule-groups")
    closed = [
        (group, expansion)
        for group in await CustomerGroup.filter(type__in=list(RULE_TYPES)).order_by("id")
        for expansion in user.find(marker=f"why-group-{group.id}").elements
        if not expansion.value
    ]
    assert closed, "Acme matches every rule group"
    group, expansion = closed[0]
    await user.should_not_see(f"Open {group.name}")  # drawn once opened
    expansion.value = True
    await user.should_see(f"Open {group.name}")
    await user.should_see(marker="why-fail")
