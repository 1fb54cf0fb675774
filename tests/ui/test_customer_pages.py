"""What a shop owner sees on the customer pages."""

from nicegui.testing import User

from models.customer import Customer
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
