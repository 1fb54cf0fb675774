"""The demo a sales engineer gives blind, in Chromium on the demo shop: a new automatic group built
condition by condition (the count never blanks), saved, a member's "Why?", then "Edit rule"
straight onto the Rules step, a stricter threshold, the confirmation with who leaves and joins,
and Undo bringing the members back.

Screenshots of the Rules step, the confirmation and the Review are taken at a laptop's 1366x768
and a phone's 390x844 (E2E_SCREENSHOTS says where)."""

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import choose

pytestmark = pytest.mark.asyncio(loop_scope="session")

GROUP_PAGE = re.compile(r"/groups/(\d+)(\?tab=\w+)?$")
SHARE = re.compile(r"^[\d,]+ of [\d,]+ customers")
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


async def shoot(page: Page, folder: Path, name: str, *, whole_phone_page: bool = True) -> None:
    """The page at a laptop's size and a phone's (the whole page: it stacks), then back to the laptop."""
    for size, suffix in ((LAPTOP, "1366"), (PHONE, "390")):
        await page.set_viewport_size(size)
        await page.wait_for_timeout(300)  # let the layout settle at the new width
        await page.screenshot(
            path=folder / f"{name}-{suffix}.png", animations="disabled", full_page=whole_phone_page and size is PHONE
        )
    await page.set_viewport_size(LAPTOP)


def members(database: Path, group_id: int) -> set[int]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT customer_id FROM membership WHERE group_id = ?", (group_id,))
        return {row[0] for row in rows}


async def open_tab(page: Page, name: str) -> None:
    """The group page's tab of that name, where the page has tabs."""
    tab = page.get_by_role("tab", name=name)
    if await tab.count():
        await tab.click()


async def scroll_to(locator: Locator) -> None:
    """Scroll a part of the preview into view. A late answer may redraw it meanwhile: then the
    element is looked up again instead of failing on the one that was replaced."""
    for _ in range(3):
        try:
            await locator.scroll_into_view_if_needed()
            return
        except PlaywrightError as error:
            if "not attached" not in error.message:
                raise
    await locator.scroll_into_view_if_needed()


async def count_shown(page: Page) -> str:
    share = page.get_by_text(SHARE)
    await expect(share).to_be_visible()
    return await share.inner_text()


