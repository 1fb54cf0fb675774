"""How fast the groups overview and a group's page are on a big shop: `python -m bench.overview`.

Builds (or reuses, from bench/.data/) a 100,000-customer / 1,000,000-order demo shop with the
`customer-groups demo` command, and the default 1,200-customer shop as a baseline measured in the
same run. For each shop it times the services behind the two pages in-process, then starts the app
(`python app.py`) on a free loopback port and times GET /groups and GET /groups/<largest group>.

Prints figures and a verdict against the target; over-target figures never fail the run, because
benchmarks are not part of the pass/fail test run and machines are noisy.
"""

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.shops import SCALES, ShopSize, build_or_reuse, ensure_bench_owner, p95, shop_at_scale, signed_in_cookies
from bench.summary import record
from services.groups.group import GroupRow, list_groups
from services.membership.members import list_members
from services.storage.database import close_database, open_database
from tests.app_process import running_app

TARGET_MS = 300.0  # server time per page on the big shop
WARM_UP = 5
TIMED = 30
START_TIMEOUT = 120.0  # seconds; the first start on a shop may apply new migrations to a million orders


BASELINE = ShopSize(customers=1_200, orders=None)
BIG = shop_at_scale(SCALES[100_000])


@dataclass(frozen=True)
class Measurement:
    largest: GroupRow
    figures: dict[str, list[float]]  # figure name -> timed samples in ms


async def _timed_async(call: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(WARM_UP):
        await call()
    samples = []
    for _ in range(TIMED):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def measure_services(shop: ShopSize) -> tuple[GroupRow, dict[str, list[float]]]:
    """The largest group, and the time of the service calls behind the two pages."""
    await open_database(database_url=f"sqlite://{shop.path}")
    try:
        await ensure_bench_owner()
        largest = (await list_groups(sort="members", descending=True)).rows[0]
        return largest, {
            "list_groups()": await _timed_async(list_groups),
            "list_members(largest, page=1)": await _timed_async(lambda: list_members(group_id=largest.id, page=1)),
        }
    finally:
        await close_database()


@contextmanager
def serving(shop: ShopSize) -> Iterator[httpx.Client]:
    """The app serving `shop` on a free loopback port, and a client for it; stopped on the way out."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = {"DATABASE_URL": f"sqlite://{shop.path}", "DEMO_CUSTOMERS": "0"}
        with (
            running_app(data_dir=Path(data_dir), settings=settings, start_timeout=START_TIMEOUT) as url,
            httpx.Client(base_url=url, timeout=30, cookies=signed_in_cookies(url)) as client,
        ):
            yield client


def _timed_get(client: httpx.Client, path: str, expect: str) -> list[float]:
    for _ in range(WARM_UP):
        response = client.get(path)
        response.raise_for_status()
    if expect not in response.text:  # a fast "not found" page would be a misleading figure
        raise RuntimeError(f"GET {path} did not show {expect!r}")
    samples = []
    for _ in range(TIMED):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(shop: ShopSize) -> Measurement:
    largest, services = asyncio.run(measure_services(shop))
    with serving(shop) as client:
        pages = {
            "GET /groups": _timed_get(client, "/groups", "Total Customers"),
            "GET /groups/<largest>": _timed_get(client, f"/groups/{largest.id}", largest.name),
        }
    return Measurement(largest=largest, figures=pages | services)


def report(baseline: Measurement, big: Measurement) -> None:
    print()
    print(f"Server time in ms, {WARM_UP} warm-up + {TIMED} timed calls each; pages over loopback HTTP.")
    print(f"Largest group: {baseline.largest.name} ({baseline.largest.members:,} members) on the baseline,")
    print(f"               {big.largest.name} ({big.largest.members:,} members) on the big shop.")
    print(f"Target: under {TARGET_MS:.0f} ms on the {BIG.label}.")
    print()
    print(f"{'figure':<40}{BASELINE.label:>22}{BIG.label:>24}{'ratio':>8}  verdict")
    for name, samples in big.figures.items():
        for statistic, compute in (("median", statistics.median), ("p95", p95)):
            base, value = compute(baseline.figures[name]), compute(samples)
            verdict = "PASS" if value < TARGET_MS else "over target"
            print(f"{name + ' ' + statistic:<40}{base:>22.1f}{value:>24.1f}{value / base:>7.1f}x  {verdict}")
            if statistic == "p95":
                record(
                    "overview",
                    f"{name} p95",
                    value,
                    "ms",
                    scale=BIG.label,
                    baseline=base,
                    baseline_is=BASELINE.label,
                    target=f"< {TARGET_MS:.0f} ms",
                    passed=value < TARGET_MS,
                )


def main() -> None:
    build_or_reuse(BASELINE)
    build_or_reuse(BIG)
    report(measure(BASELINE), measure(BIG))


if __name__ == "__main__":
    main()
