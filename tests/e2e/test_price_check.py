"""The price check in Chromium, on the demo shop: the owner opens a VIP Platinum
member's page, follows "Test prices", adds a product, and the trace shows VIP's inherited 15%, the
override to 20% and the winning price; then asks why a customer without groups gets no discount."""

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")

LAPTOP = {"width": 1366, "height": 768}


def platinum_member(database: Path) -> tuple[int, str]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            """
            SELECT c.id, c.name FROM customer c
            JOIN membership m ON m.customer_id = c.id
            JOIN customer_group g ON g.id = m.group_id AND g.code = 'VIP-PLATINUM'
            ORDER BY c.name LIMIT 1
            """
        ).fetchone()


def customer_without_groups(database: Path) -> tuple[int, str]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            """
            SELECT c.id, c.name FROM customer c
            WHERE NOT EXISTS (SELECT 1 FROM membership m WHERE m.customer_id = c.id)
            ORDER BY c.name LIMIT 1
            """
        ).fetchone()


def standard_product(database: Path) -> tuple[int, str, str, int]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            """
            SELECT p.id, p.sku, p.name, p.base_price_cents FROM product p
            JOIN visibility_group v ON v.id = p.visibility_group_id AND v.is_standard
            ORDER BY p.sku LIMIT 1
            """
        ).fetchone()


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


async def test_a_platinum_members_trace_shows_the_inherited_15_the_override_to_20_and_the_price(
    page: Page, app_database: Path, screenshot_dir: Path
) -> None:
    await page.set_viewport_size(LAPTOP)
    member_id, member = platinum_member(app_database)
    _, sku, name, base = standard_product(app_database)
    price = (base * 8_000 + 5_000) // 10_000  # 20% off, to the nearest cent

    # The customer page's benefits card, then "Test prices".
    await page.goto(f"/customers/{member_id}")
    benefits = page.locator(".q-card").filter(has=page.get_by_text("Benefits", exact=True))
    await expect(
        benefits.get_by_text("20% discount on all products (15% from VIP Customers + 5% here)")
    ).to_be_visible()
    await expect(benefits.get_by_text("Net 45", exact=True)).to_be_visible()
    await expect(benefits.get_by_text("$250,000", exact=True)).to_be_visible()
    await page.screenshot(path=screenshot_dir / "price-check-customer-benefits.png", full_page=True)
    await page.get_by_role("button", name="Test prices").click()
    await page.wait_for_url(re.compile(rf"/price-check\?customer={member_id}$"))
    await expect(page.get_by_text(f"Prices for {member}")).to_be_visible()
    await expect(page.get_by_text("VIP Platinum (primary)")).to_be_visible()

    # Add the product by typing its SKU into the picker and choosing it.
    picker = page.get_by_label("Add a product (name or SKU)")
    await picker.click()
    await picker.fill(sku)
    await page.get_by_role("option", name=f"{name} · {sku} · {dollars(base)}").click()
    line = page.locator(".q-expansion-item").filter(has_text=sku)
    await expect(line.get_by_text(dollars(price), exact=True).first).to_be_visible()

    # Open the trace: the inherited 15% and the override to 20% win against the base price.
    await line.get_by_text(name, exact=True).click()
    winner = line.locator(".bg-green-50")
    await expect(winner.get_by_text("VIP Platinum: 20% discount")).to_be_visible()
    await expect(winner.get_by_text("15% from VIP Customers + 5% here")).to_be_visible()
    await expect(winner.get_by_text("Lowest price: applied.")).to_be_visible()
    await expect(winner.get_by_text(dollars(price), exact=True)).to_be_visible()
    await expect(line.get_by_text("Base price", exact=True)).to_be_visible()
    await expect(line.get_by_text(f"Higher than {dollars(price)}.").first).to_be_visible()
    total = page.locator(".nicegui-row").filter(has=page.get_by_text("Order total", exact=True)).last
    await expect(total.get_by_text(dollars(price), exact=True)).to_be_visible()
    await page.screenshot(path=screenshot_dir / "price-check-trace.png", full_page=True, animations="disabled")

    # The checklist starts from the cart's product and passes.
    why = page.locator(".q-card").filter(has=page.get_by_text("Why isn't this customer getting the discount?"))
    await why.get_by_role("button", name="Check", exact=True).click()
    await expect(
        why.get_by_text(re.compile(r"^Every check passes: .* from VIP Platinum \(20% discount\)\.$"))
    ).to_be_visible()


async def test_the_checklist_says_a_customer_without_groups_is_the_problem(
    page: Page, app_database: Path, screenshot_dir: Path
) -> None:
    await page.set_viewport_size(LAPTOP)
    loner_id, loner = customer_without_groups(app_database)
    product_id, *_ = standard_product(app_database)
    await page.goto(f"/price-check?customer={loner_id}&product={product_id}")
    await expect(page.get_by_text(f"Prices for {loner}")).to_be_visible()
    why = page.locator(".q-card").filter(has=page.get_by_text("Why isn't this customer getting the discount?"))
    await why.get_by_role("button", name="Check", exact=True).click()
    await expect(
        why.get_by_text(f"Group assignment is the problem: {loner} is not in any group, so they pay base prices.")
    ).to_be_visible()
    await expect(why.get_by_text("No active promotion reaches this customer's groups", exact=False)).to_be_visible()
    await why.scroll_into_view_if_needed()
    await page.screenshot(path=screenshot_dir / "price-check-checklist.png", full_page=True)


async def test_after_adding_a_product_the_next_one_is_typed_into_an_empty_picker(
    page: Page, app_database: Path
) -> None:
    await page.set_viewport_size(LAPTOP)
    member_id, _ = platinum_member(app_database)
    with sqlite3.connect(app_database) as connection:
        products = connection.execute(
            """
            SELECT p.sku, p.name, p.base_price_cents FROM product p
            JOIN visibility_group v ON v.id = p.visibility_group_id AND v.is_standard
            ORDER BY p.sku LIMIT 2
            """
        ).fetchall()
    await page.goto(f"/price-check?customer={member_id}")
    picker = page.get_by_label("Add a product (name or SKU)")
    for sku, name, base in products:
        await picker.click()
        await expect(picker).to_have_value("")
        await picker.press_sequentially(sku)
        await page.get_by_role("option", name=f"{name} · {sku} · {dollars(base)}").click()
        await expect(page.locator(".q-expansion-item").filter(has_text=sku)).to_be_visible()
    await expect(picker).to_have_value("")
