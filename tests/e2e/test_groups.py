"""The shop owner's groups: the overview, the new-group wizard, editing and deleting a group."""

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEMO_GROUPS = [
    "VIP Customers",
    "VIP Platinum",
    "Tiered Customers",
    "Gold Tier",
    "Silver Tier",
    "Bronze Tier",
    "Wholesale",
    "Retail",
    "New Customers",
]
GROUP_PAGE = re.compile(r"/groups/(\d+)$")


async def test_overview_shows_the_nine_demo_groups(page: Page) -> None:
    await page.goto("/")

    await expect(page).to_have_title(re.compile(r"^Customer Groups · "))
    await expect(page.get_by_text("Segment customers for pricing, visibility, marketing and reports.")).to_be_visible()
    for name in DEMO_GROUPS:
        await expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    await expect(page.get_by_text("Total Groups: 9")).to_be_visible()


async def test_owner_creates_finds_edits_and_deletes_a_group(page: Page, screenshot_dir: Path) -> None:
    await page.goto("/")
    await expect(page.get_by_text("Total Groups: 9")).to_be_visible()
    await page.screenshot(path=screenshot_dir / "overview.png", full_page=True, animations="disabled")

    # A new group through the wizard; the code is suggested from the name.
    await page.get_by_role("button", name="New Group").click()
    await page.wait_for_url("**/groups/new")
    await expect(page.get_by_text("New Customer Group", exact=True)).to_be_visible()
    await page.get_by_label("Group Name").fill("Trade Partners")
    await expect(page.get_by_label("Group Code")).to_have_value("TRADE-PARTNERS")
    await page.get_by_label("Description").fill("Resellers we work with on trade terms.")
    hybrid = page.get_by_role("radio", name="Hybrid (rules + manual overrides)")
    await hybrid.click()
    await expect(hybrid).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_role("radio", name="Manual (assign customers manually)")).to_have_attribute(
        "aria-checked", "false"
    )
    await expect(page.locator(".q-stepper__tab", has_text="Rules")).to_be_visible()  # redrawn with a Rules step
    await page.screenshot(path=screenshot_dir / "wizard.png", full_page=True, animations="disabled")
    # A hybrid group needs a rule: start from a template.
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Start from a template").click()
    await page.get_by_text("Wholesale by tag", exact=True).click()
    await expect(page.get_by_text("matching customers", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Create group").click()

    # The new group's own page.
    await page.wait_for_url(GROUP_PAGE)
    group_url = page.url
    await expect(page).to_have_title(re.compile(r"^Trade Partners · "))
    await expect(page.get_by_text("Created Trade Partners")).to_be_visible()
    await expect(page.get_by_text("Trade Partners", exact=True).first).to_be_visible()
    # The page opens on its members; the group's information is under Overview, which the page then
    # keeps open for this group.
    await expect(page.get_by_role("tab", name=re.compile(r"^Members \(\d+\)$"))).to_have_attribute(
        "aria-selected", "true"
    )
    await page.get_by_role("tab", name="Overview").click()
    await page.wait_for_url(f"{group_url}?tab=overview")
    await expect(page.get_by_text("TRADE-PARTNERS", exact=True)).to_be_visible()
    await expect(page.get_by_text("Hybrid (rules + manual overrides)").first).to_be_visible()
    await expect(page.get_by_text("Resellers we work with on trade terms.")).to_be_visible()
    await page.screenshot(path=screenshot_dir / "group.png", full_page=True, animations="disabled")

    # Back on the overview it is listed, and the search finds it.
    await page.get_by_role("link", name="Customer Groups", exact=True).click()
    await page.wait_for_url("**/groups")
    await expect(page.get_by_role("link", name="Trade Partners", exact=True)).to_be_visible()
    await expect(page.get_by_text("Total Groups: 10")).to_be_visible()
    await page.get_by_placeholder("Search by name or code").fill("trade")
    await expect(page.get_by_text("Total Groups: 1")).to_be_visible()
    await expect(page.get_by_role("link", name="VIP Customers", exact=True)).to_have_count(0)
    await page.get_by_role("link", name="Trade Partners", exact=True).click()
    await page.wait_for_url(group_url)

    # Rename it.
    await page.get_by_role("button", name="Edit Group").click()
    await page.wait_for_url(f"{group_url}/edit")
    name = page.get_by_label("Group Name")
    await expect(name).to_have_value("Trade Partners")
    await name.fill("Trade Partners Europe")
    await page.get_by_role("button", name="Save changes").click()
    await page.wait_for_url(f"{group_url}?tab=overview")  # where the saved information shows
    await expect(page).to_have_title(re.compile(r"^Trade Partners Europe · "))
    await expect(page.get_by_text("Saved Trade Partners Europe")).to_be_visible()
    await expect(page.get_by_text("Trade Partners Europe", exact=True).first).to_be_visible()
    await expect(page.get_by_text("TRADE-PARTNERS", exact=True)).to_be_visible()  # the code stays

    # Delete it, after confirming.
    await page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Delete Trade Partners Europe?")
    await expect(dialog).to_contain_text("This cannot be undone.")
    await dialog.get_by_role("button", name="Delete group").click()
    await page.wait_for_url("**/groups")
    await expect(page.get_by_text("Total Groups: 9")).to_be_visible()
    await expect(
        page.get_by_text(re.compile(r"^Deleted Trade Partners Europe: \d+ members released\.$"))
    ).to_be_visible()
    for name in DEMO_GROUPS:
        await expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name=re.compile("Trade Partners"))).to_have_count(0)

    # Its page is gone too.
    await page.goto(group_url)
    await expect(page.get_by_text("This group does not exist")).to_be_visible()


async def test_a_duplicate_group_name_is_refused(page: Page) -> None:
    await page.goto("/groups/new")
    await page.get_by_label("Group Name").fill("vip customers")
    await expect(page.get_by_label("Group Code")).to_have_value("VIP-CUSTOMERS")
    await page.get_by_role("button", name="Create group").click()

    message = 'A group named "vip customers" already exists.'
    name_field = page.locator("label").filter(has=page.get_by_label("Group Name"))
    await expect(name_field.get_by_role("alert")).to_have_text(message)
    code_field = page.locator("label").filter(has=page.get_by_label("Group Code"))
    await expect(code_field.get_by_role("alert")).to_have_count(0)  # the suggested code is fine
    assert page.url.endswith("/groups/new")

    await page.goto("/")
    await expect(page.get_by_text("Total Groups: 9")).to_be_visible()
    await expect(page.get_by_role("link", name="vip customers", exact=True)).to_have_count(0)
