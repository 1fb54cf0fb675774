"""axe-core in Chromium on the pages people use most, on the demo shop: the overview, a group's page,
the Rules step, the "Add Customers" dialog, a customer's page and the price check. None may have a
critical or serious violation (a button without a name, a checkbox without a label, a dialog
without a title, a page without a language, text too faint to read), nor a table column header
without words.

Two rules Lighthouse runs and axe leaves off by default are on here, so the pages keep Lighthouse's
score (bench/lighthouse.py measures it): target-size (links and buttons at least 24 px apart) and
label-content-name-mismatch (a control named otherwise than its text, like Quasar's bare "Expand")."""

import sqlite3
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")

LAPTOP = {"width": 1366, "height": 768}
BLOCKING = {"critical", "serious"}
ALSO_BLOCKING = {"empty-table-header"}  # minor to axe, but a screen reader then reads cells without their column
AS_LIGHTHOUSE = {"rules": {"target-size": {"enabled": True}, "label-content-name-mismatch": {"enabled": True}}}
GROUP_TABS = {
    "overview": "Benefits Summary",
    "members": "Export CSV",
    "rule": "Membership Rule",
    "history": "Membership history",
}
SHOWN_NODES = 3


def first_id(database: Path, sql: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchone()[0]


def group_id(database: Path, code: str) -> int:
    return first_id(database, f"SELECT id FROM customer_group WHERE code = '{code}'")


async def settled(page: Page) -> None:
    """Wait until Quasar's transitions (a dialog sliding in, a menu fading) have finished: axe
    measures contrast on what is drawn, and half-faded text reads as too faint."""
    await page.wait_for_load_state("networkidle")
    await page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")


def why(node: dict) -> str:
    """axe's own words for the node's first failed check (for contrast: the colours and the ratio)."""
    checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
    return f"\n      {checks[0]['message']}" if checks else ""


async def assert_no_blocking_violations(page: Page, context: str | None = None) -> None:
    await settled(page)
    results = await Axe().run(page, context=context, options=AS_LIGHTHOUSE)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING or v["id"] in ALSO_BLOCKING]
    report = "\n".join(
        f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}\n"
        + "\n".join(
            f"    {' '.join(node['target'])}: {node['html'][:160]}{why(node)}" for node in v["nodes"][:SHOWN_NODES]
        )
        for v in blocking
    )
    assert not blocking, f"axe on {page.url}:\n{report}"


async def test_the_overview_has_no_serious_accessibility_violation(page: Page) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto("/groups")
    await expect(page.get_by_text("VIP Customers").first).to_be_visible()
    await assert_no_blocking_violations(page)


async def test_a_group_page_has_no_serious_accessibility_violation(page: Page, app_database: Path) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto(f"/groups/{group_id(app_database, 'VIP')}")
    await expect(page.get_by_role("button", name="Add Customers")).to_be_visible()
    await assert_no_blocking_violations(page)


@pytest.mark.parametrize("tab", GROUP_TABS)
async def test_each_tab_of_a_group_page_has_no_serious_accessibility_violation(
    page: Page, app_database: Path, tab: str
) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto(f"/groups/{group_id(app_database, 'VIP')}?tab={tab}")
    await expect(page.get_by_role("tabpanel").get_by_text(GROUP_TABS[tab], exact=True).first).to_be_visible()
    await assert_no_blocking_violations(page)


async def test_the_rules_step_has_no_serious_accessibility_violation(page: Page, app_database: Path) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto(f"/groups/{group_id(app_database, 'GOLD')}/edit?step=rules")
    await expect(page.get_by_role("button", name="Add Condition")).to_be_visible()
    await assert_no_blocking_violations(page)


async def test_the_add_customers_dialog_has_no_serious_accessibility_violation(page: Page, app_database: Path) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto(f"/groups/{group_id(app_database, 'WHOLESALE')}")
    await page.get_by_role("button", name="Add Customers").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_text("Add Customers to Group: Wholesale")).to_be_visible()
    await expect(dialog.get_by_role("checkbox").first).to_be_visible()
    # The page behind a modal dialog is out of reach (its own test checks it). axe stacks Quasar's
    # backdrop (z-index -1) above the dialog's white card and so measures the dialog's text against
    # grey, which is not what is drawn: the backdrop is hidden while axe measures.
    await page.add_style_tag(content=".q-dialog__backdrop { display: none; }")
    await assert_no_blocking_violations(page, context=".q-dialog")


