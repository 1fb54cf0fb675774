"""The member flows in Chromium: two Wholesale customers moved into VIP Customers, one of
them then removed to the default group with a reason, and both customers' histories telling it."""

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")

LAPTOP = {"width": 1366, "height": 768}
REASON = "No purchases 12+ months"


def group_id(database: Path, code: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT id FROM customer_group WHERE code = ?", (code,)).fetchone()[0]


def two_wholesale_namesakes(database: Path) -> tuple[str, list[tuple[int, str, str]]]:
    """Two active customers whose one and only group is Wholesale and whose names start with the
    same two words: (that shared start, [(id, name, email), ...]). No other customer's name contains
    either name, so the page's text points at each of them alone."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            """
            SELECT c.id, c.name, c.email FROM customer c
            JOIN membership m ON m.customer_id = c.id
            JOIN customer_group g ON g.id = m.group_id AND g.code = 'WHOLESALE'
            WHERE c.status = 'active'
              AND (SELECT COUNT(*) FROM membership other WHERE other.customer_id = c.id) = 1
              AND (SELECT COUNT(*) FROM customer same WHERE instr(same.name, c.name) > 0) = 1
            ORDER BY c.id
            """
        ).fetchall()
    by_start: dict[str, list[tuple[int, str, str]]] = {}
    for customer_id, name, email in rows:
        start = " ".join(name.split()[:2])
        by_start.setdefault(start, []).append((customer_id, name, email))
    start, pair = next((start, found[:2]) for start, found in by_start.items() if len(found) >= 2)
    return start, pair


def group_codes(database: Path, customer_id: int) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            """
            SELECT g.code FROM membership m JOIN customer_group g ON g.id = m.group_id
            WHERE m.customer_id = ?
            """,
            (customer_id,),
        ).fetchall()
    return {row[0] for row in rows}


def row_of(table: Locator, text: str) -> Locator:
    return table.get_by_role("row").filter(has_text=text)


def card(page: Page, title: str) -> Locator:
    return page.locator(".q-card").filter(has=page.get_by_text(title, exact=True))


async def test_owner_moves_two_wholesale_customers_into_vip_then_sends_one_to_retail(
    page: Page, app_database: Path, screenshot_dir: Path
) -> None:
    await page.set_viewport_size(LAPTOP)  # a shop owner's laptop
    vip = group_id(app_database, "VIP")
    shared_start, [(kept_id, kept, kept_email), (removed_id, removed, removed_email)] = two_wholesale_namesakes(
        app_database
    )

    # "Add Customers to Group": search, tick two, move them from their current group.
    await page.goto(f"/groups/{vip}")
    await expect(page).to_have_title(re.compile(r"^VIP Customers · "))
    await page.get_by_role("button", name="Add Customers").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_text("Add Customers to Group: VIP Customers")).to_be_visible()
    await expect(dialog.get_by_text("Selected: 0 customers")).to_be_visible()
    search = dialog.get_by_placeholder(re.compile(r"^Search"))  # by name, company or email

    await search.fill(kept_email)
    row = row_of(dialog, kept_email)
    await expect(dialog.locator("tbody").get_by_role("row")).to_have_count(1)  # the search found just them
    await expect(row).to_contain_text("Wholesale")  # the group it is in now
    await row.get_by_role("checkbox").click()
    await expect(dialog.get_by_text("Selected: 1 customer", exact=True)).to_be_visible()

    await search.fill(removed_email)  # a new search keeps the first tick
    row = row_of(dialog, removed_email)
    await expect(row_of(dialog, kept_email)).to_have_count(0)
    await expect(row).to_contain_text("Wholesale")
    await row.get_by_role("checkbox").click()
    await expect(dialog.get_by_text("Selected: 2 customers")).to_be_visible()

    await search.fill(shared_start)  # both in view, both ticked
    for email in (kept_email, removed_email):
        await expect(row_of(dialog, email).get_by_role("checkbox")).to_have_attribute("aria-checked", "true")
    await expect(dialog.get_by_text("Selected: 2 customers")).to_be_visible()
    move = dialog.get_by_role("radio", name="Move from current group")
    await move.click()
    await expect(move).to_have_attribute("aria-checked", "true")
    await page.screenshot(path=screenshot_dir / "members-add-dialog.png", animations="disabled")

    await dialog.get_by_role("button", name="Add to Group").click()
    await expect(page.get_by_text("Added 2 customers to VIP Customers; 2 memberships elsewhere ended.")).to_be_visible()
    members = card(page, "Group Members")
    await expect(row_of(members, kept)).to_contain_text("Manual")
    await expect(row_of(members, removed)).to_contain_text("Manual")
    assert group_codes(app_database, kept_id) == {"VIP"}
    assert group_codes(app_database, removed_id) == {"VIP"}

    # "Remove Customers from Group": one of them goes to the default group, with a reason.
    await members.get_by_placeholder("Search members").fill(removed)
    await expect(members.get_by_text("1 match", exact=True)).to_be_visible()
    await row_of(members, removed).get_by_role("checkbox").click()
    await expect(members.get_by_text("Selected: 1 member", exact=True)).to_be_visible()
    await members.get_by_role("button", name="Remove from Group").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_text("Remove Customers from Group")).to_be_visible()
    await expect(dialog.get_by_text("Group: VIP Customers")).to_be_visible()
    await expect(dialog.get_by_text(f"1 customer: {removed}")).to_be_visible()
    to_retail = dialog.get_by_role("radio", name="Move to default group (Retail)")
    await to_retail.click()
    await expect(to_retail).to_have_attribute("aria-checked", "true")
    await dialog.get_by_label("Reason (optional)").fill(REASON)
    await page.screenshot(path=screenshot_dir / "members-remove-dialog.png", animations="disabled")

    await dialog.get_by_role("button", name="Remove from Group").click()
    await expect(page.get_by_text("Removed 1 customer from VIP Customers and moved them to Retail.")).to_be_visible()
    members = card(page, "Group Members")
    await expect(row_of(members, kept)).to_be_visible()
    await expect(row_of(members, removed)).to_have_count(0)
    await page.get_by_role("tab", name="History").click()  # the group's timeline has a tab of its own
    history = card(page, "Membership history")
    await expect(row_of(history, "Moved from VIP Customers to Retail").filter(has_text=removed)).to_contain_text(REASON)
    await expect(row_of(history, "Joined VIP Customers (moved from Wholesale)").filter(has_text=kept)).to_be_visible()
    await expect(
        row_of(history, "Joined VIP Customers (moved from Wholesale)").filter(has_text=removed)
    ).to_be_visible()
    await page.screenshot(path=screenshot_dir / "members-group-after.png", full_page=True, animations="disabled")

    # The data, not only the page: one customer is only in VIP, the other only in Retail.
    assert group_codes(app_database, kept_id) == {"VIP"}
    assert group_codes(app_database, removed_id) == {"RETAIL"}

    # Each customer's own timeline tells what happened to them.
    await page.goto(f"/customers/{kept_id}")
    history = card(page, "Membership history")
    await expect(row_of(history, "Moved from Wholesale to VIP Customers")).to_have_count(1)
    await expect(row_of(history, "Joined VIP Customers (moved from Wholesale)")).to_have_count(1)
    await expect(row_of(history, "Retail")).to_have_count(0)

    await page.goto(f"/customers/{removed_id}")
    history = card(page, "Membership history")
    await expect(row_of(history, "Moved from Wholesale to VIP Customers")).to_have_count(1)
    await expect(row_of(history, "Joined VIP Customers (moved from Wholesale)")).to_have_count(1)
    await expect(row_of(history, "Moved from VIP Customers to Retail")).to_contain_text(REASON)
    await expect(row_of(history, "Joined Retail (moved from VIP Customers)")).to_be_visible()
    await page.screenshot(path=screenshot_dir / "members-customer-history.png", full_page=True, animations="disabled")
