"""The wizard draws a step's content when it is first shown: a problem on a step not drawn yet still
appears at its field when the save goes there, a step drawn late starts from what the owner entered,
and the Review of a new group counts the first members even when the Customers step was skipped."""

from nicegui import ui
from nicegui.testing import User

from models.group import CustomerGroup, Membership
from tests.ui.finding import one, step_in_view, until


async def test_a_save_from_a_later_step_shows_a_problem_on_the_basic_information_at_its_field(user: User):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    members = await Membership.filter(group_id=wholesale.id).count()
    await CustomerGroup.filter(id=wholesale.id).update(capacity=1)  # below its members, as set by hand
    await user.open(f"/groups/{wholesale.id}/edit?step=pricing")
    await user.should_see("Pricing Method")
    await user.should_not_see(marker="capacity")  # the Basic information is not drawn yet

    user.find("Save changes").click()
    await user.should_see("Please correct the highlighted fields.")
    assert await until(lambda: step_in_view(user) == "Basic information")
    assert one(user, "capacity").error.startswith(f"The group has {members:,} members already")
    one(user, "capacity").value = members
    user.find("Save changes").click()
    await user.should_see("Saved Wholesale", retries=20)
    assert (await CustomerGroup.get(id=wholesale.id)).capacity == members


async def test_a_step_drawn_after_another_starts_from_what_the_owner_entered(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}/edit?step=pricing")
    await user.should_see("Pricing Method")
    user.find(marker="pricing.type").elements.pop().value = "percentage"
    await user.should_see("Discount Value")
    user.find(marker="pricing.percent").elements.pop().value = 7
    user.find(ui.stepper).elements.pop().value = "Basic information"  # going back: never checked
    await user.should_see(marker="name")
    assert one(user, "name").value == "Gold Tier"
    one(user, "name").value = "Gold Tier Plus"
    user.find(ui.stepper).elements.pop().value = "Review"
    await user.should_see("Gold Tier Plus", marker="review-basic")
    await user.should_see("7%", marker="review-pricing")


async def test_the_review_of_a_new_group_says_no_first_members_when_the_customers_step_was_skipped(user: User):
    await user.open("/groups/new")
    user.find("name").type("Trade Partners")
    user.find(ui.stepper).elements.pop().value = "Review"  # its header, past the Customers step
    await user.should_see("None chosen", marker="review-customers")
    user.find("Create group").click()
    await user.should_see("Created Trade Partners.", retries=20)
    assert await CustomerGroup.exists(code="TRADE-PARTNERS")
