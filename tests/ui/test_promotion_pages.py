"""Promotions on the demo shop: its "VIP Spring Sale" made through the form, the tab it lands
in, the reach panel's count, the messages beside the fields, the group page's card, and a group
deleted from under its promotion."""

from datetime import date, timedelta

from nicegui.testing import User

from models.catalog import Product
from models.group import CustomerGroup, Membership
from models.promotion import Promotion, PromotionStatus, PromotionTarget, PromotionType
from services.promotions import get_promotion, update_promotion
from services.staff.actor import SystemActor

TODAY = date.today()


def set_value(user: User, marker: str, value) -> None:
    """Enter a value as the owner would by typing or picking (numbers, dates, radios)."""
    user.find(marker=marker).elements.pop().value = value


def field_error(user: User, marker: str) -> str | None:
    return user.find(marker=marker).elements.pop().error


async def groups(*codes: str) -> list[CustomerGroup]:
    return [await CustomerGroup.get(code=code) for code in codes]


async def reached_by_hand(*codes: str) -> int:
    """Distinct customers in these groups, counted straight from the memberships."""
    ids = await Membership.filter(group__code__in=list(codes)).values_list("customer_id", flat=True)
    return len(set(ids))


async def without_demo_promotions() -> None:
    """The demo shop comes with promotions of its own (its own VIP Spring Sale among them); these
    stories start from a shop that has none."""
    await Promotion.all().delete()


async def fill_vip_spring_sale(user: User) -> tuple[CustomerGroup, CustomerGroup]:
    await without_demo_promotions()
    vip, gold = await groups("VIP", "GOLD")
    await user.open("/promotions/new")
    await user.should_see("Target Groups")
    user.find(marker="name").type("VIP Spring Sale")
    user.find(marker=f"target-{vip.id}").click()
    user.find(marker=f"target-{gold.id}").click()
    set_value(user, "percent", 10)
    set_value(user, "minimum", 500)
    set_value(user, "valid-from", "2026-03-01")
    set_value(user, "valid-to", "2026-03-31")
    user.find(marker="stack").click()
    set_value(user, "status", "active")
    return vip, gold


async def active_promotion(name: str, *codes: str, type: PromotionType = PromotionType.ADDITIONAL_DISCOUNT) -> int:
    await without_demo_promotions()
    promotion = await Promotion.create(
        name=name,
        name_key=name.casefold(),
        type=type,
        status=PromotionStatus.ACTIVE,
        percent=5 if type == PromotionType.ADDITIONAL_DISCOUNT else None,
        valid_from=TODAY - timedelta(days=3),
        valid_to=TODAY + timedelta(days=10),
    )
    for group in await groups(*codes):
        await PromotionTarget.create(promotion=promotion, group=group)
    return promotion.id


async def test_the_vip_spring_sale_made_through_the_form(user: User):
    vip, gold = await fill_vip_spring_sale(user)
    await user.should_see("Includes VIP Platinum (a subgroup of VIP Customers)", marker="subgroup-note")
    expected = await reached_by_hand("VIP", "VIP-PLATINUM", "GOLD")
    assert expected > 0
    await user.should_see(f"{expected:,} customers reached", marker="reach-customers", retries=20)
    await user.should_see("With subgroups: VIP Platinum", marker="reach-subgroups")
    await user.should_see("Comparable period: March 1 - 31, 2025", marker="reach-period")
    await user.should_see("10% of", marker="reach-cost")

    user.find(marker="save-promotion").click()
    assert date(2026, 3, 31) < TODAY  # the sale's March has passed
    await user.should_see("Saved VIP Spring Sale (Expired)")
    await user.should_see("Expired (1)")
    await user.should_see("VIP Spring Sale", marker="promotion-rows")
    await user.should_see("10% additional · minimum $500 · stacks with group discounts")
    await user.should_see("March 1 - 31, 2026")
    sale = await Promotion.get(name="VIP Spring Sale")
    assert (sale.type, sale.status, sale.percent) == (PromotionType.ADDITIONAL_DISCOUNT, PromotionStatus.ACTIVE, 10)
    assert (sale.minimum_purchase_cents, sale.stack_with_group_discount) == (50_000, True)
    assert (sale.valid_from, sale.valid_to) == (date(2026, 3, 1), date(2026, 3, 31))
    targets = await PromotionTarget.filter(promotion=sale).values_list("group_id", flat=True)
    assert sorted(targets) == sorted([vip.id, gold.id])


