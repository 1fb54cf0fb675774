"""Issue 22's acceptance in Chromium, on the demo shop, whose Tiered Customers is a ladder of Gold,
Silver and Bronze Tier: the owner lowers Gold Tier's threshold, the Rules step previews "+N up
from Silver Tier", the save asks in moves, and each customer moved shows once in the timelines as
a move (never a leave plus a join); in the database nobody is on two rungs.

Screenshots of the Rules step with its moves, the confirmation and a moved customer's page are taken
at a laptop's 1366x768 and a phone's 390x844 (E2E_SCREENSHOTS says where)."""

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import choose
from tests.e2e.test_accessibility import assert_no_blocking_violations
from tests.e2e.test_navigation import UNSTYLED_CLASSES
from tests.e2e.test_rule_demo import LAPTOP, open_tab, shoot

pytestmark = pytest.mark.asyncio(loop_scope="session")

GROUP_PAGE = re.compile(r"/groups/(\d+)(\?tab=\w+)?$")
MOVES_UP = re.compile(r"^\+([\d,]+) up from Silver Tier")


def rows(database: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, params).fetchall()


def rung_ids(database: Path) -> dict[str, int]:
    return dict(
        rows(
            database,
            "SELECT g.code, g.id FROM customer_group g JOIN customer_group p ON p.id = g.parent_id "
            "WHERE p.code = 'TIERED' AND p.is_ladder",
        )
    )


def on_two_rungs(database: Path) -> list[tuple]:
    """Customers on more than one rung of a ladder, straight from the membership table."""
    return rows(
        database,
        "SELECT m.customer_id, p.name, COUNT(*) FROM membership m "
        "JOIN customer_group g ON g.id = m.group_id JOIN customer_group p ON p.id = g.parent_id "
        "WHERE p.is_ladder GROUP BY m.customer_id, p.id HAVING COUNT(*) > 1",
    )


def card(page: Page, title: str) -> Locator:
    return page.locator(".q-card").filter(has=page.get_by_text(title, exact=True))


