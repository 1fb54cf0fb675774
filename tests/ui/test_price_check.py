"""The price check and the customer page's benefits card, on
the demo shop: a VIP Platinum member's 20% (VIP's 15% + 5%), the trace that says so, the
troubleshooting checklist, and the promotions on the order date (the demo's VIP Spring Sale runs in
March of the demo's year, stacking with VIP's 15%)."""

from datetime import date

from nicegui import ui
from nicegui.testing import User

from models.benefits import GroupBenefits
from models.catalog import Product
from models.customer import Customer
from models.group import CustomerGroup, Membership
from models.promotion import Promotion
from services.promotions import create_promotion
from services.staff.actor import SystemActor


async def platinum_member() -> Customer:
    membership = await Membership.filter(group__code="VIP-PLATINUM").order_by("customer__name").first()
    return await Customer.get(id=membership.customer_id)


async def standard_product() -> Product:
    return await Product.filter(visibility_group__is_standard=True).order_by("sku").first()


def twenty_percent_off(cents: int) -> str:
    return f"${(cents * 8_000 + 5_000) // 10_000 / 100:,.2f}"


def product_label(product: Product) -> str:
    return f"{product.name} · {product.sku} · ${product.base_price_cents / 100:,.2f}"


async def pick(user: User, marker: str, search: str, label: str) -> None:
    """Open a server-searched select, type, wait for the option and choose it, as the owner would."""
    user.find(marker=marker).click()
    user.find(marker=marker).trigger("inputValue", search)
    await user.should_see(label)
    user.find(label).click()


async def test_a_platinum_members_price_and_its_trace(user: User):
    member, product = await platinum_member(), await standard_product()
    await user.open(f"/price-check?customer={member.id}")
    await user.should_see("VIP Platinum (primary)")
    await user.should_see("Add a product to the sample order to see its price.")
    await user.should_see("Net 45", marker="payment-terms")
    await user.should_see("$250,000", marker="payment-terms")

    await pick(user, "product-picker", product.sku, product_label(product))
    price = twenty_percent_off(product.base_price_cents)
    await user.should_see(price, marker=f"price-{product.id}")
    await user.should_see("VIP Platinum: 20% discount")
    user.find(marker=f"line-{product.id}").elements.pop().value = True  # open the trace
    await user.should_see("15% from VIP Customers + 5% here", marker=f"trace-{product.id}")
    await user.should_see("Lowest price: applied.", marker=f"trace-{product.id}")
    await user.should_see("VIP Customers: 15% discount", marker=f"trace-{product.id}")
    await user.should_see(price, marker="order-total")

    # Three units: the line and the order total follow.
    user.find(marker=f"quantity-{product.id}").elements.pop().value = 3
    triple = f"${3 * ((product.base_price_cents * 8_000 + 5_000) // 10_000) / 100:,.2f}"
    await user.should_see(triple, marker="order-total")
    user.find(marker=f"remove-{product.id}").click()
    await user.should_see("No products yet: add one below.")


async def test_after_adding_a_product_the_picker_is_empty_and_offers_every_product_again(user: User):
    member = await platinum_member()
    first, second = await Product.filter(visibility_group__is_standard=True).order_by("sku").limit(2)
    await user.open(f"/price-check?customer={member.id}")
    await pick(user, "product-picker", first.sku, product_label(first))
    await user.should_see(marker=f"price-{first.id}")

    picker = user.find(marker="product-picker").elements.pop()
    assert picker.value is None
    assert len(picker.options) > 1, "the options found for the first product's SKU stay offered"
    await pick(user, "product-picker", second.sku, product_label(second))
    await user.should_see(marker=f"price-{second.id}")
    await user.should_see(marker=f"price-{first.id}")


async def test_the_checklist_passes_for_a_platinum_member_and_names_the_price(user: User):
    member, product = await platinum_member(), await standard_product()
    await user.open(f"/price-check?customer={member.id}&product={product.id}")
    await user.should_see(twenty_percent_off(product.base_price_cents), marker=f"price-{product.id}")
    assert user.find(marker="why-product").elements.pop().value == product.id  # starts from the product
    user.find(marker="why-check").click()
    await user.should_see("Every check passes", marker="why-verdict")
    await user.should_see("from VIP Platinum (20% discount)", marker="why-verdict")
    # The demo's VIP Spring Sale (March) reaches Platinum through VIP; today it only explains itself.
    await user.should_see("VIP Spring Sale is not valid on", marker="why-step-5")