async def test_the_rule_demo(page: Page, app_database: Path, screenshot_dir: Path) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto("/groups/new")
    await page.get_by_label("Group Name").fill("Loyal Big Spenders")
    await page.get_by_role("radio", name="Automatic (rule-based assignment)").click()
    await expect(page.locator(".q-stepper__tab", has_text="Rules")).to_be_visible()
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_text("Complete the rule to see who it matches")).to_be_visible()

    # Total Purchases is at least $5,000
    await page.get_by_label("Amount").fill("5000")
    first = await count_shown(page)

    # AND Number of Orders is at least 3: while it is incomplete, the count stays
    await page.get_by_role("button", name="Add Condition").click()
    await expect(page.get_by_label("Field")).to_have_count(2)
    await expect(page.get_by_text("Showing the last complete rule")).to_be_visible()
    assert await count_shown(page) == first
    await expect(page.get_by_text("Enter a value.")).to_be_visible()  # under the empty amount
    await choose(page, page.get_by_label("Field").nth(1), "Number of Orders")
    assert await count_shown(page) == first
    await page.get_by_label("Value").nth(0).fill("3")
    await expect(page.get_by_text("Showing the last complete rule")).to_be_hidden()
    second = await count_shown(page)

    # AND Payment History is not Poor
    await page.get_by_role("button", name="Add Condition").click()
    await expect(page.get_by_label("Field")).to_have_count(3)
    assert await count_shown(page) == second
    await choose(page, page.get_by_label("Field").nth(2), "Payment History")
    await choose(page, page.get_by_label("Comparison").nth(2), "does not equal")
    assert await count_shown(page) == second
    await choose(page, page.get_by_label("Value").nth(1), "Poor")
    await expect(page.get_by_text("Showing the last complete rule")).to_be_hidden()
    await expect(page.get_by_text("After each condition")).to_be_visible()
    await expect(page.get_by_text("All customers")).to_be_visible()
    await expect(page.get_by_text("Payment History does not equal Poor").last).to_be_visible()  # its funnel bar
    await count_shown(page)
    await shoot(page, screenshot_dir, "rules-step-new")

    await page.locator(".q-stepper__tab", has_text="Review").click()
    await expect(page.get_by_text("Membership rule")).to_be_visible()
    await expect(page.get_by_text("will match")).to_be_visible()
    await shoot(page, screenshot_dir, "review-step")

    await page.get_by_role("button", name="Create group").click()
    await page.wait_for_url(GROUP_PAGE)
    group_id = int(GROUP_PAGE.search(page.url).group(1))
    await expect(page.get_by_text("Created Loyal Big Spenders")).to_be_visible()
    before = members(app_database, group_id)
    assert before

    # A member's "Why?"
    await open_tab(page, "Members")
    await page.get_by_role("button", name=re.compile(r"^Why")).first.click()
    await expect(page.get_by_text(re.compile(r"^Why .+ is in Loyal Big Spenders$"))).to_be_visible()
    await expect(page.get_by_text(re.compile(r"^has \$"))).to_be_visible()
    await page.get_by_role("button", name="Close").click()

    # "Edit rule" opens the Rules step itself
    await open_tab(page, "Rule")
    await page.get_by_role("button", name="Edit rule").first.click()  # the header's or the rule section's
    await page.wait_for_url(re.compile(r"/edit\?step=rules$"))
    await expect(page.get_by_label("Amount")).to_be_visible()
    await expect(page.get_by_text("No one would join")).to_be_visible()

    # A stricter threshold: some members would leave
    await page.get_by_label("Amount").fill("20000")
    leaving = page.get_by_text(re.compile(r"^−[\d,]+ would leave$"))
    await expect(leaving).to_be_visible()
    would_leave = int(re.sub(r"\D", "", await leaving.inner_text()))
    # the funnel drawn for the new threshold (its bars are redrawn with each answer)
    await expect(page.get_by_text("Total Purchases (lifetime) is at least $20,000").last).to_be_visible()
    await scroll_to(page.get_by_text("Payment History does not equal Poor").last)
    await shoot(page, screenshot_dir, "rules-step-edit")

    await page.get_by_role("button", name="Save changes").click()
    dialog = page.get_by_role("dialog")
    leaves = "customer will leave" if would_leave == 1 else "customers will leave"
    await expect(dialog.get_by_text(f"{would_leave:,} {leaves} Loyal Big Spenders")).to_be_visible()
    await expect(dialog.get_by_text("no one will join")).to_be_visible()
    assert members(app_database, group_id) == before  # nothing happens before the owner agrees
    await shoot(page, screenshot_dir, "confirm-leaving", whole_phone_page=False)  # the dialog, as seen

    await dialog.get_by_role("button", name="Save and update members").click()
    await page.wait_for_url(GROUP_PAGE)
    await expect(page.get_by_text(f"New rule saved: 0 joined, {would_leave:,} left.")).to_be_visible()
    after = members(app_database, group_id)
    assert len(before - after) == would_leave and after < before

    await page.get_by_role("button", name="Undo").click()
    await expect(page.get_by_text("Undone: Loyal Big Spenders has its previous rule again")).to_be_visible()
    assert members(app_database, group_id) == before


async def test_a_wider_vip_group_says_what_it_costs_and_whom_it_collides_with(page: Page, screenshot_dir: Path) -> None:
    # VIP, not a tier: a rung of the tiers' ladder previews moves (tests/e2e/test_ladder.py).
    await page.set_viewport_size(LAPTOP)
    await page.goto("/groups")
    await page.get_by_role("link", name="VIP Customers").first.click()
    await page.wait_for_url(GROUP_PAGE)
    await open_tab(page, "Rule")
    await page.get_by_role("button", name="Edit rule").first.click()  # the header's or the rule section's
    await page.wait_for_url(re.compile(r"/edit\?step=rules$"))
    await page.get_by_role("button", name="Remove this condition").nth(2).click()  # any payment history
    await expect(page.get_by_label("Field")).to_have_count(2)
    await page.get_by_label("Amount").nth(0).fill("10000")  # and from $10,000 instead of $50,000
    await expect(page.get_by_text(re.compile(r"^\+[\d,]+ would join$"))).to_be_visible()
    await expect(page.get_by_text(re.compile(r"a year in discounts for the [\d,]+ joiners?"))).to_be_visible()
    await expect(page.get_by_text(re.compile(r"^[\d,]+ of the joiners? (is|are) in Gold Tier$"))).to_be_visible()
    await shoot(page, screenshot_dir, "rules-step-cost")
