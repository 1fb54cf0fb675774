"""How fast a shop's orders export imports: `python -m bench.orders [--rows 1000000]`.

Builds (or reuses, from bench/.data/) the 100,000-customer demo shop and writes, in memory, a
Shopify orders export of --rows rows (two line items an order, so half as many orders) for the
shop's customers: most paid, some refunded, partly refunded or pending. The items come from a
catalogue of 400 products at their prices, one to three of each, as a shop's export lists them. On a throwaway copy of the
shop, in-process, it times what the owner waits for:

1. reading the file, checking every row against the shop (the preview), and importing it: one
   transaction for orders, lines and the purchase stats of every customer concerned (set-based),
   then the group rules re-run once;
2. importing the same file again (nothing changes the second time).

The baseline, measured in the same run on a second copy: the plain sqlite3 module inserting the
same orders and lines (customer ids and values already worked out) with executemany in one
transaction, i.e. the floor for the writes alone.

Prints figures and a verdict against the target (1,000,000 rows under 90 s and under 3x the
baseline); an over-target figure never fails anything, because benchmarks are not pass/fail tests.
"""

import argparse
import asyncio
import csv
import io
import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta

from bench.shops import ShopSize, build_or_reuse, scratch_copy
from bench.summary import record
from models.customer import Order
from services.imports.files import ImportKind, read_csv, suggest_mapping
from services.imports.orders import check_orders, import_orders
from services.orders import stats
from services.rules.runs import reevaluate_customer, run_all_rules
from services.staff.actor import SystemActor
from services.storage.database import close_database, open_database

SHOP = ShopSize(customers=100_000, orders=1_000_000)
ROWS = 1_000_000
TARGET_S = 90.0
TARGET_RATIO = 3.0
HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Total,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Cancelled at,Refunded Amount"
)
STATUSES = ("paid",) * 17 + ("refunded", "partially_refunded", "pending")
START = datetime(2024, 1, 1, tzinfo=UTC)
ACTOR = SystemActor("bench")


# (sku, name, unit price in cents): what the shop sells.
CATALOGUE = [(f"SKU-{k:04d}", f"Product {k}", 500 + (k * 7_919) % 40_000) for k in range(400)]