async def test_the_checklist_names_the_first_failing_check(user: User):
    loner = await Customer.filter(memberships__id__isnull=True).order_by("name").first()
    product = await standard_product()
    await user.open(f"/price-check?customer={loner.id}")
    await user.should_see("none, so this customer pays base prices.")
    await pick(user, "why-product", product.sku, product_label(product))
    user.find(marker="why-check").click()
    await user.should_see(
        f"Group assignment is the problem: {loner.name} is not in any group, so they pay base prices.",
        marker="why-verdict",
    )


async def test_picking_a_customer_by_typing_part_of_the_name(user: User):
    member = await platinum_member()
    await user.open("/price-check")
    await user.should_see("Pick a customer to check their prices")
    await pick(user, "customer-picker", member.name[:6], f"{member.name} (VIP Platinum, VIP Customers)")
    await user.should_see(f"Prices for {member.name}")
    options = user.find(marker="customer-picker").elements.pop().options
    assert any(label.startswith(member.name) for label in options.values())
    assert len(options) <= 21  # a page of matches (and the choice), never every customer


async def test_the_customer_page_shows_the_effective_benefits_and_links_to_the_price_check(user: User):
    member = await platinum_member()
    await user.open(f"/customers/{member.id}")
    await user.should_see(
        ": 20% discount on all products (15% from VIP Customers + 5% here)", marker="benefits-pricing"
    )
    await user.should_see("Net 45", marker="benefits-payment")
    await user.should_see("$250,000", marker="benefits-payment")
    await user.should_see("2/10 (2% if paid within 10 days)", marker="benefits-payment")
    await user.should_see("VIP Exclusive + Standard products", marker="benefits-visibility")
    user.find(marker="test-prices").click()
    await user.should_see("Price check")
    await user.should_see(f"Prices for {member.name}")
    assert user.find(ui.select).elements  # the price check page is open


async def test_a_product_the_customer_may_not_see_is_flagged(user: User):
    loner = await Customer.filter(memberships__id__isnull=True).order_by("name").first()
    exclusive = await Product.filter(visibility_group__name="VIP Exclusive Products").order_by("sku").first()
    await user.open(f"/price-check?customer={loner.id}&product={exclusive.id}")
    await user.should_see("not visible to this customer", marker=f"hidden-{exclusive.id}")
    user.find(marker="why-check").click()
    await user.should_see("Group assignment is the problem", marker="why-verdict")
    await user.should_see("which none of", marker="why-step-4")


# --- Promotions -------------------------------------------------------------------------------------


def off(cents: int, percent: float) -> int:
    return (cents * (10_000 - round(percent * 100)) + 5_000) // 10_000


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


async def plain_vip_member() -> Customer:
    """A member of VIP Customers who is not in VIP Platinum (so VIP's own 15% applies)."""
    platinum = await Membership.filter(group__code="VIP-PLATINUM").values_list("customer_id", flat=True)
    membership = (
        await Membership.filter(group__code="VIP").exclude(customer_id__in=platinum).order_by("customer__name").first()
    )
    return await Customer.get(id=membership.customer_id)


async def about_600_dollars() -> tuple[Product, int]:
    """A standard product and a quantity that come closest to $600 at base price."""
    products = await Product.filter(
        visibility_group__is_standard=True, base_price_cents__gte=5_000, base_price_cents__lte=30_000
    ).order_by("sku")
    product = min(products, key=lambda p: abs(p.base_price_cents * round(60_000 / p.base_price_cents) - 60_000))
    return product, round(60_000 / product.base_price_cents)


async def sample_order(user: User, customer: Customer, product: Product, quantity: int, day: str) -> None:
    await user.open(f"/price-check?customer={customer.id}&product={product.id}")
    await user.should_see(f"Prices for {customer.name}")
    user.find(marker=f"quantity-{product.id}").elements.pop().value = quantity
    user.find(marker="order-date").elements.pop().value = day


