"""The Settings page: one group per customer, and the default group."""

from datetime import UTC, datetime

from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup, GroupType, Membership
from models.shop import Shop


async def test_one_group_per_customer_is_refused_while_a_customer_is_in_two_groups(user: User):
    acme = await Customer.get(name="Acme Corporation")
    # The demo's VIP Platinum members are in VIP Customers too: take them out of Platinum.
    platinum = await Membership.filter(group__code="VIP-PLATINUM").values_list("customer_id", flat=True)
    await Membership.filter(group__code="VIP-PLATINUM").delete()
    await Membership.filter(group__code="VIP", customer_id__in=platinum).update(is_primary=True)
    await Membership.create(customer=acme, group=await CustomerGroup.get(code="WHOLESALE"), since=datetime.now(UTC))
    await user.open("/settings")
    await user.should_see("One group per customer")
    user.find("one-group-per-customer").click()
    user.find("save-settings").click()
    await user.should_see("1 customer is in more than one group (e.g. Acme Corporation: VIP Customers, Wholesale)")
    assert (await Shop.first()).one_group_per_customer is False

    await Membership.filter(customer=acme, group__code="WHOLESALE").delete()
    user.find("save-settings").click()
    await user.should_see("Settings saved.")
    assert (await Shop.first()).one_group_per_customer is True


async def test_the_default_group_is_validated_and_saved(user: User):
    # Retail, the default, has since been made automatic: the page still shows it, and saving says why not.
    await CustomerGroup.filter(code="RETAIL").update(type=GroupType.AUTOMATIC)
    await user.open("/settings")
    default = user.find("default-group").elements.pop()
    assert default.options[default.value] == "Retail"
    assert "Gold Tier" not in default.options.values(), "automatic groups are not offered"
    user.find("save-settings").click()
    await user.should_see("The settings were not saved.")
    assert default.error.startswith("Retail is automatic")

    wholesale = await CustomerGroup.get(code="WHOLESALE")
    default.value = wholesale.id
    assert default.error is None
    user.find("save-settings").click()
    await user.should_see("Settings saved.")
    assert await CustomerGroup.filter(is_default=True).values_list("code", flat=True) == ["WHOLESALE"]
