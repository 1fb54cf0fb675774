"""How long group reports take (issue 7's acceptance: on a 100,000-customer, 1,000,000-order shop,
one group's report under 1 s and a 6-group comparison under 2 s server time).

Each group's report and the comparison run on a scratch copy of the cached shop, for the last 12
months (the longest common period). The baseline is one plain sqlite3 aggregate over the same
period's orders (revenue of all customers), the least any report must read.
"""

import asyncio
import sqlite3
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.shops import ShopSize, build_or_reuse, p95, scratch_copy
from models.group import CustomerGroup
from services.reports import compare_groups, group_report, period_for
from services.storage.database import close_database, open_database

SHOP = ShopSize(customers=100_000, orders=1_000_000)
RUNS = 5
REPORT_TARGET_S, COMPARISON_TARGET_S = 1.0, 2.0


def _baseline(path: Path, start: datetime, end: datetime) -> list[float]:
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
    return samples


async def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


async def main() -> None:
    build_or_reuse(SHOP)
    period = period_for("12m")
    with scratch_copy(SHOP) as path:
        await open_database(database_url=f"sqlite://{path}")
        try:
            groups = list(await CustomerGroup.all().order_by("id").values_list("id", "name"))
            print(f"\nGroup reports on the {SHOP.label} ({period.label}: {period.start} - {period.end})")
            print(f"   {'group':<28}{'members':>10}{'orders':>10}{'median s':>10}{'p95 s':>8}")
            worst = 0.0
            for group_id, name in groups:
                samples, report = [], None
                for _ in range(RUNS):
                    seconds, report = await _timed(lambda g=group_id: group_report(group_id=g, period=period))
                    samples.append(seconds)
                worst = max(worst, p95(samples))
                print(
                    f"   {name:<28}{report.members:>10,}{report.orders:>10,}"
                    f"{statistics.median(samples):>10.3f}{p95(samples):>8.3f}"
                )
            ids = [gid for gid, _ in groups][:6]
            comparisons = [(await _timed(lambda: compare_groups(group_ids=ids, period=period)))[0] for _ in range(RUNS)]
        finally:
            await close_database()
        start = datetime(period.start.year, period.start.month, period.start.day, tzinfo=UTC)
        end = datetime(period.end.year, period.end.month, period.end.day, tzinfo=UTC)
        baseline = statistics.median(_baseline(path, start, end))
    compared = statistics.median(comparisons)
    print(f"   {len(ids)}-group comparison: median {compared:.3f} s, p95 {p95(comparisons):.3f} s")
    print(f"   baseline: one sqlite3 SUM over the period's orders: {baseline:.3f} s")
    print("\nTargets (verdicts never fail the run)")
    print(
        f"   slowest report p95 {worst:.3f} s, target < {REPORT_TARGET_S} s: {'OK' if worst < REPORT_TARGET_S else 'NOT MET'}"
    )
    verdict = "OK" if p95(comparisons) < COMPARISON_TARGET_S else "NOT MET"
    print(f"   comparison p95 {p95(comparisons):.3f} s, target < {COMPARISON_TARGET_S} s: {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