async def test_a_customer_page_has_no_serious_accessibility_violation(page: Page, app_database: Path) -> None:
    await page.set_viewport_size(LAPTOP)
    customer = first_id(
        app_database,
        """
        SELECT c.id FROM customer c JOIN membership m ON m.customer_id = c.id
        JOIN customer_group g ON g.id = m.group_id AND g.code = 'VIP-PLATINUM'
        ORDER BY c.id LIMIT 1
        """,
    )
    await page.goto(f"/customers/{customer}")
    await expect(page.get_by_text("Benefits", exact=True)).to_be_visible()
    await assert_no_blocking_violations(page)


async def test_the_customers_list_has_no_serious_accessibility_violation(page: Page) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto("/customers")
    await expect(page.get_by_role("row").nth(1)).to_be_visible()
    await assert_no_blocking_violations(page)


async def test_the_price_check_has_no_serious_accessibility_violation(page: Page, app_database: Path) -> None:
    await page.set_viewport_size(LAPTOP)
    customer = first_id(
        app_database,
        """
        SELECT c.id FROM customer c JOIN membership m ON m.customer_id = c.id
        JOIN customer_group g ON g.id = m.group_id AND g.code = 'VIP-PLATINUM'
        ORDER BY c.id LIMIT 1
        """,
    )
    product = first_id(app_database, "SELECT id FROM product ORDER BY sku LIMIT 1")
    await page.goto(f"/price-check?customer={customer}&product={product}")
    await expect(page.get_by_text("Prices for ")).to_be_visible()
    await expect(page.locator(".q-expansion-item").first).to_be_visible()
    await assert_no_blocking_violations(page)


async def test_a_keyboard_user_keeps_their_place_choosing_a_type_and_lands_on_the_next_steps_first_field(
    page: Page,
) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto("/groups/new")
    await page.get_by_label("Group Name").fill("Keyboard Regulars")

    # Space on "Automatic" adds the Rules step; the choice keeps the focus, not the page's top.
    automatic = page.get_by_role("radio", name="Automatic (rule-based assignment)")
    await automatic.focus()
    await page.keyboard.press("Space")
    await expect(page.locator(".q-stepper__tab", has_text="Rules")).to_be_visible()
    await expect(automatic).to_have_attribute("aria-checked", "true")
    await expect(automatic).to_be_focused()

    # Continue: the Rules step's first field has the focus.
    await page.get_by_role("button", name="Continue").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Complete the rule to see who it matches")).to_be_visible()
    await expect(page.get_by_label("Field").first).to_be_focused()


async def test_the_catalog_has_no_serious_accessibility_violation(page: Page) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto("/catalog")
    await expect(page.get_by_role("button", name="Add Product")).to_be_visible()
    await assert_no_blocking_violations(page)


async def test_the_hierarchy_page_with_a_ladder_has_no_serious_accessibility_violation(
    page: Page, app_database: Path
) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto(f"/groups/hierarchy?group={group_id(app_database, 'TIERED')}")
    await expect(page.get_by_role("img", name="Members per rung of Tiered Customers, top first")).to_be_visible()
    await expect(page.get_by_role("table", name="Rungs of Tiered Customers, top first")).to_be_visible()
    await assert_no_blocking_violations(page)


async def test_a_keyboard_user_reorders_a_ladder_and_keeps_their_place_on_the_rung_moved(
    page: Page, app_database: Path
) -> None:
    await page.set_viewport_size(LAPTOP)
    await page.goto(f"/groups/hierarchy?group={group_id(app_database, 'TIERED')}")
    await page.get_by_role("button", name="Change the order…").click()
    dialog = page.get_by_role("dialog", name="Reorder the rungs of Tiered Customers")
    await expect(dialog.get_by_text("Move a rung up or down to see who the new order would move.")).to_be_visible()

    # Enter on "Move Silver Tier up" puts it on top; the focus goes with it (up is no way on from there).
    await dialog.get_by_role("button", name="Move Silver Tier up").focus()
    await page.keyboard.press("Enter")
    await expect(dialog.get_by_text("Silver Tier is rung 1 of 3 now.")).to_be_attached()
    await expect(dialog.get_by_role("button", name="Move Silver Tier down")).to_be_focused()
    await expect(dialog.get_by_text("In all:")).to_be_visible()

    await page.add_style_tag(content=".q-dialog__backdrop { display: none; }")  # as for Add Customers above
    await assert_no_blocking_violations(page, context=".q-dialog")
