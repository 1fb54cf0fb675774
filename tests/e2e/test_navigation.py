"""Finding one's way: every section opens, and a customer can be looked up with their groups."""

import re

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECTIONS = [
    ("Groups", "/groups", "Segment customers for pricing, visibility, marketing and reports."),
    ("Customers", "/customers", "Everyone who buys from you, with their purchases and groups."),
    ("Catalog", "/catalog", "Your products, who may see them, and the price lists groups can price with."),
    ("Promotions", "/promotions", "Target discounts, free shipping and other promotions at your groups"),
    ("Price check", "/price-check", "Test a sample order: what a customer pays for each product, and why."),
    ("Reports", "/reports", "Compare how your groups perform side by side, and open a group's own report."),
    ("Settings", "/settings", "Shop-wide choices that apply to every group."),
]


async def test_every_navigation_entry_opens_its_page(page: Page) -> None:
    failed_loads: list[str] = []  # (uncaught script errors fail every test, see conftest.py)
    page.on("response", lambda r: failed_loads.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    await page.goto("/customers")
    for label, path, text in SECTIONS:
        await page.get_by_role("button", name=label, exact=True).click()
        await page.wait_for_url(f"**{path}")
        await expect(page.get_by_text(text)).to_be_visible()
        await expect(page).to_have_title(re.compile(r" · "))
        await expect(page.get_by_text(re.compile("Internal Server Error|Traceback"))).to_have_count(0)

    assert failed_loads == []


async def test_a_keyboard_user_opens_the_account_menu_and_reaches_the_staff_page(page: Page) -> None:
    await page.goto("/groups")
    account = page.get_by_role("button", name=re.compile("^Account menu: "))
    await account.focus()
    await page.keyboard.press("Enter")
    menu = page.locator(".q-menu")
    await expect(menu.get_by_text("Audit log")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(menu).to_have_count(0)
    await account.focus()
    await page.keyboard.press("Enter")  # again: the menu built by the first opens as any menu does
    await expect(menu.get_by_text("Staff", exact=True)).to_be_visible()
    await menu.get_by_text("Staff", exact=True).click()
    await page.wait_for_url("**/staff")


async def test_owner_finds_a_customer_and_sees_their_groups(page: Page) -> None:
    await page.goto("/customers")
    await expect(page.get_by_text("200 customers", exact=True)).to_be_visible()
    await page.get_by_placeholder("Search name, company or email").fill("Acme")
    # Acme is on the unfiltered first page too: wait for the search to apply before clicking.
    await expect(page.get_by_text("1 customer", exact=True)).to_be_visible()
    acme = page.get_by_role("link", name="Acme Corporation", exact=True)
    await expect(acme).to_be_visible()
    await expect(page.get_by_role("link", name="TechStart Inc", exact=True)).to_have_count(0)

    await acme.click()
    await page.wait_for_url(re.compile(r"/customers/\d+$"))
    await expect(page).to_have_title(re.compile(r"^Acme Corporation · "))
    await expect(page.get_by_text("Acme Corporation", exact=True).first).to_be_visible()
    # The Groups card comes first; the membership history below links the group again.
    await expect(page.get_by_role("cell", name="VIP Customers").get_by_role("link").first).to_be_visible()
    # Why Acme is in VIP: the rule's conditions with Acme's own values.
    await expect(page.get_by_text("Rule-based groups")).to_be_visible()
    await expect(page.get_by_text("Total Purchases (lifetime) is greater than $50,000")).to_be_visible()
    await expect(page.get_by_text("has $245,678", exact=True).filter(visible=True)).to_have_count(1)


# Classes the browser has no rule for, on the page as it stands: the pages' own classes come from
# ui/styles/tailwind.css (`make css`), built ahead of time from the class names in ui/. Quasar's and
# NiceGUI's state markers (q-*, nicegui-*, no-touch, notranslate) need no rule of their own.
UNSTYLED_CLASSES = r"""() => {
    const styled = new Set();
    const walk = (rules) => {
        for (const rule of rules) {
            for (const match of (rule.selectorText ?? '').matchAll(/\.((?:\\.|[\w-])+)/g)) {
                styled.add(match[1].replace(/\\(.)/g, '$1'));
            }
            if (rule.styleSheet) walk(rule.styleSheet.cssRules);
            if (rule.cssRules) walk(rule.cssRules);
        }
    };
    for (const sheet of document.styleSheets) walk(sheet.cssRules);
    const used = new Set([...document.querySelectorAll('[class]')].flatMap(element => [...element.classList]));
    return [...used].filter(name => !styled.has(name) && !/^(q-|nicegui-|no-touch$|notranslate$)/.test(name)).sort();
}"""


async def test_every_class_the_pages_use_has_its_style(page: Page) -> None:
    unstyled: dict[str, list[str]] = {}

    async def check() -> None:
        await expect(page.locator(".q-card").first).to_be_visible()
        if names := await page.evaluate(UNSTYLED_CLASSES):
            unstyled[page.url] = names

    async def follow(link: str, *, on: str, shows: str) -> None:
        await page.goto(on)
        await page.get_by_role("link", name=link, exact=True).click()
        await expect(page.get_by_text(shows)).to_be_visible()
        await check()

    for _label, path, _text in SECTIONS:
        await page.goto(path)
        await check()
    await follow("VIP Customers", on="/groups", shows="Group Members")
    vip = page.url.split("?")[0]  # the group page adds its open tab to the address
    for url in (f"{vip}/report", f"{vip}/edit"):
        await page.goto(url)
        await check()
    await follow("Acme Corporation", on="/customers", shows="Rule-based groups")

    assert unstyled == {}
    # The check sees the pages' own styles: the header's white and the page's pale slate are two of them.
    assert await page.evaluate("getComputedStyle(document.querySelector('.q-header')).backgroundColor") == (
        "rgb(255, 255, 255)"
    )
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "oklch(0.984 0.003 247.858)"