async def test_in_march_a_vip_order_gets_the_spring_sale_stacked_and_in_april_only_the_15(user: User):
    member = await plain_vip_member()
    product, quantity = await about_600_dollars()
    year = (await Promotion.get(name="VIP Spring Sale")).valid_from.year
    stacked = off(off(product.base_price_cents, 15), 10)

    await sample_order(user, member, product, quantity, f"{year}-03-15")
    await user.should_see(dollars(stacked), marker=f"price-{product.id}")
    await user.should_see(dollars(stacked * quantity), marker="order-total")
    await user.should_see("VIP Customers: 15% discount + 10% VIP Spring Sale", marker=f"line-{product.id}")
    user.find(marker=f"line-{product.id}").elements.pop().value = True  # open the trace
    await user.should_see("Stacked: the promotion and the group's pricing both allow it.", marker="trace-promotion")
    await user.should_see("VIP Spring Sale: 10% additional", marker="trace-promotion")
    await user.should_see("VIP Spring Sale", marker="promotion-applied")
    await user.should_see(
        "10% additional, stacked on VIP Customers: 15% discount (every line).", marker="promotion-applied"
    )

    user.find(marker="order-date").elements.pop().value = f"{year}-04-15"
    await user.should_see(f"Not valid on April 15, {year} (runs March 1 - 31, {year}).", marker="promotion-not_applied")
    group_price = off(product.base_price_cents, 15)
    await user.should_see(dollars(group_price * quantity), marker="order-total")
    await user.should_see(f"Not valid on April 15, {year}", marker="trace-promotion")

    # The checklist reads the same order date, and the cart's quantity of its product.
    assert user.find(marker="why-quantity").elements.pop().value == quantity
    user.find(marker="why-check").click()
    await user.should_see(f"VIP Spring Sale is not valid on April 15, {year}", marker="why-step-5")
    await user.should_see("Every check passes", marker="why-verdict")


async def test_when_either_side_forbids_stacking_the_better_of_the_two_applies_with_the_reason(user: User):
    member = await plain_vip_member()
    product, quantity = await about_600_dollars()
    year = (await Promotion.get(name="VIP Spring Sale")).valid_from.year
    group_price = off(product.base_price_cents, 15)

    await Promotion.filter(name="VIP Spring Sale").update(stack_with_group_discount=False)
    await sample_order(user, member, product, quantity, f"{year}-03-15")
    await user.should_see(dollars(group_price), marker=f"price-{product.id}")
    await user.should_see(
        "Valid, but VIP Customers: 15% discount gives a lower price. This promotion does not stack with group discounts.",
        marker="promotion-not_used",
    )
    user.find(marker=f"line-{product.id}").elements.pop().value = True
    await user.should_see("This promotion does not stack with group discounts.", marker="trace-promotion")

    await Promotion.filter(name="VIP Spring Sale").update(stack_with_group_discount=True)
    vip = await CustomerGroup.get(code="VIP")
    benefits = await GroupBenefits.get(group_id=vip.id)
    await GroupBenefits.filter(id=benefits.id).update(pricing={**benefits.pricing, "stack_with_promotions": False})
    await sample_order(user, member, product, quantity, f"{year}-03-15")
    await user.should_see(dollars(group_price), marker=f"price-{product.id}")
    await user.should_see("VIP Customers pricing does not stack with promotions.", marker="promotion-not_used")


async def test_free_units_free_items_and_free_shipping_are_shown_on_the_order(user: User):
    retail = await CustomerGroup.get(code="RETAIL")
    membership = await Membership.filter(group_id=retail.id).order_by("customer__name").first()
    customer = await Customer.get(id=membership.customer_id)
    product = await standard_product()
    coffee = await Product.get(sku="BRK-001")
    today = date.today()
    for data in (
        {"name": "Three for Two", "type": "bogo", "buy_quantity": 2, "get_quantity": 1},
        {"name": "Coffee on Us", "type": "free_item", "free_item_id": coffee.id, "free_item_quantity": 2},
        {"name": "Ships Free", "type": "free_shipping"},
    ):
        await create_promotion(
            data={**data, "status": "active", "target_group_ids": [retail.id], "valid_from": today},
            actor=SystemActor("test"),
        )

    await sample_order(user, customer, product, 7, today.isoformat())
    await user.should_see("2 free", marker=f"free-{product.id}")
    await user.should_see(dollars(product.base_price_cents * 5), marker="order-total")
    await user.should_see(f"Buy 2 get 1 free: 2 × {product.name} free.", marker="promotion-applied")
    await user.should_see(f"Free with this order: 2 × {coffee.name}.", marker="promotion-applied")
    await user.should_see("Free shipping on this order.", marker="promotion-applied")
    user.find(marker=f"line-{product.id}").elements.pop().value = True
    await user.should_see(
        "Buy 2 get 1 free (Three for Two): 2 free: 5 of 7 units charged.", marker=f"free-note-{product.id}"
    )

    user.find(marker=f"quantity-{product.id}").elements.pop().value = 2
    await user.should_see("Buy 2 get 1 free on each line: no line has 3 units yet.", marker="promotion-not_used")


async def test_the_old_address_of_the_price_check_still_leads_there(user: User):
    member = await Customer.filter(name="Acme Corporation").first()
    await user.open(f"/simulator?customer={member.id}")
    await user.should_see("Price check")
    await user.should_see("Acme Corporation")
