"""Group pricing in Chromium: the owner gives Retail a 12% discount on all products in the
wizard's Pricing step, the group page says so, and the price check charges a Retail-only
customer 12% less."""

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")

LAPTOP = {"width": 1366, "height": 768}


def retail_only_customer_and_standard_product(database: Path) -> tuple[int, int, int, int]:
    """(Retail's id, a customer in Retail and no other group, a standard product's id and its
    base price in cents)."""
    with sqlite3.connect(database) as connection:
        retail = connection.execute("SELECT id FROM customer_group WHERE code = 'RETAIL'").fetchone()[0]
        customer = connection.execute(
            """
            SELECT m.customer_id FROM membership m
            WHERE m.group_id = ?
              AND (SELECT COUNT(*) FROM membership other WHERE other.customer_id = m.customer_id) = 1
            ORDER BY m.customer_id LIMIT 1
            """,
            (retail,),
        ).fetchone()[0]
        product, price = connection.execute(
            """
            SELECT p.id, p.base_price_cents FROM product p JOIN visibility_group v ON v.id = p.visibility_group_id
            WHERE v.is_standard ORDER BY p.id LIMIT 1
            """
        ).fetchone()
    return retail, customer, product, price


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


async def test_a_12_percent_retail_discount_set_in_the_wizard_reaches_a_members_price(
    page: Page, app_database: Path, screenshot_dir: Path
) -> None:
    await page.set_viewport_size(LAPTOP)
    retail, customer, product, base = retail_only_customer_and_standard_product(app_database)

    await page.goto(f"/groups/{retail}?tab=overview")
    await page.get_by_role("link", name="Edit benefits").click()
    await expect(page.get_by_text("Pricing Method")).to_be_visible()
    await page.get_by_role("radio", name="Percentage discount").click()
    await page.get_by_label("Discount Value").fill("12")
    await page.get_by_text("Review", exact=True).click()
    review = page.locator(".q-card").filter(has=page.get_by_text("Pricing", exact=True))
    await expect(review.get_by_text("12%", exact=True)).to_be_visible()
    await page.screenshot(path=screenshot_dir / "benefits-review.png")
    await page.get_by_role("button", name="Save changes").click()

    await expect(page).to_have_url(re.compile(rf"/groups/{retail}(\?tab=\w+)?$"))
    await page.get_by_role("tab", name="Overview").click()
    await expect(page.get_by_text("12% discount on all products")).to_be_visible()
    await page.screenshot(path=screenshot_dir / "benefits-summary.png")

    # The price check: this customer, this product, 12% off the base price.
    await page.goto(f"/price-check?customer={customer}&product={product}")
    await page.get_by_role("button", name="Calculate").click()
    discounted = (base * 8_800 + 5_000) // 10_000  # 12% off, to the nearest cent
    price = page.locator(".q-expansion-item").filter(has_text=dollars(discounted))
    await expect(price.first).to_be_visible()
    await expect(page.get_by_text("Retail: 12% discount").first).to_be_visible()
    await page.screenshot(path=screenshot_dir / "benefits-price-check.png")
