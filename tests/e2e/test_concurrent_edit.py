"""Two people edit the same group at once: the second save must not overwrite the first."""

import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def open_group(page: Page, name: str) -> int:
    """Open a group from the overview; return its id."""
    await page.goto("/")
    await page.get_by_role("link", name=name, exact=True).click()
    await page.wait_for_url(re.compile(r"/groups/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


async def test_the_second_of_two_simultaneous_edits_is_refused(
    new_context: Callable[[], Awaitable[BrowserContext]],
) -> None:
    first = await (await new_context()).new_page()
    second = await (await new_context()).new_page()
    group_id = await open_group(first, "Wholesale")

    for page in (first, second):
        await page.goto(f"/groups/{group_id}/edit")
        await expect(page.get_by_label("Group Name")).to_have_value("Wholesale")

    await first.get_by_label("Description").fill("Resellers on net-30 terms.")
    await first.get_by_role("button", name="Save changes").click()
    await first.wait_for_url(f"**/groups/{group_id}?tab=overview")
    await first.get_by_role("tab", name="Overview").click()
    await expect(first.get_by_text("Resellers on net-30 terms.")).to_be_visible()

    await second.get_by_label("Description").fill("Distributors only.")
    await second.get_by_role("button", name="Save changes").click()
    dialog = second.get_by_role("dialog")
    await expect(dialog).to_contain_text("This group was changed meanwhile")
    await expect(dialog).to_contain_text("your changes on this page will not be saved")
    reload = dialog.get_by_role("button", name="Reload")
    await expect(reload).to_be_visible()
    assert second.url.endswith(f"/groups/{group_id}/edit")

    # Reloading shows the first person's version; the second one's text was not saved.
    await reload.click()
    await expect(second.get_by_label("Description")).to_have_value("Resellers on net-30 terms.")
    await second.goto(f"/groups/{group_id}?tab=overview")
    await expect(second.get_by_text("Resellers on net-30 terms.")).to_be_visible()
    await expect(second.get_by_text("Distributors only.")).to_have_count(0)