async def test_enter_saves_and_tabs_follow_the_dates(user: User):
    _, gold = await fill_vip_spring_sale(user)
    user.find(marker="name").clear().type("Autumn Sale")
    set_value(user, "valid-from", (TODAY - timedelta(days=2)).isoformat())
    set_value(user, "valid-to", (TODAY + timedelta(days=12)).isoformat())
    user.find(marker="name").trigger("keydown.enter")
    await user.should_see("Saved Autumn Sale (Active): it runs now.")
    await user.should_see("Active (1)")
    await user.should_see("Autumn Sale", marker="promotion-rows")

    await user.open("/promotions/new")
    await user.should_see("Target Groups")
    user.find(marker="name").type("Winter Preview")
    user.find(marker=f"target-{gold.id}").click()
    set_value(user, "type", PromotionType.FREE_SHIPPING.value)
    set_value(user, "valid-from", (TODAY + timedelta(days=20)).isoformat())
    set_value(user, "status", "active")
    user.find(marker="save-promotion").click()
    await user.should_see("Saved Winter Preview (Scheduled)")
    await user.should_see("Scheduled (1)")
    await user.should_see("Free shipping", marker="promotion-rows")

    user.find(marker="tab-draft").click()
    await user.should_see("No drafts", marker="empty-draft")


async def test_messages_appear_beside_their_fields(user: User):
    await without_demo_promotions()
    await user.open("/promotions/new")
    await user.should_see("Target Groups")
    user.find(marker="name").type("Too Much")
    set_value(user, "percent", 150)
    set_value(user, "valid-from", "2026-12-10")
    set_value(user, "valid-to", "2026-12-01")
    set_value(user, "status", "active")
    user.find(marker="save-promotion").click()
    await user.should_see("Choose at least one group to target.", marker="target-error")
    await user.should_see("Enter a discount above 0% and at most 100%.", marker="percent")
    await user.should_see("The last day must not be before the first day.", marker="valid-to")
    assert field_error(user, "name") is None

    set_value(user, "percent", 20)  # editing a field clears its message
    assert field_error(user, "percent") is None
    set_value(user, "type", PromotionType.BOGO.value)
    user.find(marker="save-promotion").click()
    await user.should_see("Enter how many the customer buys (at least 1).", marker="buy-quantity")
    await user.should_see("Enter how many they get free (at least 1).", marker="get-quantity")
    await user.should_see("Choose at least one group to target.", marker="target-error")
    assert not await Promotion.exists(name="Too Much")


async def test_a_first_day_in_year_one_is_refused_beside_the_field(user: User):
    # A slip of the keyboard: year 0001 instead of 2026. The form says so instead of saving a
    # promotion whose page could not be opened again.
    await fill_vip_spring_sale(user)
    set_value(user, "valid-from", "0001-03-01")
    user.find(marker="save-promotion").click()
    await user.should_see("Enter a day in the years 2000 to 2100.", marker="valid-from")
    await user.should_see("Complete the settings to see the estimate.", marker="reach-incomplete", retries=20)
    assert not await Promotion.exists(name="VIP Spring Sale")


async def test_editing_a_promotion_that_changed_meanwhile_offers_a_reload(user: User):
    # The owner opens Gold Rush; a manager saves 7% meanwhile; the owner's 12% is not saved over it.
    sale = await active_promotion("Gold Rush", "GOLD")
    await user.open(f"/promotions/{sale}")
    await user.should_see("Gold Rush", marker="promotion-title")
    opened = await get_promotion(promotion_id=sale)
    data = opened.as_input().model_copy(update={"percent": 7})
    await update_promotion(promotion_id=sale, version=opened.version, data=data, actor=SystemActor("max"))
    set_value(user, "percent", 12)
    user.find(marker="save-promotion").click()
    await user.should_see("This promotion was changed meanwhile")
    await user.should_see("Reload", marker="reload")
    assert (await Promotion.get(id=sale)).percent == 7


