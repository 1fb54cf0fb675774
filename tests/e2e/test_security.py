"""Issue 8's browser-level security checks, in Chromium against the real app.

1. XSS: markup, script tags and Vue template syntax stored in group names and descriptions, customer
   names and companies, rule values and tags, catalog names, promotion names and membership reasons
   show as text on every page that shows them: no dialog opens, no script runs (`window.__xss` stays
   undefined), no link points at `javascript:`. Besides the pages checked one by one, every page the
   app registers is visited (read from app.py's route table), with the hostile rows' ids filled in.
2. Injection-shaped text in searches and rule values is data: no error, the expected matches.
3. Two browser sessions of two staff members stay isolated.
4. Signing in starts a new session: a session cookie obtained before (and planted in the browser of
   the person signing in) gives no access after it. A client's own X-Forwarded-For header does not
   change the address the sign-in limits count; a proxy's does, once TRUSTED_PROXIES names it.

The hostile rows are written through the services, by a short separate process on the app's
database (`_plant`), as the app's own trusted work: the app sees them like anything an owner saved.
"""

import asyncio
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Dialog, Locator, Page, expect

from tests.app_process import PROJECT_ROOT, app_environment, running_app
from tests.e2e.conftest import EXPECT_TIMEOUT, START_TIMEOUT, NewContext, choose
from tests.staff import OWNER_EMAIL, OWNER_NAME, OWNER_PASSWORD

pytestmark = pytest.mark.asyncio(loop_scope="session")

IMG = '<img src=x onerror="window.__xss=1;alert(1)">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = '"><svg onload=window.__xss=1>'
VUE = "{{ constructor.constructor('window.__xss=1')() }}"
VUE_BLOCK = "{{ _openBlock.constructor('window.__xss=1')() }}"  # reaches Function from a render helper
JS_URL = "javascript:alert(1)"
TAG = "<svg/onload=window.__xss=1>"  # tags are stored lower-case; this one already is

GROUP_A = f"{IMG} {VUE}"  # manual, top level; Mallory and Trent added by hand
GROUP_A_DESCRIPTION = f"{SCRIPT} {SVG} {JS_URL}"
GROUP_B = f"{SCRIPT} {SVG}"  # automatic, under A: company contains VUE, or tag TAG
GROUP_B_DESCRIPTION = f"{VUE} {IMG} {VUE_BLOCK}"
MALLORY = f"Mallory {IMG}"
MALLORY_COMPANY = f"{VUE} {SCRIPT} {JS_URL}"
TRENT = f"{SVG} Trent {VUE}"
TRENT_COMPANY = f"{SCRIPT} {VUE_BLOCK} Ltd"
REASON = f"{IMG} {SCRIPT} {VUE}"
ACTOR = f"{SVG} seeder"  # the app's own work acts under a name; this one is hostile too
CATEGORY = f"{SVG} Tools"
VISIBILITY = f"{SCRIPT} Exclusive"
PRODUCT = f"{IMG} {VUE} Widget"
PRICE_LIST = f"{VUE} {SVG}"
PRICE_LIST_DESCRIPTION = IMG
PROMOTION = f"{SCRIPT} {VUE} Sale"
FREEBIE = f"{IMG} freebie"

MANAGER_NAME = "Max Manager"
MANAGER_EMAIL = "max.manager@example.com"
MANAGER_PASSWORD = "another horse battery"

INJECTIONS = ["%", "_", "' OR 1=1 --", '"; DROP TABLE customer; --']


@dataclass(frozen=True)
class Planted:
    group_a: int
    group_b: int
    mallory: int
    trent: int
    product: int
    price_list: int
    promotion: int