def _order(i: int, emails: list[str]) -> tuple:
    """Order i: (number, email, status, placed_at, its two lines (sku, name, quantity, unit cents),
    refunded cents)."""
    status = STATUSES[i % len(STATUSES)]
    first, second = CATALOGUE[(i * 37) % len(CATALOGUE)], CATALOGUE[(i * 11 + 7) % len(CATALOGUE)]
    lines = ((*first[:2], 1 + i % 3, first[2]), (*second[:2], 1 + (i // 3) % 2, second[2]))
    total = sum(quantity * cents for _sku, _name, quantity, cents in lines)
    second_cents = lines[1][2] * lines[1][3]
    refunded = second_cents if status == "partially_refunded" else (total if status == "refunded" else 0)
    placed = START + timedelta(minutes=i)
    return f"#{100_000 + i}", emails[(i * 7919) % len(emails)], status, placed, lines, refunded


def build_csv(rows: int, emails: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(HEADER + "\n")
    for i in range(rows // 2):
        number, email, status, placed, lines, refunded = _order(i, emails)
        total = f"{sum(quantity * cents for _sku, _name, quantity, cents in lines) / 100:.2f}"
        order = (number, email, status, "", "", "USD", total, total, f"{placed:%Y-%m-%d %H:%M:%S} +0000")
        for k, (sku, name, quantity, cents) in enumerate(lines):
            item = (quantity, name, f"{cents / 100:.2f}", sku)
            if k == 0:  # the order's own columns on its first row only, as Shopify writes them
                writer.writerow((*order, *item, "Billing Name", "", f"{refunded / 100:.2f}"))
            else:
                writer.writerow((number, "", "", "", "", "", "", "", "", *item, "", "", ""))
    return buffer.getvalue().encode()


def _seconds(started: float) -> float:
    return time.perf_counter() - started


async def measure(url: str, data: bytes) -> dict[str, float | int]:
    await open_database(database_url=url)
    try:
        figures: dict[str, float | int] = {"orders_before": await Order.all().count()}
        cpu = time.process_time()
        started = time.perf_counter()
        file = await read_csv(data=data, max_bytes=len(data))
        figures["read_s"] = _seconds(started)
        mapping = suggest_mapping(headers=file.headers, kind=ImportKind.ORDERS)

        started = time.perf_counter()
        check = await check_orders(file=file, mapping=mapping)
        figures["check_s"] = _seconds(started)
        figures.update(orders=check.orders, new=check.new, error_rows=check.error_rows)

        started = time.perf_counter()
        result = await import_orders(file=file, mapping=mapping, actor=ACTOR, rerun_rules_after=False)
        figures["import_s"] = _seconds(started)
        figures["created"] = result.created

        started = time.perf_counter()
        runs = await run_all_rules(actor=ACTOR)
        figures["rules_s"] = _seconds(started)
        figures["cpu_s"] = time.process_time() - cpu  # every thread of the process: the SQLite one too
        figures["joined"], figures["left"] = sum(r.joined for r in runs), sum(r.left for r in runs)

        # What the per-customer path costs, for the FEW_CUSTOMERS threshold (services.orders.stats).
        started = time.perf_counter()
        for customer_id in range(1, 21):
            await reevaluate_customer(customer_id=customer_id, actor=ACTOR)
        figures["one_customer_s"] = _seconds(started) / 20

        started = time.perf_counter()
        again = await import_orders(file=file, mapping=mapping, actor=ACTOR)
        figures["again_s"] = _seconds(started)
        figures.update(again_created=again.created, again_updated=again.updated)
        figures["orders_after"] = await Order.all().count()
        return figures
    finally:
        await close_database()


def sqlite_baseline(path: str, rows: int, emails: list[str]) -> tuple[float, float]:
    """The same orders and lines with the plain sqlite3 module: executemany, one transaction."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        ids = dict(connection.execute("SELECT email, id FROM customer"))
        orders, lines = [], []
        for i in range(rows // 2):
            number, email, status, placed, items, refunded = _order(i, emails)
            state = {"paid": "completed", "partially_refunded": "completed"}.get(status, status)
            total = sum(quantity * cents for _sku, _name, quantity, cents in items)
            total -= refunded if state == "completed" else 0
            orders.append((number, ids[email], placed.isoformat(" "), total, "USD", state))
            lines += [(number, *item) for item in items]
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        cpu = time.process_time()
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            'INSERT INTO "order" (number, customer_id, placed_at, total_cents, currency, status) VALUES (?, ?, ?, ?, ?, ?)',
            orders,
        )
        connection.executemany(
            "INSERT INTO order_line (order_id, sku, name, quantity, price_cents) "
            'VALUES ((SELECT id FROM "order" WHERE number = ?), ?, ?, ?, ?)',
            lines,
        )
        connection.execute("COMMIT")
        return _seconds(started), time.process_time() - cpu
    finally:
        connection.close()


def _emails(path: str) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [r[0] for r in connection.execute("SELECT email FROM customer ORDER BY id")]


def report(rows: int, f: dict[str, float | int], baseline: tuple[float, float], load: tuple[float, float]) -> None:
    baseline_s, baseline_cpu = baseline
    total = f["read_s"] + f["check_s"] + f["import_s"] + f["rules_s"]
    print()
    print(f"Import of {rows:,} Shopify order rows into a copy of the {SHOP.label} ({f['orders_before']:,} orders)")
    print(f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} at the start, {load[1]:.1f} at the end.")
    print(f"   orders in the file: {f['orders']:,} ({f['new']:,} new), {f['error_rows']:,} rows with errors")
    print(f"   read_csv (decode, sniff, parse)          {f['read_s']:>7.2f} s")
    print(f"   check_orders (every row + preview)       {f['check_s']:>7.2f} s")
    print(f"   import_orders (one transaction, stats)   {f['import_s']:>7.2f} s   {f['created']:,} created")
    print(
        f"   run_all_rules afterwards                 {f['rules_s']:>7.2f} s   "
        f"{f['joined']:,} joined, {f['left']:,} left"
    )
    print(f"   total the owner waits                    {total:>7.2f} s")
    print(
        f"   same file again (rules included)         {f['again_s']:>7.2f} s   "
        f"{f['again_created']:,} created, {f['again_updated']:,} updated"
    )
    print(
        f"   one customer re-checked by rule          {f['one_customer_s'] * 1000:>7.1f} ms   "
        f"(a full run = {f['rules_s'] / f['one_customer_s']:.0f} customers; the import switches past "
        f"{stats.FEW_CUSTOMERS})"
    )
    print(f"   baseline: sqlite3 executemany of the same orders and lines {baseline_s:.2f} s")
    print(f"   import (read to rules) / sqlite3 baseline {total / baseline_s:>6.1f}x")
    # On a shared machine other work stretches wall time unevenly; CPU time much less.
    print(
        f"   CPU time, read to rules {f['cpu_s']:.2f} s / baseline {baseline_cpu:.2f} s = "
        f"{f['cpu_s'] / baseline_cpu:.1f}x"
    )
    print(f"   orders after: {f['orders_after']:,}")
    print()
    verdict = "OK" if total < TARGET_S * rows / ROWS and total < TARGET_RATIO * baseline_s else "over target"
    record(
        "orders",
        "orders import, read to rules",
        total,
        "s",
        scale=f"{rows:,} order rows into {f['orders_before']:,} orders",
        baseline=baseline_s,
        baseline_is="sqlite3 executemany",
        target=f"< {TARGET_S * rows / ROWS:.0f} s and < {TARGET_RATIO:.0f}x",
        passed=total < TARGET_S * rows / ROWS and total < TARGET_RATIO * baseline_s,
    )
    print(
        f"Target: {ROWS:,} rows in < {TARGET_S:.0f} s (scaled: {TARGET_S * rows / ROWS:.0f} s) and < "
        f"{TARGET_RATIO:.0f}x the baseline: {total:.1f} s, {total / baseline_s:.1f}x, {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS, help="order rows in the file (two an order)")
    rows = parser.parse_args().rows
    load = os.getloadavg()[0]
    build_or_reuse(SHOP)
    with scratch_copy(SHOP) as copy, scratch_copy(SHOP) as baseline_copy:
        emails = _emails(str(copy))
        data = build_csv(rows, emails)
        print(f"CSV: {rows:,} rows, {len(data) / 1e6:.1f} MB")
        figures = asyncio.run(measure(f"sqlite://{copy}", data))
        baseline = sqlite_baseline(str(baseline_copy), rows, emails)
    report(rows, figures, baseline, (load, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