async def test_a_free_item_is_picked_from_the_catalog_and_edited_later(user: User):
    await without_demo_promotions()
    product = await Product.all().order_by("name").first()
    (wholesale,) = await groups("WHOLESALE")
    await user.open(f"/promotions/new?group={wholesale.id}")  # the group page's link pre-ticks it
    await user.should_see("Target Groups")
    assert user.find(marker=f"target-{wholesale.id}").elements.pop().value is True
    user.find(marker="name").type("Free Sample")
    set_value(user, "type", PromotionType.FREE_ITEM.value)
    user.find(marker="save-promotion").click()
    await user.should_see("Choose the product given free.", marker="free-item")

    user.find(marker="free-item").click()
    user.find(marker="free-item").trigger("input-value", product.sku)
    label = f"{product.name} · {product.sku} · ${product.base_price_cents / 100:,.2f}"
    await user.should_see(label)
    user.find(label).click()
    set_value(user, "free-item-quantity", 2)
    user.find(marker="save-promotion").click()
    await user.should_see("Saved Free Sample (Draft)")
    sale = await Promotion.get(name="Free Sample")
    assert (sale.free_item_id, sale.free_item_quantity) == (product.id, 2)

    await user.open(f"/promotions/{sale.id}")
    await user.should_see("Free Sample", marker="promotion-title")
    assert user.find(marker="free-item").elements.pop().value == product.id
    set_value(user, "status", "active")
    set_value(user, "valid-from", (TODAY - timedelta(days=1)).isoformat())
    user.find(marker="save-promotion").click()
    await user.should_see("Saved Free Sample (Active)")

    await user.open(f"/promotions/{sale.id}")
    user.find(marker="delete-promotion").click()
    await user.should_see("Delete Free Sample?")
    user.find(marker="confirm-promotion-delete").click()
    await user.should_see("Deleted Free Sample.")
    assert not await Promotion.exists(id=sale.id)
    await user.open(f"/promotions/{sale.id}")
    await user.should_see("This promotion does not exist")


async def test_the_group_page_lists_the_promotions_that_target_it(user: User):
    sale = await active_promotion("Gold Rush", "GOLD", "SILVER")
    gold, vip = await groups("GOLD", "VIP")
    await user.open(f"/groups/{gold.id}?tab=overview")
    await user.should_see("Gold Rush", marker="group-promotions")
    await user.should_see("5% additional", marker=f"group-promotion-{sale}")
    await user.should_see("Active", marker=f"group-promotion-{sale}")
    await user.open(f"/groups/{vip.id}?tab=overview")
    await user.should_see("No promotion targets VIP Customers yet.", marker="no-group-promotions")
    await user.should_see("Create a promotion", marker="create-group-promotion")


async def test_a_subgroup_page_shows_the_promotions_it_gets_through_its_parent(user: User):
    await active_promotion("VIP Week", "VIP")
    (platinum,) = await groups("VIP-PLATINUM")
    await user.open(f"/groups/{platinum.id}?tab=overview")
    await user.should_see("No promotion targets VIP Platinum directly.", marker="no-group-promotions")
    await user.should_see("VIP Week", marker="inherited-promotions")
    await user.should_see("valid today", marker="inherited-promotions")


async def test_deleting_the_only_target_group_makes_the_promotion_a_draft(user: User):
    sale = await active_promotion("Trade Days", "WHOLESALE")
    (wholesale,) = await groups("WHOLESALE")
    await user.open(f"/groups/{wholesale.id}?tab=overview")
    await user.should_see("Trade Days", marker="group-promotions")
    user.find(marker="delete-group").click()
    user.find(marker="confirm-delete").click()
    await user.should_see("Trade Days had no other target group and is now a draft.")
    assert (await Promotion.get(id=sale)).status == PromotionStatus.DRAFT

    await user.open("/promotions?shown=draft")
    await user.should_see("Draft (1)")
    await user.should_see("Trade Days", marker="promotion-rows")
    await user.should_see("No target group", marker=f"promotion-{sale}")
