"""Demo shops for the benchmarks, built once with the `customer-groups demo` command and cached in
bench/.data/, plus the small helpers every benchmark shares."""

import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.app_process import app_environment

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".data"
SEED = 2024


@dataclass(frozen=True)
class ShopSize:
    customers: int
    orders: int | None  # None: the demo's default, about 12 per customer

    @property
    def label(self) -> str:
        return f"{self.customers:,}-customer shop"

    @property
    def path(self) -> Path:
        orders = "default" if self.orders is None else self.orders
        return CACHE / f"shop-{self.customers}-customers-{orders}-orders-seed-{SEED}.sqlite3"

    @property
    def url(self) -> str:
        return f"sqlite://{self.path}"


# `make bench BENCH_CUSTOMERS=100000` (or 1000000): the shop every benchmark whose figures grow with
# the shop runs on, so one run gives one table at one scale. Unset, each keeps its own default.
SCALE_VARIABLE = "BENCH_CUSTOMERS"
SCALES = {
    100_000: ShopSize(customers=100_000, orders=1_000_000),
    1_000_000: ShopSize(customers=1_000_000, orders=2_000_000),
}


def shop_at_scale(default: ShopSize) -> ShopSize:
    """The shop BENCH_CUSTOMERS names (one of SCALES), else `default`."""
    chosen = os.environ.get(SCALE_VARIABLE, "").replace("_", "").replace(",", "")
    if not chosen:
        return default
    if not chosen.isdigit() or int(chosen) not in SCALES:
        sizes = " or ".join(str(size) for size in SCALES)
        raise SystemExit(f"{SCALE_VARIABLE}={os.environ[SCALE_VARIABLE]}: the benchmarks run at {sizes} customers.")
    return SCALES[int(chosen)]


def build_or_reuse(shop: ShopSize) -> None:
    if shop.path.exists():
        print(f"Reusing the {shop.label}: {shop.path.relative_to(ROOT)}")
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    # Built under another name and renamed when complete, so an interrupted build is never reused.
    # Closing the database checkpoints SQLite's write-ahead log, so the one file holds everything.
    partial = shop.path.with_name(shop.path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    command = ["demo", "--customers", str(shop.customers), "--seed", str(SEED), "--database-url", f"sqlite://{partial}"]
    if shop.orders is not None:
        command += ["--orders", str(shop.orders)]
    print(f"Building the {shop.label}: customer-groups {' '.join(command)}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as data_dir:
        # app.main is the `customer-groups` console script; -c spares us finding the script.
        subprocess.run(
            [sys.executable, "-c", "import app; app.main()", *command],
            cwd=ROOT,
            env=app_environment(Path(data_dir)),
            check=True,
        )
    partial.replace(shop.path)
    print(f"Built the {shop.label} in {time.perf_counter() - started:.1f} s")


@contextmanager
def scratch_copy(shop: ShopSize) -> Iterator[Path]:
    """A throwaway copy of the shop's database file, for benchmarks that write; removed afterwards.

    Only the main file is copied, so a write-ahead log left beside the cached shop (a run that was
    killed) is folded into it first; otherwise the copy would miss its last transactions."""
    if Path(f"{shop.path}-wal").exists():
        with sqlite3.connect(shop.path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
    with tempfile.TemporaryDirectory(prefix="customer-groups-bench-") as directory:
        copy = Path(directory) / shop.path.name
        shutil.copyfile(shop.path, copy)
        yield copy


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


BENCH_EMAIL, BENCH_PASSWORD = "bench@example.com", "bench password 123"


async def ensure_bench_owner() -> None:
    """An owner the benchmarks sign in as (call with the shop's database open)."""
    from services.staff.accounts import create_first_owner, has_staff

    if not await has_staff():
        await create_first_owner(email=BENCH_EMAIL, name="Bench", password=BENCH_PASSWORD)


def signed_in_cookies(url: str) -> dict[str, str]:
    """Sign in through the real page in Chromium (NiceGUI signs in over its websocket, which plain
    HTTP cannot do) and hand back the session cookies for a plain HTTP client."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{url}/login")
        page.get_by_label("Email").fill(BENCH_EMAIL)
        page.get_by_label("Password", exact=True).fill(BENCH_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{url}/groups")
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        browser.close()
    return cookies
