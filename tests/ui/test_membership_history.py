"""The membership timeline as an owner sees it on a customer's page."""

from datetime import UTC, datetime

from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup, MembershipAction, MembershipEvent
from services.staff.actor import SystemActor


async def test_a_customer_page_shows_when_they_joined_their_group(user: User):
    acme = await Customer.get(name="Acme Corporation")
    await user.open(f"/customers/{acme.id}")
    await user.should_see("Membership history")
    await user.should_see("3 changes")  # joined VIP; later joined VIP Platinum and made it primary
    *_, row = user.find("history-table").elements.pop().rows
    assert (row["what"], row["group"], row["group_exists"]) == ("Joined VIP Customers", "VIP Customers", True)
    assert (row["reason"], row["by"]) == ("Demo shop", "system")


async def test_filtering_by_action_narrows_the_timeline(user: User):
    acme = await Customer.get(name="Acme Corporation")
    gold = await CustomerGroup.get(code="GOLD")
    for action in (MembershipAction.JOINED, MembershipAction.LEFT):
        await MembershipEvent.create(
            customer=acme,
            group_id=gold.id,
            group_name=gold.name,
            action=action,
            reason="Trial month",
            actor=SystemActor("dana"),
            at=datetime.now(UTC),
        )
    await user.open(f"/customers/{acme.id}")
    await user.should_see("5 changes")

    user.find("history-action").elements.pop().value = ["left"]
    await user.should_see("1 change")
    assert [row["what"] for row in user.find("history-table").elements.pop().rows] == ["Left Gold Tier"]

    user.find("history-action").elements.pop().value = []
    user.find("history-search").type("trial")
    await user.should_see("2 changes")
    rows = user.find("history-table").elements.pop().rows
    assert [(row["what"], row["by"]) for row in rows] == [("Left Gold Tier", "dana"), ("Joined Gold Tier", "dana")]


async def test_a_customer_without_any_membership_changes_sees_an_empty_state(user: User):
    newcomer = await Customer.create(name="Brand New Ltd", email="hello@brandnew.example", created_at=datetime.now(UTC))
    await user.open(f"/customers/{newcomer.id}")
    await user.should_see("No membership changes yet")


async def test_a_timeline_search_that_finds_nothing_offers_to_clear_the_filters(user: User):
    acme = await Customer.get(name="Acme Corporation")
    await user.open(f"/customers/{acme.id}")
    await user.should_see("3 changes")
    user.find("history-search").type("nothing like this")
    await user.should_see("No membership changes match these filters.")
    user.find(marker="history-clear").click()
    await user.should_see("3 changes")
    assert user.find("history-search").elements.pop().value == ""
    await user.should_see(marker="history-table")