async def _plant(database_url: str) -> dict:
    """Write the hostile rows through the services (run in a separate process, see `planted`)."""
    from datetime import UTC, datetime, timedelta

    from models.catalog import Category
    from models.customer import Customer, CustomerTag
    from models.staff import Role
    from services.benefits.sections import save_benefits
    from services.catalog import add_price_list_item, create_price_list, create_product, create_visibility_group
    from services.groups.group import create_group
    from services.membership.changes import AddMode, add_members
    from services.promotions import create_promotion
    from services.staff.accounts import create_first_owner, create_user, has_staff
    from services.staff.actor import SystemActor
    from services.storage.database import close_database, open_database

    seeder = SystemActor(ACTOR)
    await open_database(database_url=database_url)
    try:
        if not await has_staff():  # the browser contexts sign in as this owner
            await create_first_owner(email=OWNER_EMAIL, name=OWNER_NAME, password=OWNER_PASSWORD)
        await create_user(
            email=MANAGER_EMAIL, name=MANAGER_NAME, password=MANAGER_PASSWORD, role=Role.MANAGER, actor=seeder
        )
        joined = datetime.now(UTC) - timedelta(days=400)
        mallory = await Customer.create(
            name=MALLORY, company=MALLORY_COMPANY, email="mallory@example.com", country="US", created_at=joined
        )
        trent = await Customer.create(
            name=TRENT, company=TRENT_COMPANY, email="trent@example.com", country="GB", created_at=joined
        )
        await CustomerTag.create(customer=trent, tag=TAG)

        category = await Category.create(name=CATEGORY)
        visibility = await create_visibility_group(name=VISIBILITY, actor=seeder)
        product = await create_product(
            data={
                "sku": "XSS-1",
                "name": PRODUCT,
                "category_id": category.id,
                "visibility_group_id": visibility.id,
                "base_price_cents": 10_000,
            },
            actor=seeder,
        )
        price_list = await create_price_list(name=PRICE_LIST, description=PRICE_LIST_DESCRIPTION, actor=seeder)
        await add_price_list_item(
            price_list_id=price_list.id,
            data={"product_id": product.id, "min_quantity": 1, "price_cents": 9_000},
            actor=seeder,
        )

        a = await create_group(
            data={"name": GROUP_A, "code": "XSS-A", "description": GROUP_A_DESCRIPTION}, actor=seeder
        )
        rule = {
            "match": "any",
            "conditions": [
                {"field": "company", "op": "contains", "value": VUE},
                {"field": "tags", "op": "has_any", "value": [TAG]},
            ],
        }
        b = await create_group(
            data={
                "name": GROUP_B,
                "code": "XSS-B",
                "description": GROUP_B_DESCRIPTION,
                "parent_id": a.id,
                "type": "automatic",
                "rule": rule,
            },
            actor=seeder,
        )
        await save_benefits(
            group_id=a.id,
            sections={
                "pricing": {"type": "price_list", "price_list_id": price_list.id, "scope": "all"},
                "visibility": {"mode": "groups", "visibility_group_ids": [visibility.id]},
                "payment": {"net_days": 30},
            },
            actor=seeder,
        )
        await save_benefits(
            group_id=b.id, sections={"pricing": {"type": "percentage", "percent": 10, "scope": "all"}}, actor=seeder
        )
        await add_members(
            group_id=a.id, customer_ids=[mallory.id, trent.id], mode=AddMode.ADD, actor=seeder, reason=REASON
        )
        promotion = await create_promotion(
            data={
                "name": PROMOTION,
                "type": "additional_discount",
                "status": "active",
                "percent": 5,
                "target_group_ids": [a.id],
            },
            actor=seeder,
        )
        await create_promotion(
            data={
                "name": FREEBIE,
                "type": "free_item",
                "status": "active",
                "free_item_id": product.id,
                "target_group_ids": [b.id],
            },
            actor=seeder,
        )
        return Planted(a.id, b.id, mallory.id, trent.id, product.id, price_list.id, promotion.id).__dict__
    finally:
        await close_database()


