"""How long group reports take (issue 21: every group's report under 1 s and the 6-group comparison
under 2 s at 1,000,000 customers and ~10,000,000 orders; issue 7's was 100,000 / 1,000,000).

    python -m bench.reports                                  # the 100,000-customer shop
    python -m bench.reports --customers 1000000 --orders 2000000
    python -m bench.reports --customers 1000000              # the demo's default: ~10M orders
    python -m bench.reports ... --old                        # also the queries before issue 21
    python -m bench.reports ... --copy /tmp/shop.sqlite3     # reuse (or make) a scratch copy of the shop

Each group's report and the comparison run on a scratch copy of the cached shop, for the last 12
months and the last 30 days. Opening the copy applies the migration that fills the kept totals
(timed once: it is what an existing shop pays on upgrading). The baseline, measured in the same
run, is one plain sqlite3 aggregate over the period's orders (revenue of all customers), the least
the old reports had to read; `--old` times the old queries (tests/unit/reports_oracle.py) too.
"""

import argparse
import asyncio
import contextlib
import shutil
import sqlite3
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.shops import SCALES, ShopSize, build_or_reuse, p95, scratch_copy, shop_at_scale
from bench.summary import record
from models.customer import Order
from models.group import CustomerGroup
from services.reports import Period, compare_groups, group_report, period_for
from services.storage.database import close_database, open_database

RUNS = 3
REPORT_TARGET_S, COMPARISON_TARGET_S = 1.0, 2.0


def _baseline(path: Path, period: Period) -> float:
    """The median of RUNS plain sqlite3 SUMs over the period's completed orders."""
    start = datetime(period.start.year, period.start.month, period.start.day, tzinfo=UTC)
    end = datetime(period.end.year, period.end.month, period.end.day, tzinfo=UTC)
    connection = sqlite3.connect(path)
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        connection.execute(
            "SELECT COUNT(*), SUM(total_cents) FROM \"order\" WHERE status = 'completed' AND placed_at >= ? "
            "AND placed_at < ?",
            (start.isoformat(sep=" "), end.isoformat(sep=" ")),
        ).fetchall()
        samples.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(samples)


async def _timed(call, runs: int = RUNS) -> tuple[list[float], object]:
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = await call()
        samples.append(time.perf_counter() - started)
    return samples, result


async def _period(
    path: Path, period: Period, groups: list[tuple[int, str]], old: bool, *, scale: str
) -> tuple[float, float]:
    """Print the period's table; the slowest report's p95 and the comparison's."""
    baseline = _baseline(path, period)
    print(
        f"\n{period.label} ({period.start} - {period.end}); baseline, one sqlite3 SUM over its orders: {baseline:.3f} s"
    )
    heading = f"   {'group':<20}{'members':>9}{'orders':>11}{'median s':>10}{'p95 s':>8}{'x SUM':>7}"
    print(heading + (f"{'old s':>9}" if old else ""))
    worst = 0.0
    if old:
        from tests.unit.reports_oracle import old_compare_groups, old_group_report
    for group_id, name in groups:
        samples, report = await _timed(lambda g=group_id: group_report(group_id=g, period=period))
        worst = max(worst, p95(samples))
        line = (
            f"   {name:<20}{report.members:>9,}{report.orders:>11,}{statistics.median(samples):>10.3f}"
            f"{p95(samples):>8.3f}{statistics.median(samples) / baseline:>7.2f}"
        )
        if old:
            before, was = await _timed(lambda g=group_id: old_group_report(group_id=g, period=period), runs=1)
            line += f"{before[0]:>9.3f}" + ("" if was == report else "  DIFFERS")
        print(line)
    ids = [gid for gid, _ in groups][:6]
    samples, comparison = await _timed(lambda: compare_groups(group_ids=ids, period=period))
    line = (
        f"   {len(ids)}-group comparison: median {statistics.median(samples):.3f} s, p95 {p95(samples):.3f} s "
        f"({statistics.median(samples) / baseline:.2f} x SUM)"
    )
    if old:
        before, was = await _timed(lambda: old_compare_groups(group_ids=ids, period=period), runs=1)
        line += f"; old {before[0]:.3f} s" + ("" if was == comparison else " DIFFERS")
    print(line)
    sum_is = "one sqlite3 SUM over the period's orders"
    record(
        "reports",
        f"slowest group report p95, {period.label}",
        worst,
        "s",
        scale=scale,
        baseline=baseline,
        baseline_is=sum_is,
        target=f"< {REPORT_TARGET_S:g} s",
        passed=worst < REPORT_TARGET_S,
    )
    record(
        "reports",
        f"{len(ids)}-group comparison p95, {period.label}",
        p95(samples),
        "s",
        scale=scale,
        baseline=baseline,
        baseline_is=sum_is,
        target=f"< {COMPARISON_TARGET_S:g} s",
        passed=p95(samples) < COMPARISON_TARGET_S,
    )
    return worst, p95(samples)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = shop_at_scale(SCALES[100_000])
    parser.add_argument("--customers", type=int, default=default.customers)
    parser.add_argument("--orders", type=lambda v: None if v == "default" else int(v), default=default.orders)
    parser.add_argument("--old", action="store_true", help="also time the queries before issue 21")
    parser.add_argument(
        "--copy",
        type=Path,
        help="a scratch copy of the shop to run on, made if missing and kept (at 1M, copying and filling the "
        "kept totals takes minutes); never the cached shop itself",
    )
    args = parser.parse_args()
    shop = ShopSize(customers=args.customers, orders=args.orders)
    build_or_reuse(shop)
    if args.copy:
        if args.copy.resolve() == shop.path.resolve():
            parser.error("--copy must not be the cached shop")
        if not args.copy.exists():
            with scratch_copy(shop) as path:
                shutil.copyfile(path, args.copy)
        copy = contextlib.nullcontext(args.copy)
    else:
        copy = scratch_copy(shop)
    with copy as path:
        started = time.perf_counter()
        await open_database(database_url=f"sqlite://{path}")
        print(f"Opened (migrations, the kept totals filled if new): {time.perf_counter() - started:.1f} s")
        try:
            groups = list(await CustomerGroup.all().order_by("id").values_list("id", "name"))
            print(f"Group reports on the {shop.label}")
            scale = f"{shop.customers:,} customers, {await Order.all().count():,} orders"
            verdicts = [await _period(path, period_for(key), groups, args.old, scale=scale) for key in ("12m", "30d")]
        finally:
            await close_database()
    worst = max(report for report, _ in verdicts)
    compared = max(comparison for _, comparison in verdicts)
    print("\nTargets (verdicts never fail the run)")
    print(
        f"   slowest report p95 {worst:.3f} s, target < {REPORT_TARGET_S} s: {'OK' if worst < REPORT_TARGET_S else 'NOT MET'}"
    )
    verdict = "OK" if compared < COMPARISON_TARGET_S else "NOT MET"
    print(f"   comparison p95 {compared:.3f} s, target < {COMPARISON_TARGET_S} s: {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
