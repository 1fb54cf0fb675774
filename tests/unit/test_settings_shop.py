"""The shop-wide membership settings: one group per customer, and the default group."""

from datetime import UTC, datetime

import pytest

from models.customer import Customer
from models.group import CustomerGroup, GroupStatus, Membership
from models.shop import Shop
from services.errors import FormError
from services.groups.group import default_group_choices
from services.shop import get_shop, update_settings
from services.staff.actor import SystemActor


async def _only_one_group_each() -> None:
    """The demo's VIP Platinum members stay in VIP Customers too: take them out of Platinum. Bronze
    Tier's members are in Retail beside it: take them off the tier."""
    platinum = await Membership.filter(group__code="VIP-PLATINUM").values_list("customer_id", flat=True)
    await Membership.filter(group__code="VIP-PLATINUM").delete()
    await Membership.filter(group__code="VIP", customer_id__in=platinum).update(is_primary=True)
    await Membership.filter(group__code="BRONZE").delete()


async def _second_group(customer_name: str, group_code: str) -> None:
    customer = await Customer.get(name=customer_name)
    group = await CustomerGroup.get(code=group_code)
    await Membership.create(customer=customer, group=group, since=datetime.now(UTC))


async def test_one_group_per_customer_is_refused_while_someone_is_in_two(demo_db):
    await _only_one_group_each()
    await _second_group("Acme Corporation", "GOLD")
    await _second_group("TechStart Inc", "WHOLESALE")
    with pytest.raises(FormError) as refused:
        await update_settings(one_group_per_customer=True, default_group_id=None, actor=SystemActor("dana"))
    assert refused.value.errors == {
        "one_group_per_customer": "2 customers are in more than one group "
        "(e.g. Acme Corporation: VIP Customers, Gold Tier). Move them first, or keep this off."
    }
    shop = await get_shop()
    assert shop.one_group_per_customer is False
    assert shop.default_group_name == "Retail", "a refused save changes nothing"


async def test_one_group_per_customer_is_switched_on_and_off(demo_db):
    await _only_one_group_each()
    retail = await CustomerGroup.get(code="RETAIL")
    shop = await update_settings(one_group_per_customer=True, default_group_id=retail.id, actor=SystemActor("dana"))
    assert shop.one_group_per_customer is True
    assert (await Shop.first()).one_group_per_customer is True
    shop = await update_settings(one_group_per_customer=False, default_group_id=retail.id, actor=SystemActor("dana"))
    assert shop.one_group_per_customer is False


async def test_the_default_group_is_chosen_and_only_one_group_is_default(demo_db):
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    shop = await update_settings(one_group_per_customer=False, default_group_id=wholesale.id, actor=SystemActor("dana"))
    assert (shop.default_group_id, shop.default_group_name) == (wholesale.id, "Wholesale")
    assert await CustomerGroup.filter(is_default=True).values_list("code", flat=True) == ["WHOLESALE"]

    shop = await update_settings(one_group_per_customer=False, default_group_id=None, actor=SystemActor("dana"))
    assert shop.default_group_id is None
    assert not await CustomerGroup.filter(is_default=True).exists()


async def test_an_automatic_inactive_or_missing_group_cannot_be_the_default(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    with pytest.raises(FormError) as automatic:
        await update_settings(one_group_per_customer=False, default_group_id=gold.id, actor=SystemActor("dana"))
    assert automatic.value.errors["default_group_id"] == (
        "Gold Tier is automatic: its members follow its rule, so customers cannot be moved into it. "
        "Choose a manual or hybrid group."
    )

    await CustomerGroup.filter(code="WHOLESALE").update(status=GroupStatus.INACTIVE)
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    with pytest.raises(FormError) as inactive:
        await update_settings(one_group_per_customer=False, default_group_id=wholesale.id, actor=SystemActor("dana"))
    assert "Wholesale is inactive" in inactive.value.errors["default_group_id"]

    with pytest.raises(FormError) as missing:
        await update_settings(one_group_per_customer=False, default_group_id=9999, actor=SystemActor("dana"))
    assert "no longer exists" in missing.value.errors["default_group_id"]
    assert (await get_shop()).default_group_name == "Retail"

    # Not Tiered Customers: a ladder's group takes nobody by hand (its rungs do).
    assert [c.name for c in await default_group_choices()] == [
        "Retail",
        "VIP Customers",
        "VIP Platinum",
    ]


async def test_a_shop_without_its_row_gets_one_on_first_save(db):
    group = await CustomerGroup.create(name="Retail", name_key="retail", code="RETAIL")
    shop = await update_settings(one_group_per_customer=True, default_group_id=group.id, actor=SystemActor("dana"))
    assert (shop.name, shop.one_group_per_customer, shop.default_group_name) == ("Customer Groups", True, "Retail")
    assert await Shop.all().count() == 1