async def test_a_lower_gold_threshold_moves_silver_customers_up_once_each(
    page: Page, app_database: Path, screenshot_dir: Path
) -> None:
    rungs = rung_ids(app_database)
    gold, silver = rungs["GOLD"], rungs["SILVER"]
    assert set(rungs) == {"GOLD", "SILVER", "BRONZE"}
    assert on_two_rungs(app_database) == []
    events_before = rows(app_database, "SELECT COALESCE(MAX(id), 0) FROM membership_event")[0][0]

    await page.set_viewport_size(LAPTOP)
    await page.goto("/groups")
    await page.get_by_role("link", name="Gold Tier").first.click()
    await page.wait_for_url(GROUP_PAGE)
    await open_tab(page, "Rule")
    await page.get_by_role("button", name="Edit rule").first.click()  # the header's or the rule section's
    await page.wait_for_url(re.compile(r"/edit\?step=rules$"))
    await expect(page.get_by_text("Rung 1 of 3 of Tiered Customers", exact=False)).to_be_visible()
    await expect(page.get_by_text("No one moves", exact=True)).to_be_visible()

    # Gold Tier from $15,000 instead of $20,000: Silver's customers from $15,000 move up, in one line.
    await page.get_by_label("Amount").nth(0).fill("15000")
    moves = page.get_by_text(MOVES_UP)
    await expect(moves).to_be_visible()
    moving = int(MOVES_UP.search(await moves.inner_text()).group(1).replace(",", ""))
    assert moving > 0
    await expect(page.get_by_text("Up from Silver Tier:")).to_be_visible()  # the first of them by name
    await expect(page.get_by_text(re.compile(r"would (join|leave)$"))).to_have_count(0)
    await assert_no_blocking_violations(page)
    assert await page.evaluate(UNSTYLED_CLASSES) == [], "classes without a style: make css"
    await moves.scroll_into_view_if_needed()
    await shoot(page, screenshot_dir, "ladder-rules-step")

    # Saving asks first, in moves and in what the customers' prices become.
    await page.get_by_role("button", name="Save changes").click()
    dialog = page.get_by_role("dialog")
    who = f"{moving:,} customer{'s' if moving != 1 else ''}"
    await expect(
        dialog.get_by_text(f"{who} will move up from Silver Tier to Gold Tier (10% off instead of 5% off).")
    ).to_be_visible()
    assert rows(app_database, "SELECT COUNT(*) FROM membership_event WHERE id > ?", events_before) == [(0,)]
    await shoot(page, screenshot_dir, "ladder-confirm", whole_phone_page=False)

    await dialog.get_by_role("button", name="Save and update members").click()
    await page.wait_for_url(GROUP_PAGE)
    await expect(page.get_by_text(f"Saved Gold Tier: +{moving:,} up from Silver Tier")).to_be_visible()
    await expect(page.get_by_text(f"New rule saved: +{moving:,} up from Silver Tier.")).to_be_visible()  # with Undo
    await shoot(page, screenshot_dir, "ladder-saved", whole_phone_page=False)

    # In the database: one moved_up event per customer moved, recorded on Gold naming Silver, and no
    # join or leave beside it; nobody on two rungs.
    new_events = rows(
        app_database,
        "SELECT customer_id, action, group_id, other_group_id, reason FROM membership_event WHERE id > ?",
        events_before,
    )
    moved = [e for e in new_events if e[1] == "moved_up"]
    assert len(moved) == moving and len({e[0] for e in moved}) == moving, "one move per customer"
    assert {(e[2], e[3]) for e in moved} == {(gold, silver)}
    moved_ids = {e[0] for e in moved}
    assert not [e for e in new_events if e[0] in moved_ids and e[1] in ("joined", "left")], "a move, not a leave"
    version = rows(app_database, "SELECT rule_version FROM customer_group WHERE id = ?", gold)[0][0]
    assert {e[4] for e in moved} == {f"Rule version {version} of Gold Tier"}
    assert on_two_rungs(app_database) == []
    assert {cid for (cid,) in rows(app_database, "SELECT customer_id FROM membership WHERE group_id = ?", gold)} >= (
        moved_ids
    )

    # Gold Tier's timeline: the moves up of this rule version, one entry each.
    await page.get_by_role("tab", name="History").click()
    history = card(page, "Membership history")
    await choose(page, history.get_by_label("Kind of change"), "Moved up")
    await page.keyboard.press("Escape")
    await history.get_by_placeholder("Search customer or reason").fill(f"Rule version {version} of Gold Tier")
    await expect(history.get_by_text(f"{moving:,} change{'s' if moving != 1 else ''}", exact=True)).to_be_visible()
    await expect(history.get_by_role("row").filter(has_text="Moved up from Silver Tier").first).to_be_visible()

    # A moved customer's page: on Gold now, and the move once in their timeline, with its rule.
    name = rows(app_database, "SELECT name FROM customer WHERE id = ?", moved[0][0])[0][0]
    await page.goto(f"/customers/{moved[0][0]}")
    await expect(page.get_by_role("heading", name=name)).to_be_visible()
    await expect(page.get_by_text("Tiered Customers: Gold Tier (rung 1 of 3)")).to_be_visible()
    timeline = card(page, "Membership history")
    move = timeline.get_by_role("row").filter(has_text="Moved up from Silver Tier to Gold Tier")
    await expect(move).to_have_count(1)
    await expect(move).to_contain_text(f"Rule version {version} of Gold Tier")
    await expect(
        timeline.get_by_role("row").filter(has_text=re.compile(r"Left Silver Tier|Joined Gold Tier"))
    ).to_have_count(0)
    await assert_no_blocking_violations(page)
    assert await page.evaluate(UNSTYLED_CLASSES) == [], "classes without a style: make css"
    await shoot(page, screenshot_dir, "ladder-customer")
    await move.scroll_into_view_if_needed()
    await page.screenshot(path=screenshot_dir / "ladder-customer-history-1366.png", animations="disabled")
