"""A shop owner brings their Shopify orders export in through the Import page, in Chromium; the seed 003
VIP rule then counts exactly the customers an independent SQL count over the orders finds, and
importing the file again changes nothing."""

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_rules import seed_003_customers

pytestmark = pytest.mark.asyncio(loop_scope="session")

HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Total,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Cancelled at,Refunded Amount"
)
SHOTS = Path("/tmp/shots")


def _candidates(database: Path) -> list[tuple[int, str, int]]:
    """Two long-standing customers under $50,000 of purchases, given an excellent payment history
    (only the demo's VIP customers have one, and they are all past $50,000): (id, email, cents)."""
    with sqlite3.connect(database) as connection:
        found = connection.execute(
            """
            SELECT c.id, c.email, COALESCE(SUM(o.total_cents), 0) AS spent FROM customer c
            LEFT JOIN "order" o ON o.customer_id = c.id AND o.status = 'completed'
            WHERE c.status = 'active' AND c.created_at <= datetime('now', '-14 months')
            GROUP BY c.id HAVING spent < 4000000 ORDER BY c.id LIMIT 2
            """
        ).fetchall()
        connection.executemany(
            "UPDATE customer SET payment_rating = 'excellent' WHERE id = ?", [(f[0],) for f in found]
        )
    return found


def _counts(database: Path) -> tuple[int, int, int]:
    with sqlite3.connect(database) as connection:
        orders = connection.execute('SELECT COUNT(*) FROM "order"').fetchone()[0]
        lines = connection.execute("SELECT COUNT(*) FROM order_line").fetchone()[0]
    return orders, lines, len(seed_003_customers(database))


def _export(buyer: tuple[int, str, int], refunder: tuple[int, str, int]) -> bytes:
    """The buyer's paid order takes them over $50,000 with two line items; the refunder's order would
    too, but was refunded; #7003 is paid, and its rows come twice (a file pasted together)."""
    _, email, spent = buyer
    missing = 5_000_000 - spent + 10_000  # cents past the line
    first, second = missing // 2, missing - missing // 2
    total = f"{missing / 100:.2f}"
    rows = [
        HEADER,
        f"#7001,{email},paid,,fulfilled,USD,{total},{total},2025-01-10 10:00:00 +0000,1,Espresso Machine,"
        f"{first / 100:.2f},ESP-1,Buyer,,",
        f"#7001,,,,,,,,,1,Service Plan,{second / 100:.2f},SRV-1,,,",
        f"#7002,{refunder[1]},refunded,,,USD,60000.00,60000.00,2025-01-11 10:00:00 +0000,1,Roaster,60000.00,"
        "ROA-1,Refunder,,60000.00",
        f"#7003,{refunder[1]},paid,,,USD,120.00,120.00,2025-01-12 10:00:00 +0000,2,Filters,40.00,FIL-1,Refunder,,",
        "#7003,,,,,,,,,1,Scoop,40.00,SCO-1,,,",
        f"#7001,{email},paid,,fulfilled,USD,{total},{total},2025-01-10 10:00:00 +0000,1,Espresso Machine,"
        f"{first / 100:.2f},ESP-1,Buyer,,",
    ]
    return ("\n".join(rows) + "\n").encode()


async def _upload(page: Page, data: bytes) -> None:
    await page.goto("/customers/import")
    await page.get_by_role("radio", name="Orders").click()
    await expect(page.get_by_text("A known order number updates that order.")).to_be_visible()
    await page.locator("input[type=file]").set_input_files(
        files=[{"name": "orders_export_1.csv", "mimeType": "text/csv", "buffer": data}]
    )
    await expect(page.get_by_text("Recognised: Shopify orders export.")).to_be_visible()


async def _vip_preview_count(page: Page, database: Path) -> int:
    """How many customers the VIP group's rule matches, as its rule preview in the wizard says."""
    with sqlite3.connect(database) as connection:
        vip = connection.execute("SELECT id FROM customer_group WHERE code = 'VIP'").fetchone()[0]
    await page.goto(f"/groups/{vip}/edit?step=rules")
    preview = page.get_by_text(re.compile(r"^\d+ of [\d,]+ customers"))
    await expect(preview).to_be_visible()
    return int((await preview.inner_text()).split()[0])


async def test_a_shopify_orders_export_moves_the_vip_count_exactly_as_the_orders_say(
    page: Page, app_database: Path, screenshot_dir: Path
) -> None:
    buyer, refunder = _candidates(app_database)
    orders_before, lines_before, vip_before = _counts(app_database)
    assert buyer[0] not in seed_003_customers(app_database)

    await _upload(page, _export(buyer, refunder))
    await expect(
        page.get_by_text("6 rows: 3 orders, 3 new, 0 to update, 0 unchanged, 1 row with errors.")
    ).to_be_visible()
    errors = page.locator(".q-table").last
    await expect(errors).to_contain_text("Order #7001 is already in rows 2–3")
    for folder in (SHOTS, screenshot_dir):
        await page.screenshot(path=folder / "orders_import.png", full_page=True, animations="disabled")

    await page.get_by_role("button", name="Import 5 rows").click()
    await expect(page.get_by_text("Imported: 3 orders new, 0 updated, 0 unchanged.")).to_be_visible()
    await expect(page.get_by_text("VIP Customers: 1 joined, 0 left by its rule.")).to_be_visible()

    orders, lines, vip = _counts(app_database)
    assert (orders, lines) == (orders_before + 3, lines_before + 5)
    expected = seed_003_customers(app_database)
    assert buyer[0] in expected and refunder[0] not in expected
    assert vip == vip_before + 1
    assert await _vip_preview_count(page, app_database) == len(expected)

    # The same file again: every order is saved as it is, nothing is imported twice.
    await _upload(page, _export(buyer, refunder))
    await expect(
        page.get_by_text("6 rows: 3 orders, 0 new, 0 to update, 3 unchanged, 1 row with errors.")
    ).to_be_visible()
    await expect(page.get_by_text("Every order in the file is saved as it is: nothing to change.")).to_be_visible()
    await expect(page.get_by_role("button", name="Import 5 rows")).to_be_disabled()
    assert _counts(app_database) == (orders, lines, vip)
    assert await _vip_preview_count(page, app_database) == len(expected)