@pytest.fixture(scope="module")
def planted(app_url: str, app_database: Path) -> Planted:
    """The hostile rows, written once the app has migrated and seeded its demo shop."""
    script = (
        "import asyncio, json, sys\n"
        "from tests.e2e.test_security import _plant\n"
        "print('PLANTED ' + json.dumps(asyncio.run(_plant(sys.argv[1]))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, f"sqlite://{app_database}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("PLANTED "))
    return Planted(**json.loads(line.removeprefix("PLANTED ")))


def query(database: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, args).fetchall()


# --- Watching a page ----------------------------------------------------------------------------


class Watched:
    """A page whose every dialog (alert, confirm, prompt) is recorded and dismissed."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dialog)

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{self.page.url}: {dialog.type} {dialog.message!r}")
        await dialog.dismiss()

    def shown(self, text: str) -> Locator:
        return self.page.get_by_text(text).filter(visible=True)

    async def visit(self, url: str, *, shows: tuple[str, ...] = ()) -> None:
        response = await self.page.goto(url)
        assert response is not None and response.ok, f"{url}: {response.status if response else 'no response'}"
        await self.expect_text(*shows)
        await self.assert_harmless()

    async def expect_text(self, *texts: str) -> None:
        """Each text is on the page, readable as text (so it was not parsed as markup)."""
        for text in texts:
            await expect(self.shown(text).first).to_be_visible()

    async def assert_harmless(self) -> None:
        page = self.page
        await page.wait_for_load_state("load")
        await asyncio.sleep(0.3)  # let an injected onerror / onload handler fire, if there were one
        assert await page.evaluate("typeof window.__xss") == "undefined", f"a payload ran on {page.url}"
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"
        script_links = await page.locator('a[href^="javascript:" i]').count()
        assert script_links == 0, f"a javascript: link on {page.url}"
        injected = await page.locator("img[src='x'], svg[onload], img[onerror]").count()
        assert injected == 0, f"payload markup became elements on {page.url}"


@pytest_asyncio.fixture(loop_scope="session")
async def owner(new_context: NewContext, planted: Planted) -> Watched:
    context = await new_context()
    return Watched(await context.new_page())


def card(page: Page, title: str) -> Locator:
    return page.locator(".q-card").filter(has=page.get_by_text(title, exact=True))


# --- 1. XSS -------------------------------------------------------------------------------------


async def test_hostile_group_names_and_descriptions_show_as_text(owner: Watched, planted: Planted) -> None:
    await owner.visit("/groups", shows=(GROUP_A, GROUP_B))
    await owner.page.get_by_placeholder(re.compile("^Search")).first.fill(VUE)  # the overview's search
    await owner.expect_text(GROUP_A)
    await owner.assert_harmless()

    # Group A, tab by tab: description, benefits (price list, visibility group), promotions; members;
    # history.
    group_a = f"/groups/{planted.group_a}"
    await owner.visit(f"{group_a}?tab=overview", shows=(GROUP_A, GROUP_A_DESCRIPTION, PROMOTION))
    await expect(owner.page).to_have_title(re.compile(re.escape(GROUP_A)))
    benefits = await owner.page.locator(".q-card").filter(has_text=PRICE_LIST).count()
    assert benefits >= 1, "the benefits card names the price list"
    await owner.visit(f"{group_a}?tab=members", shows=(GROUP_A, MALLORY, MALLORY_COMPANY, TRENT))
    await owner.visit(f"{group_a}?tab=history", shows=(GROUP_A, MALLORY, REASON))

    # Group B: its rule, read back as text, and the members it matched.
    group_b = f"/groups/{planted.group_b}"
    await owner.visit(f"{group_b}?tab=overview", shows=(GROUP_B, GROUP_B_DESCRIPTION, FREEBIE))
    await owner.visit(f"{group_b}?tab=rule", shows=(GROUP_B, TAG))
    await owner.expect_text(VUE)  # the rule's company condition
    await owner.visit(f"{group_b}?tab=members", shows=(GROUP_B, MALLORY, TRENT))
    why = owner.page.get_by_role("row").filter(has_text="Mallory").get_by_role("button", name=re.compile(r"^Why"))
    await why.click()
    dialog = owner.page.get_by_role("dialog")
    await expect(dialog).to_contain_text(MALLORY_COMPANY)
    await owner.assert_harmless()
    await owner.page.keyboard.press("Escape")

    await owner.visit(f"/groups/{planted.group_a}/report", shows=(GROUP_A,))
    await owner.visit(f"/groups/{planted.group_a}/edit")
    await owner.visit(f"/groups/{planted.group_b}/edit")
    await expect(owner.page.locator("input").filter(visible=True).first).to_be_visible()
    names = await owner.page.locator("input").evaluate_all("inputs => inputs.map(i => i.value)")
    assert GROUP_B in names, "the wizard shows the name in its field, as typed"
    await owner.assert_harmless()


async def test_hostile_customers_show_as_text(owner: Watched, planted: Planted) -> None:
    await owner.visit("/customers")
    await owner.page.get_by_placeholder("Search name, company or email").fill(IMG)
    await owner.expect_text(MALLORY, "1 customer")
    await owner.assert_harmless()
    await owner.page.get_by_placeholder("Search name, company or email").fill(VUE)
    await owner.expect_text(MALLORY, TRENT, MALLORY_COMPANY, "2 customers")
    await owner.assert_harmless()

    await owner.visit(
        f"/customers/{planted.mallory}", shows=(MALLORY, MALLORY_COMPANY, GROUP_A, GROUP_B, REASON, PRICE_LIST)
    )
    await owner.visit(f"/customers/{planted.trent}", shows=(TRENT, TRENT_COMPANY, GROUP_A, TAG))


async def test_hostile_catalog_and_promotions_show_as_text(owner: Watched, planted: Planted) -> None:
    await owner.visit("/catalog", shows=(PRODUCT,))
    await owner.visit("/catalog?tab=categories", shows=(CATEGORY,))
    await owner.visit("/catalog?tab=visibility-groups", shows=(VISIBILITY,))
    await owner.visit("/catalog?tab=price-lists", shows=(PRICE_LIST,))
    await owner.visit(f"/catalog/price-lists/{planted.price_list}", shows=(PRICE_LIST, PRODUCT))

    await owner.visit("/promotions", shows=(PROMOTION, FREEBIE, GROUP_A, GROUP_B))
    await owner.visit(f"/promotions/{planted.promotion}")
    names = await owner.page.locator("input").evaluate_all("inputs => inputs.map(i => i.value)")
    assert PROMOTION in names
    await owner.expect_text(GROUP_A)  # the chosen target
    await owner.visit("/promotions/new", shows=(GROUP_A, GROUP_B))  # the target checkboxes
    await owner.page.get_by_role("checkbox", name=GROUP_A).click()
    await owner.expect_text("Includes")  # the subgroup note names B, a subgroup of A
    await expect(owner.page.get_by_text("Includes").filter(visible=True).first).to_contain_text(GROUP_B)
    await owner.assert_harmless()


async def test_hostile_names_in_hierarchy_overlaps_reports_and_price_check(owner: Watched, planted: Planted) -> None:
    await owner.visit(f"/groups/hierarchy?group={planted.group_b}", shows=(GROUP_A, GROUP_B))
    await owner.visit("/groups/overlaps", shows=(GROUP_A, GROUP_B))

    await owner.visit("/reports")
    chooser = owner.page.get_by_label("Groups to compare")
    await chooser.click()
    for name in (GROUP_A, GROUP_B):  # A may be picked already: it is a top-level group with members
        option = owner.page.get_by_role("option", name=name)
        if await option.get_attribute("aria-selected") != "true":
            await option.click()
            await expect(option).to_have_attribute("aria-selected", "true")
    await owner.page.keyboard.press("Escape")
    await owner.expect_text(GROUP_A, GROUP_B)  # chips, table header and report links
    header = owner.page.get_by_role("columnheader")
    await expect(header.filter(has_text=GROUP_A)).to_have_count(1)  # the figures show both groups now
    await expect(header.filter(has_text=GROUP_B)).to_have_count(1)
    chart = owner.page.locator(".nicegui-echart").last
    tooltip = owner.page.locator(".nicegui-echart div").filter(has_text=re.compile("Revenue")).filter(visible=True)
    for step in range(1, 20):  # the axis tooltip names the group (ECharts writes HTML there)
        width = await chart.evaluate("chart => chart.getBoundingClientRect().width")
        await chart.hover(position={"x": width * step / 20, "y": 120})
        await asyncio.sleep(0.05)
        if await tooltip.filter(has_text=GROUP_A).count() or await tooltip.filter(has_text=GROUP_B).count():
            break
    else:
        pytest.fail("no chart tooltip naming a hostile group appeared")
    await owner.assert_harmless()

    await owner.visit(
        f"/price-check?customer={planted.mallory}&product={planted.product}",
        shows=(f"Prices for {MALLORY}", GROUP_A, GROUP_B),
    )
    await owner.expect_text(PRODUCT)
    await owner.assert_harmless()


async def test_hostile_names_in_the_member_dialogs(owner: Watched, planted: Planted, app_database: Path) -> None:
    # The picker on another group lists the hostile customers with their current groups.
    vip = query(app_database, "SELECT id FROM customer_group WHERE code = 'VIP'")[0][0]
    page = owner.page
    await owner.visit(f"/groups/{vip}")
    await page.get_by_role("button", name="Add Customers").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_placeholder(re.compile(r"^Search")).fill(VUE)
    await expect(dialog.locator("tbody").get_by_role("row")).to_have_count(2)
    await owner.expect_text(MALLORY, TRENT, GROUP_A, GROUP_B)
    await owner.assert_harmless()
    await page.keyboard.press("Escape")

    # The remove dialog names the chosen member.
    await owner.visit(f"/groups/{planted.group_a}?tab=members", shows=(MALLORY,))
    members = card(page, "Group Members")
    await members.get_by_placeholder("Search members").fill(IMG)
    await expect(members.get_by_text("1 match", exact=True)).to_be_visible()
    await members.get_by_role("row").filter(has_text=MALLORY).get_by_role("checkbox").click()
    await members.get_by_role("button", name="Remove from Group").click()
    await expect(page.get_by_role("dialog")).to_contain_text(MALLORY)
    await owner.assert_harmless()
    await page.keyboard.press("Escape")


async def test_the_audit_log_and_the_staff_page_show_hostile_names_as_text(owner: Watched, planted: Planted) -> None:
    await owner.visit("/audit", shows=(f"Created group {GROUP_A}", ACTOR))  # the hostile seeder's changes
    await owner.visit("/staff", shows=(MANAGER_NAME,))


@pytest.fixture(scope="module")
def page_routes(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The path of every page app.py registers, read from its route table in a separate process
    (importing app.py here would tie this process's NiceGUI to it)."""
    script = (
        "import json\n"
        "from fastapi.routing import APIRoute\n"
        "from nicegui import app as site\n"
        "import app\n"
        "paths = {r.path for r in site.routes if isinstance(r, APIRoute) and 'GET' in r.methods}\n"
        "print('PAGES ' + json.dumps(sorted(p for p in paths if not p.startswith(('/_nicegui', '/api/')))))\n"
    )
    data = tmp_path_factory.mktemp("routes")
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=app_environment(data, DATABASE_URL=f"sqlite://{data / 'unused.sqlite3'}", DEMO_CUSTOMERS="0"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("PAGES "))
    return json.loads(line.removeprefix("PAGES "))


def hostile_urls(paths: list[str], planted: Planted) -> list[str]:
    """Each page path with its ids filled in by every hostile row of that kind (/logout aside)."""
    ids = {
        "group_id": (planted.group_a, planted.group_b),
        "customer_id": (planted.mallory, planted.trent),
        "promotion_id": (planted.promotion,),
        "price_list_id": (planted.price_list,),
    }
    urls = []
    for path in paths:
        if path == "/logout":  # would sign the owner out
            continue
        names = re.findall(r"\{(\w+)(?::\w+)?\}", path)
        assert set(names) <= set(ids), f"{path}: name a hostile row for {set(names) - set(ids)} here"
        for values in product(*(ids[name] for name in names)):
            chosen = dict(zip(names, values, strict=True))
            urls.append(re.sub(r"\{(\w+)(?::\w+)?\}", lambda m, chosen=chosen: str(chosen[m.group(1)]), path))
    return urls


async def test_every_page_of_the_app_shows_the_hostile_rows_harmlessly(
    owner: Watched, planted: Planted, page_routes: list[str]
) -> None:
    urls = hostile_urls(page_routes, planted)
    assert {"/groups", "/settings", "/account", "/account/tokens", "/audit", "/staff", "/price-check"} <= set(urls)
    assert f"/groups/{planted.group_b}/edit" in urls and f"/customers/{planted.trent}" in urls
    for url in urls:
        if url == "/setup":  # once the owner exists, it sends everyone on to the sign-in page
            await owner.page.goto(url)
            await owner.page.wait_for_url(re.compile(r"/login$"))
            await owner.assert_harmless()
            continue
        await owner.visit(url)


async def test_hostile_csv_file_headers_and_cells_show_as_text(owner: Watched, planted: Planted) -> None:
    """The import's preview shows what a file holds, whatever it holds; nothing is imported here."""
    page = owner.page
    await owner.visit("/customers/import")
    rows = [
        f'email,name,company,"{IMG.replace(chr(34), chr(34) * 2)}"',
        f'ivan@example.com,"Ivan {SCRIPT}","{VUE}",x',
        f'"not an email {SVG.replace(chr(34), chr(34) * 2)}",Bad,Row,y',
    ]
    name = "<img src=x onerror=window.__xss=1>.csv"  # no "/" (a path) and no quotes (sent as %22)
    await page.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}]
    )
    await owner.expect_text(f"{name}: 2 rows below the header", f"Ivan {SCRIPT}", VUE)
    await owner.assert_harmless()


