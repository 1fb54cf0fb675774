"""A rule-based group in Chromium: the demo shop's VIP rule, built in the wizard, previewed and saved."""

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import choose

pytestmark = pytest.mark.asyncio(loop_scope="session")

GROUP_PAGE = re.compile(r"/groups/(\d+)(\?tab=\w+)?$")


def seed_003_customers(database: Path) -> set[int]:
    """Customers with completed orders over $50,000, an account older than 12 months and excellent
    payment history, counted straight from the orders table (not from the app's stats)."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            """
            SELECT c.id FROM customer c
            JOIN "order" o ON o.customer_id = c.id AND o.status = 'completed'
            WHERE c.payment_rating = 'excellent'
              AND c.created_at <= datetime('now', '-13 months')
            GROUP BY c.id HAVING SUM(o.total_cents) > 5000000
            """
        ).fetchall()
    return {row[0] for row in rows}


async def test_owner_builds_the_seed_003_rule_and_its_matches_become_members(
    page: Page, app_database: Path, screenshot_dir: Path
) -> None:
    expected = seed_003_customers(app_database)
    assert expected, "the demo shop has VIP-shaped customers"

    await page.goto("/groups/new")
    await page.get_by_label("Group Name").fill("Top Accounts")
    await page.get_by_role("radio", name="Automatic (rule-based assignment)").click()
    await expect(page.locator(".q-stepper__tab", has_text="Rules")).to_be_visible()  # redrawn with a Rules step
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_text("Complete the rule to see who it matches")).to_be_visible()

    # Total Purchases is greater than $50,000
    await choose(page, page.get_by_label("Comparison").nth(0), "is greater than")
    await page.get_by_label("Amount").fill("50000")
    # AND Account Age is greater than 12 months
    await page.get_by_role("button", name="Add Condition").click()
    await expect(page.get_by_label("Field")).to_have_count(2)
    await choose(page, page.get_by_label("Field").nth(1), "Account Age (months)")
    await expect(page.get_by_text("months", exact=True)).to_be_visible()  # the builder has redrawn
    await choose(page, page.get_by_label("Comparison").nth(1), "is greater than")
    await page.get_by_label("Value").nth(0).fill("12")
    # AND Payment History equals Excellent
    await page.get_by_role("button", name="Add Condition").click()
    await expect(page.get_by_label("Field")).to_have_count(3)
    await choose(page, page.get_by_label("Field").nth(2), "Payment History")
    await expect(page.get_by_role("combobox", name="Value")).to_be_visible()
    await choose(page, page.get_by_label("Comparison").nth(2), "equals")
    await choose(page, page.get_by_label("Value").nth(1), "Excellent")

    total = sqlite3.connect(app_database).execute("SELECT COUNT(*) FROM customer").fetchone()[0]
    await expect(page.get_by_text(re.compile(rf"^{len(expected)} of {total} customers"))).to_be_visible()
    await expect(page.get_by_text("Payment History equals Excellent").last).to_be_visible()  # the funnel
    await page.screenshot(path=screenshot_dir / "rule-builder.png", full_page=True, animations="disabled")

    await page.get_by_role("button", name="Create group").click()
    await page.wait_for_url(GROUP_PAGE)
    await expect(page.get_by_text("Created Top Accounts")).to_be_visible()
    await page.get_by_role("tab", name="Rule").click()
    await expect(page.get_by_text("Total Purchases (lifetime) is greater than $50,000")).to_be_visible()
    await page.get_by_role("tab", name=re.compile(r"^Members")).click()
    await expect(page.get_by_text(f"{len(expected)} members")).to_be_visible()
    await page.screenshot(path=screenshot_dir / "rule-group.png", full_page=True, animations="disabled")

    group_id = int(GROUP_PAGE.search(page.url).group(1))
    with sqlite3.connect(app_database) as connection:
        members = {
            row[0] for row in connection.execute("SELECT customer_id FROM membership WHERE group_id = ?", (group_id,))
        }
        joined = connection.execute(
            "SELECT COUNT(*) FROM membership_event WHERE group_id = ? AND action = 'joined' AND source = 'rule'",
            (group_id,),
        ).fetchone()[0]
    assert members == expected
    assert joined == len(expected), "one event per member who joined"

    # Why is the first member in it? Each condition with the customer's own value.
    await page.get_by_role("button", name=re.compile(r"^Why")).first.click()
    await expect(
        page.get_by_text("Payment History equals Excellent · has Excellent").or_(page.get_by_text("has Excellent"))
    ).to_be_visible()
