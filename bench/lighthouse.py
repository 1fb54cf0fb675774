"""Lighthouse's accessibility score of the pages people use most: `python -m bench.lighthouse`.

The issue's target is at least 95 on each (issue 20). The e2e suite holds the line with axe-core
(tests/e2e/test_accessibility.py: no critical or serious violation); Lighthouse stays out of it,
as its npm download is too slow for CI, so it is measured here.

The app runs as the e2e tests run it: `python app.py` on a free loopback port with a scratch
200-customer demo shop; the first visit creates the owner. bench/lighthouse.mjs (Lighthouse's
user-flow API driving Chromium through puppeteer-core) signs in, opens each page, clicks where a
state needs clicks (a dialog, "Edit rule"), and takes a snapshot at a laptop's 1366x768 and a
phone's 390x844. Prints one table of page -> score, then the audits that failed, with their weight
in the score (0: reported, not counted) and the first elements.

Needs `npm` and `node` (20+); Lighthouse and puppeteer-core are installed into bench/.lighthouse/
(git-ignored) on the first run. Chromium: CHROMIUM_PATH, else `chromium` on the PATH.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.app_process import AppDidNotStart, running_app
from tests.staff import OWNER_EMAIL, OWNER_NAME, OWNER_PASSWORD

BENCH = Path(__file__).resolve().parent
MODULES = BENCH / ".lighthouse"
SCRIPT = BENCH / "lighthouse.mjs"
PACKAGES = ("lighthouse@12", "puppeteer-core@24")
DEMO_CUSTOMERS = 200
START_TIMEOUT = 120.0
TARGET = 95

# Lighthouse's weight of each failed audit, for the report (config/default-config.js).
WEIGHTS_SCRIPT = """
const {createRequire} = await import('node:module');
const {pathToFileURL} = await import('node:url');
const require = createRequire(process.argv[1] + '/');
const config = (await import(pathToFileURL(require.resolve('lighthouse')).href)).defaultConfig;
const refs = config.categories.accessibility.auditRefs;
process.stdout.write(JSON.stringify(Object.fromEntries(refs.map(ref => [ref.id, ref.weight]))));
"""


@dataclass(frozen=True)
class Step:
    """A page state: opened at `path`, ready once `shows` is on it; then `clicks` (buttons, by
    accessible name) and ready again once `then_shows` is on it."""

    name: str
    path: str
    shows: str
    clicks: list[str] = field(default_factory=list)
    then_shows: str | None = None


def install() -> Path:
    """Lighthouse and puppeteer-core in bench/.lighthouse/node_modules (once)."""
    modules = MODULES / "node_modules"
    if all((modules / package.split("@")[0] / "package.json").exists() for package in PACKAGES):
        return modules
    MODULES.mkdir(exist_ok=True)
    (MODULES / "package.json").write_text('{"private": true}\n')
    print(f"Installing {', '.join(PACKAGES)} into {MODULES.relative_to(BENCH.parent)} ...", flush=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", *PACKAGES], cwd=MODULES, check=True)
    return modules


def chromium() -> str:
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        sys.exit("No Chromium: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH.")
    return found


def steps(database: Path) -> list[Step]:
    """The pages of issue 20's acceptance, on the demo shop's groups and first customer."""
    with sqlite3.connect(database) as connection:

        def one(sql: str) -> int:
            return connection.execute(sql).fetchone()[0]

        group = {
            code: one(f"SELECT id FROM customer_group WHERE code = '{code}'") for code in ("VIP", "GOLD", "WHOLESALE")
        }
        customer = one(
            "SELECT c.id FROM customer c JOIN membership m ON m.customer_id = c.id "
            "JOIN customer_group g ON g.id = m.group_id AND g.code = 'VIP-PLATINUM' ORDER BY c.id LIMIT 1"
        )
        product = one("SELECT id FROM product ORDER BY sku LIMIT 1")
    vip = f"/groups/{group['VIP']}"
    return [
        Step("Overview /groups", "/groups", "VIP Customers"),
        Step(f"Group page {vip}", vip, "Add Customers"),
        *(
            Step(f"  ?tab={tab}", f"{vip}?tab={tab}", "Add Customers")
            for tab in ("overview", "members", "rule", "history")
        ),
        Step(
            "Rules step (Edit rule)", f"/groups/{group['GOLD']}?tab=rule", "Edit rule", ["Edit rule"], "Add Condition"
        ),
        Step(
            "Add Customers dialog",
            f"/groups/{group['WHOLESALE']}?tab=members",
            "Add Customers",
            ["Add Customers"],
            "Add Customers to Group: Wholesale",
        ),
        Step(f"Customer page /customers/{customer}", f"/customers/{customer}", "Benefits"),
        Step("Price check /price-check", "/price-check", "Sample order"),
        Step("  with a customer and product", f"/price-check?customer={customer}&product={product}", "Prices for "),
    ]


def measure(url: str, pages: list[Step], modules: Path) -> list[dict]:
    owner = {"name": OWNER_NAME, "email": OWNER_EMAIL, "password": OWNER_PASSWORD}
    job = json.dumps({"owner": owner, "pages": [asdict(step) for step in pages]})
    command = ["node", str(SCRIPT), str(modules), url, job, chromium()]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"bench/lighthouse.mjs failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def weights(modules: Path) -> dict[str, int]:
    done = subprocess.run(
        ["node", "--input-type=module", "-e", WEIGHTS_SCRIPT, str(modules)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def report(results: list[dict], pages: list[Step], weight: dict[str, int]) -> None:
    scores = {(r["page"], r["width"]): r["score"] for r in results}
    width = max(len(step.name) for step in pages)
    print(f"\nLighthouse accessibility (target: at least {TARGET})\n")
    print(f"{'page':<{width}}  laptop  phone")
    for step in pages:
        laptop, phone = scores[(step.name, "laptop")], scores[(step.name, "phone")]
        flag = "" if min(laptop, phone) >= TARGET else "  below target"
        print(f"{step.name:<{width}}  {laptop:>6}  {phone:>5}{flag}")
    failed = [r for r in results if r["failing"]]
    if failed:
        print("\nFailed audits (weight in the score; 0: reported, not counted):")
    for result in failed:
        print(f"  {result['page'].strip()} ({result['width']}):")
        for audit in result["failing"]:
            print(f"    {audit['id']} (weight {weight.get(audit['id'], '?')}): {audit['title']}")
            for node in audit["nodes"][:2]:
                print(f"      {node['snippet'][:150]}")
                if node["explanation"]:
                    print(f"        {' | '.join(node['explanation'].splitlines())[:300]}")


def main() -> None:
    modules = install()
    with tempfile.TemporaryDirectory(prefix="customer-groups-lighthouse-") as directory:
        data = Path(directory)
        settings = {"DATABASE_URL": f"sqlite://{data / 'shop.sqlite3'}", "DEMO_CUSTOMERS": str(DEMO_CUSTOMERS)}
        print(f"Starting the app on a {DEMO_CUSTOMERS}-customer demo shop ...", flush=True)
        try:
            with running_app(data_dir=data, settings=settings, start_timeout=START_TIMEOUT) as url:
                pages = steps(data / "shop.sqlite3")
                print(f"Measuring {len(pages)} pages at two widths (a minute or two) ...", flush=True)
                results = measure(url, pages, modules)
        except AppDidNotStart as error:
            sys.exit(str(error))
    report(results, pages, weights(modules))


if __name__ == "__main__":
    main()
