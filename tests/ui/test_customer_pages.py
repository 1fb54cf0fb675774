"""What a shop owner sees on the customer pages."""

from nicegui.testing import User

from models.customer import Customer


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
