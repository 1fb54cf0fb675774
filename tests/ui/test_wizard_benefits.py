"""Setting a group's benefits in the wizard: the Pricing step, errors at their field, a child
group's inherited values, and the group page's Benefits Summary."""

from nicegui import ui
from nicegui.testing import User

from models.group import CustomerGroup
from services.benefits.sections import get_benefits, save_benefits
from services.groups.group import create_group
from services.staff.actor import SystemActor


def go_to(user: User, step: str) -> None:
    user.find(ui.stepper).elements.pop().value = step


async def test_a_percentage_discount_set_in_the_pricing_step_shows_on_the_group_page(user: User):
    retail = await CustomerGroup.get(code="RETAIL")
    await user.open(f"/groups/{retail.id}/edit")
    go_to(user, "Pricing")
    await user.should_see("Pricing Method")
    user.find(marker="pricing.type").elements.pop().value = "percentage"
    await user.should_see("Discount Value")
    user.find(marker="pricing.percent").elements.pop().value = 15
    user.find("Save changes").click()
    await user.should_see("Saved Retail")
    await user.should_see("15% discount on all products", marker="benefit-pricing")
    stored = await get_benefits(group_id=retail.id)
    assert (stored.pricing.type, stored.pricing.percent) == ("percentage", 15)


async def test_a_bad_value_is_shown_at_its_field_and_the_wizard_goes_to_pricing(user: User):
    retail = await CustomerGroup.get(code="RETAIL")
    name_before = retail.name
    await user.open(f"/groups/{retail.id}/edit")
    go_to(user, "Pricing")
    await user.should_see("Pricing Method")  # a step's content is drawn when it is first shown
    user.find(marker="pricing.type").elements.pop().value = "percentage"
    await user.should_see("Discount Value")
    user.find(marker="pricing.percent").elements.pop().value = 150
    go_to(user, "Review")  # the header's checks stop at Pricing (the Review is not drawn)
    await user.should_see("Please correct the highlighted fields on “Pricing” first.")
    user.find(marker="name").elements.pop().value = "Retail Renamed"
    user.find("Save changes").click()
    await user.should_see("Please correct the highlighted fields.")
    assert user.find(marker="pricing.percent").elements.pop().error == "Enter a number of at most 100."
    assert user.find(ui.stepper).elements.pop().value == "Pricing"
    # Nothing was half-written: neither the group nor its benefits.
    assert (await CustomerGroup.get(id=retail.id)).name == name_before
    assert (await get_benefits(group_id=retail.id)).pricing.percent is None


async def test_a_child_group_shows_what_it_inherits_and_adds_on_top(user: User):
    vip = await CustomerGroup.get(code="VIP")
    await save_benefits(
        group_id=vip.id,
        sections={"pricing": {"type": "percentage", "percent": 15, "scope": "all"}, "payment": {"net_days": 30}},
        actor=SystemActor("test"),
    )
    child = await create_group(
        data={"name": "VIP Inner Circle", "code": "VIP-INNER", "parent_id": vip.id}, actor=SystemActor("t")
    )
    await user.open(f"/groups/{child.id}/edit?step=pricing")
    await user.should_see("Inherit from VIP Customers")
    await user.should_see("As VIP Customers: Percentage discount")
    percent = user.find(marker="pricing.percent").elements.pop()
    assert (percent.value, percent.props["placeholder"]) == (None, "15")
    user.find(marker="pricing.additional_percent").elements.pop().value = 5
    await user.should_see("Additional 5% (total 20%)")
    go_to(user, "Payment terms")
    await user.should_see("As VIP Customers: Net 30")
    go_to(user, "Review")
    await user.should_see("20% (15% from VIP Customers + 5% here)")
    await user.should_see("inherited from VIP Customers")
    user.find("Save changes").click()
    await user.should_see("20% discount on all products", marker="benefit-pricing")
    await user.should_see("15% from VIP Customers + 5% here")