# --- 2. Injection-shaped text is data -----------------------------------------------------------


def _customers_containing(database: Path, text: str) -> int:
    needle = text.casefold()
    return sum(
        1
        for name, company, email in query(database, "SELECT name, company, email FROM customer")
        if needle in name.casefold() or needle in company.casefold() or needle in email.casefold()
    )


def _count_text(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


async def test_injection_shaped_searches_are_plain_text(owner: Watched, planted: Planted, app_database: Path) -> None:
    page = owner.page
    customers_before = query(app_database, "SELECT COUNT(*) FROM customer")[0][0]

    await owner.visit("/customers")
    search = page.get_by_placeholder("Search name, company or email")
    for text in INJECTIONS:
        await search.fill(text)
        expected = _customers_containing(app_database, text)
        await expect(page.get_by_text(_count_text(expected, "customer", "customers"), exact=True)).to_be_visible()
    await owner.assert_harmless()

    await owner.visit(f"/groups/{planted.group_a}?tab=members", shows=(MALLORY,))
    members = card(page, "Group Members")
    for text in INJECTIONS:
        await members.get_by_placeholder("Search members").fill(text)
        await expect(members.get_by_text("0 matches", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Add Customers").click()
    dialog = page.get_by_role("dialog")
    for text in INJECTIONS:
        await dialog.get_by_placeholder(re.compile(r"^Search")).fill(text)
        if _customers_containing(app_database, text) == 0:
            await expect(dialog.get_by_text("Selected: 0 customers")).to_be_visible()
            await expect(dialog.locator("tbody tr.q-tr")).to_have_count(0)
    await page.keyboard.press("Escape")

    await page.get_by_role("tab", name="History").click()
    history = card(page, "Membership history")
    await expect(history.get_by_text("2 changes", exact=True)).to_be_visible()  # loaded: Mallory and Trent joined
    for text in INJECTIONS:
        await history.get_by_placeholder(re.compile(r"^Search")).fill(text)
        await expect(
            history.get_by_text("No membership changes match these filters.").filter(visible=True).first
        ).to_be_visible()
    await history.get_by_placeholder(re.compile(r"^Search")).fill(SCRIPT)  # Trent's company: one event
    await expect(history.get_by_role("row").filter(has_text=TRENT)).to_have_count(1)
    await owner.assert_harmless()

    await owner.visit("/catalog", shows=(PRODUCT,))
    for text in INJECTIONS:
        await page.get_by_placeholder(re.compile(r"^Search")).first.fill(text)
        await expect(page.get_by_text(PRODUCT)).to_have_count(0)
    await owner.assert_harmless()

    assert query(app_database, "SELECT COUNT(*) FROM customer")[0][0] == customers_before


async def test_a_rule_value_shaped_like_sql_matches_nothing(
    owner: Watched, planted: Planted, app_database: Path
) -> None:
    """'Company contains <SQL or a wildcard>' previews the customers whose company holds that very
    text (none), and the saved rule reads the text back as typed."""
    page = owner.page
    total = query(app_database, "SELECT COUNT(*) FROM customer")[0][0]
    companies = [company.casefold() for (company,) in query(app_database, "SELECT company FROM customer")]
    await owner.visit("/groups/new")
    await page.get_by_label("Group Name").fill("Injection probe")
    await page.get_by_role("radio", name="Automatic (rule-based assignment)").click()
    await expect(page.locator(".q-stepper__tab", has_text="Rules")).to_be_visible()  # redrawn with a Rules step
    await page.get_by_role("button", name="Continue").click()
    await choose(page, page.get_by_label("Field").nth(0), "Company")
    await choose(page, page.get_by_label("Comparison").nth(0), "contains")
    value = page.get_by_label("Value").nth(0)
    for text in [*INJECTIONS, SCRIPT]:
        await value.fill(text)
        expected = sum(text.casefold() in company for company in companies)
        await expect(page.get_by_text(re.compile(rf"^{expected:,} of {total:,} customers"))).to_be_visible()
    await value.fill(INJECTIONS[2])
    await expect(page.get_by_text(re.compile(rf"^0 of {total:,} customers"))).to_be_visible()
    await page.get_by_role("button", name="Create group").click()
    await page.wait_for_url(re.compile(r"/groups/\d+(\?tab=\w+)?$"))
    await owner.expect_text("Created Injection probe")
    await page.get_by_role("tab", name="Rule").click()
    await owner.expect_text(INJECTIONS[2])
    await owner.assert_harmless()
    saved = query(app_database, "SELECT rule FROM customer_group WHERE name = 'Injection probe'")[0][0]
    assert INJECTIONS[2] in json.loads(saved)["conditions"][0]["value"]
    probe = query(app_database, "SELECT id FROM customer_group WHERE name = 'Injection probe'")[0][0]
    assert query(app_database, "SELECT COUNT(*) FROM membership WHERE group_id = ?", probe)[0][0] == 0
    assert query(app_database, "SELECT COUNT(*) FROM customer")[0][0] == total


# --- 3. Two sessions ----------------------------------------------------------------------------


async def _sign_in_as(browser: Browser, base_url: str, email: str, password: str) -> BrowserContext:
    context = await browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(EXPECT_TIMEOUT)
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"^[^?]*/groups$"))
    await page.close()
    return context


async def _account_name(page: Page) -> str:
    await page.get_by_role("button").filter(has=page.locator("i", has_text="account_circle")).click()
    menu = page.locator(".q-menu")
    await expect(menu).to_be_visible()
    text = await menu.inner_text()
    await page.keyboard.press("Escape")
    return text


async def test_two_staff_sessions_stay_apart(
    browser: Browser, app_url: str, new_context: NewContext, planted: Planted
) -> None:
    owner_context = await new_context()  # the owner, signed in by the fixture
    manager_context = await _sign_in_as(browser, app_url, MANAGER_EMAIL, MANAGER_PASSWORD)
    try:
        a = Watched(await owner_context.new_page())
        b = Watched(await manager_context.new_page())
        await a.visit("/groups")
        await b.visit("/groups")
        assert OWNER_NAME in await _account_name(a.page)
        assert MANAGER_NAME in await _account_name(b.page)
        assert MANAGER_NAME not in await _account_name(a.page)
        assert OWNER_NAME not in await _account_name(b.page)

        # A saves an edit; the "Saved" message is A's alone, now and on B's next pages.
        await b.visit(f"/groups/{planted.group_a}", shows=(GROUP_A,))
        await a.visit(f"/groups/{planted.group_a}/edit")
        await a.page.get_by_role("button", name="Save changes").click()
        await a.page.wait_for_url(re.compile(rf"/groups/{planted.group_a}(\?tab=\w+)?$"))
        await a.expect_text(f"Saved {GROUP_A}")
        await a.assert_harmless()
        await expect(b.page.get_by_text("Saved ")).to_have_count(0)
        await b.visit(f"/groups/{planted.group_a}", shows=(GROUP_A,))
        await b.visit("/groups", shows=(GROUP_A,))
        await expect(b.page.get_by_text("Saved ")).to_have_count(0)

        # A signs out; B stays signed in.
        await a.page.goto("/logout")
        await a.page.wait_for_url(re.compile(r"/login"))
        await a.page.goto(f"/groups/{planted.group_a}")
        await a.page.wait_for_url(re.compile(r"/login"))
        await b.visit(f"/groups/{planted.group_a}", shows=(GROUP_A,))
        assert re.search(rf"/groups/{planted.group_a}(\?tab=\w+)?$", b.page.url)
        assert MANAGER_NAME in await _account_name(b.page)

        # A page opened in a browser without anyone's cookies asks to sign in.
        stranger = await browser.new_context(base_url=app_url)
        try:
            page = await stranger.new_page()
            await page.goto(f"/groups/{planted.group_a}")
            await page.wait_for_url(re.compile(r"/login"))
            await expect(page.get_by_text(GROUP_A)).to_have_count(0)
        finally:
            await stranger.close()
    finally:
        await manager_context.close()


# --- 4. Signing in ------------------------------------------------------------------------------


def first_session_cookie(base_url: str) -> str:
    """The session cookie the app gives a browser that opens the sign-in page."""
    return httpx.get(f"{base_url}/login").cookies["session"]


def opens_staff_page(base_url: str, session: str) -> bool:
    """Whether the groups overview opens with this session cookie (rather than leading to sign-in)."""
    response = httpx.get(f"{base_url}/groups", headers={"Cookie": f"session={session}"})
    return response.status_code == 200


async def fill_in_and_sign_in(page: Page, email: str, password: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_session_cookie_from_before_signing_in_gives_no_access_after_it(
    browser: Browser, app_url: str, planted: Planted
) -> None:
    # Someone opens the sign-in page and keeps the session cookie it gives them ...
    planted_cookie = first_session_cookie(app_url)
    assert not opens_staff_page(app_url, planted_cookie)
    # ... and gets it into Max's browser (a shared computer, say), where Max then signs in.
    context = await browser.new_context(base_url=app_url)
    try:
        await context.add_cookies([{"name": "session", "value": planted_cookie, "url": app_url}])
        page = await context.new_page()
        await fill_in_and_sign_in(page, MANAGER_EMAIL, MANAGER_PASSWORD)
        await page.wait_for_url(re.compile(r"^[^?]*/groups$"))

        # Max's browser now holds a new session cookie; the planted one still opens nothing.
        cookie = next(cookie["value"] for cookie in await context.cookies() if cookie["name"] == "session")
        assert cookie != planted_cookie
        assert opens_staff_page(app_url, cookie)
        assert not opens_staff_page(app_url, planted_cookie)
    finally:
        await context.close()


async def test_the_address_a_right_password_leads_to_signs_in_once_and_only_its_own_browser(
    browser: Browser, app_url: str, planted: Planted
) -> None:
    # Max's right password sends his browser to a one-time address; here it is caught on its way.
    context = await browser.new_context(base_url=app_url)
    stranger = await browser.new_context(base_url=app_url)
    try:
        page = await context.new_page()
        ticket = re.compile(r"/login\?ticket=")
        await page.route(ticket, lambda route: route.abort())
        async with page.expect_request(ticket) as caught:
            await fill_in_and_sign_in(page, MANAGER_EMAIL, MANAGER_PASSWORD)
        address = (await caught.value).url

        # Opened in another browser it signs nobody in, and it is used up.
        other = await stranger.new_page()
        await other.goto(address)
        await expect(other.get_by_text("Signing in did not finish. Please sign in again.")).to_be_visible()
        cookie = next(cookie["value"] for cookie in await stranger.cookies() if cookie["name"] == "session")
        assert not opens_staff_page(app_url, cookie)
        await page.unroute(ticket)
        await page.goto(address)
        await expect(page.get_by_text("Signing in did not finish. Please sign in again.")).to_be_visible()
        # Max signs in again, and this time his browser goes the whole way.
        await fill_in_and_sign_in(page, MANAGER_EMAIL, MANAGER_PASSWORD)
        await page.wait_for_url(re.compile(r"^[^?]*/groups$"))
    finally:
        await stranger.close()
        await context.close()


async def wrong_password_from(browser: Browser, base_url: str, email: str, forwarded_for: str) -> None:
    """A browser whose requests claim, in X-Forwarded-For, to come from `forwarded_for` tries a wrong password."""
    context = await browser.new_context(base_url=base_url, extra_http_headers={"X-Forwarded-For": forwarded_for})
    try:
        page = await context.new_page()
        await fill_in_and_sign_in(page, email, "not the password")
        await expect(page.get_by_text("The email or password is not right.")).to_be_visible()
    finally:
        await context.close()


def failures_by_address(database: Path, email: str) -> list[str]:
    return [address for (address,) in query(database, "SELECT address FROM login_attempt WHERE email = ?", email)]


async def test_a_client_cannot_choose_the_address_its_failures_count_against(
    browser: Browser, app_url: str, app_database: Path, planted: Planted
) -> None:
    # The app runs without TRUSTED_PROXIES; the browser connects from 127.0.0.1, which uvicorn on
    # its own would let name any address it likes.
    await wrong_password_from(browser, app_url, "forger@example.com", forwarded_for="203.0.113.9")
    assert failures_by_address(app_database, "forger@example.com") == ["127.0.0.1"]


@pytest.fixture(scope="module")
def app_behind_a_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A second app, whose TRUSTED_PROXIES names 127.0.0.1 (as if nginx ran beside it), with an owner
    and no demo shop; its base URL and its SQLite file."""
    data_dir = tmp_path_factory.mktemp("behind-a-proxy")
    database = data_dir / "shop.sqlite3"
    script = (
        "import asyncio, sys\n"
        "from services.storage.database import close_database, open_database\n"
        "from services.staff.accounts import create_first_owner\n"
        "async def main():\n"
        "    await open_database(database_url=sys.argv[1])\n"
        "    await create_first_owner(email=sys.argv[2], name=sys.argv[3], password=sys.argv[4])\n"
        "    await close_database()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, f"sqlite://{database}", OWNER_EMAIL, OWNER_NAME, OWNER_PASSWORD],
        cwd=PROJECT_ROOT,
        env=app_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    settings = {"DATABASE_URL": f"sqlite://{database}", "DEMO_CUSTOMERS": "0", "TRUSTED_PROXIES": "127.0.0.1"}
    with running_app(data_dir=data_dir, settings=settings, start_timeout=START_TIMEOUT) as url:
        yield url, database


@pytest.mark.sqlite_only
async def test_behind_a_trusted_proxy_failures_count_against_the_address_it_names(
    browser: Browser, app_behind_a_proxy: tuple[str, Path]
) -> None:
    url, database = app_behind_a_proxy
    await wrong_password_from(browser, url, "someone@example.com", forwarded_for="203.0.113.9")
    assert failures_by_address(database, "someone@example.com") == ["203.0.113.9"]
