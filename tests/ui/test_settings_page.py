"""The Settings page: one group per customer, the default group, and daily backups."""

from datetime import UTC, datetime
from pathlib import Path

from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup, GroupType, Membership
from models.shop import Shop


async def test_one_group_per_customer_is_refused_while_a_customer_is_in_two_groups(user: User):
    acme = await Customer.get(name="Acme Corporation")
    # The demo's VIP Platinum members are in VIP Customers too: take them out of Platinum. Bronze
    # Tier's members are in Retail beside it: take them off the tier.
    platinum = await Membership.filter(group__code="VIP-PLATINUM").values_list("customer_id", flat=True)
    await Membership.filter(group__code="VIP-PLATINUM").delete()
    await Membership.filter(group__code="VIP", customer_id__in=platinum).update(is_primary=True)
    await Membership.filter(group__code="BRONZE").delete()
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


async def test_the_owner_switches_on_daily_backups_and_backs_up_at_once(user: User, tmp_path: Path):
    await user.open("/settings")
    await user.should_see("No backup has been taken yet.")
    user.find("backups-enabled").click()
    keep = user.find("backup-keep").elements.pop()
    keep.value = 0
    user.find("save-backups").click()
    await user.should_see("The backup settings were not saved.")
    assert keep.error == "Keep between 1 and 365 backups."
    assert (await Shop.first()).backup_enabled is False

    keep.value = 3
    nightly = tmp_path / "nightly"
    user.find("backup-folder").type(str(nightly))
    user.find("save-backups").click()
    await user.should_see("Backup settings saved.")
    await user.should_see("Next daily backup: within a minute")
    shop = await Shop.first()
    assert (shop.backup_enabled, shop.backup_keep, shop.backup_folder) == (True, 3, str(nightly))

    user.find("backup-now").click()
    await user.should_see("Backed up to customer-groups-")
    await user.should_see("Last backup: today")
    await user.should_see("Next daily backup: tomorrow")
    (copy,) = nightly.iterdir()
    await user.should_see(str(copy))
