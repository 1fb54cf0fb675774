"""The app on a phone (390x844) in Chromium, on the demo shop: the header is one line whose "Menu"
opens the sections (by keyboard too), no page scrolls sideways, a table wider than the screen says it
scrolls (and the keyboard can scroll it), the rule builder stacks a condition's inputs, and axe finds
nothing critical or serious on the menu, a group page, the Rules step and the reports."""

import re
from itertools import pairwise

import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.test_accessibility import assert_no_blocking_violations, settled

pytestmark = pytest.mark.asyncio(loop_scope="session")

PHONE = {"width": 390, "height": 844}
ONE_LINE = 64  # px: the header's height with the logo, the shop's name and "Menu" side by side

# Each table box the page shows whose table is wider than it: what the line above it says, and
# whether the keyboard can reach it to scroll.
WIDE_TABLES = """() => [...document.querySelectorAll('.q-table__middle')]
    .filter(box => box.offsetParent !== null && box.scrollWidth > box.clientWidth + 1)
    .map(box => ({
        says: getComputedStyle(box.closest('.q-table__container'), '::before').content,
        focusable: box.tabIndex === 0 && box.hasAttribute('aria-label'),
    }))"""


async def fits_the_phone(page: Page, *, wide_tables: bool = False) -> None:
    """The page does not scroll sideways; every table wider than the screen says it scrolls."""
    await settled(page)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"
    await page.wait_for_function(f"({WIDE_TABLES})().every(table => table.focusable)")
    tables = await page.evaluate(WIDE_TABLES)
    assert bool(tables) == wide_tables, f"{page.url}: {tables}"
    assert all("Scroll sideways for more columns" in table["says"] for table in tables), tables


def field_box(label: Locator) -> Locator:
    """The whole outlined field around an input or select found by its label."""
    return label.locator("xpath=ancestor-or-self::label[contains(@class, 'q-field')][1]")


async def open_from_the_menu(page: Page, section: str) -> None:
    await page.get_by_role("button", name="Open the menu").click()
    await page.get_by_role("dialog", name="Menu").get_by_role("link", name=section, exact=True).click()


async def test_on_a_phone(page: Page) -> None:
    await page.set_viewport_size(PHONE)
    await page.goto("/groups")
    await expect(page.get_by_role("link", name="VIP Customers")).to_be_visible()
    await fits_the_phone(page, wide_tables=True)

    # The header is one line: the sections wait behind "Menu".
    header = await page.locator(".q-header").bounding_box()
    assert header and header["height"] <= ONE_LINE
    await expect(page.get_by_role("button", name="Customers", exact=True)).to_be_hidden()

    # By keyboard: Enter opens the menu on the current section, arrows and Tab move, Escape closes.
    menu = page.get_by_role("button", name="Open the menu")
    await menu.focus()
    await page.keyboard.press("Enter")
    drawer = page.get_by_role("dialog", name="Menu")
    groups = drawer.get_by_role("link", name="Groups", exact=True)
    await expect(groups).to_be_focused()
    await expect(groups).to_have_attribute("aria-current", "page")
    await page.keyboard.press("ArrowDown")
    await expect(drawer.get_by_role("link", name="Customers", exact=True)).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(drawer.get_by_role("link", name="Catalog", exact=True)).to_be_focused()
    await expect(drawer.get_by_role("link", name="Audit log")).to_be_visible()  # the account's entries
    await page.add_style_tag(content=".q-dialog__backdrop { display: none; }")  # see the dialog test
    await assert_no_blocking_violations(page, context=".q-dialog")
    await page.keyboard.press("Escape")
    await expect(drawer).to_be_hidden()
    await expect(menu).to_be_focused()

    await open_from_the_menu(page, "Customers")
    await page.wait_for_url(re.compile(r"/customers$"))
    acme = page.get_by_role("link", name="Acme Corporation", exact=True)
    await expect(acme).to_be_visible()
    await fits_the_phone(page, wide_tables=True)

    await acme.click()
    await page.wait_for_url(re.compile(r"/customers/\d+$"))
    await expect(page.get_by_text("Rule-based groups")).to_be_visible()
    await fits_the_phone(page, wide_tables=True)

    await page.get_by_role("button", name="Test prices").click()
    await page.wait_for_url(re.compile(r"/price-check\?customer=\d+$"))
    picker = page.get_by_label("Add a product (name or SKU)")
    await picker.click()
    await picker.fill("Coffee")
    await page.get_by_role("option").first.click()
    await expect(page.locator(".q-expansion-item")).to_have_count(1)
    await page.locator(".q-expansion-item").click()  # the price's candidates
    await expect(page.get_by_text("How this price was chosen")).to_be_visible()
    await fits_the_phone(page)

    await open_from_the_menu(page, "Groups")
    await page.get_by_role("link", name="VIP Customers").click()
    await page.wait_for_url(re.compile(r"/groups/\d+(\?tab=members)?$"))
    await expect(page.get_by_text("Group Members")).to_be_visible()
    await fits_the_phone(page, wide_tables=True)
    await assert_no_blocking_violations(page)

    # The rule builder: a condition's field, comparison and amount one under another, each as wide.
    await page.get_by_role("button", name="Edit rule").first.click()
    await page.wait_for_url(re.compile(r"/edit\?step=rules$"))
    boxes = [
        await field_box(page.get_by_label(label).first).bounding_box() for label in ("Field", "Comparison", "Amount")
    ]
    for upper, lower in pairwise(boxes):
        assert upper and lower
        assert upper["y"] + upper["height"] <= lower["y"], boxes
        assert abs(upper["x"] - lower["x"]) <= 1 and abs(upper["width"] - lower["width"]) <= 1, boxes
    await fits_the_phone(page)
    await assert_no_blocking_violations(page)

    await open_from_the_menu(page, "Reports")
    await expect(page.get_by_text("Customer Group Comparison")).to_be_visible()
    await fits_the_phone(page, wide_tables=True)
    await assert_no_blocking_violations(page)
