"""How fast a 100,000-row customer CSV imports: `python -m bench.imports`.

Builds (or reuses, from bench/.data/) the 100,000-customer demo shop and writes, in memory, a CSV
of 100,000 rows as an owner would bring them from another system: 2,000 of them are customers the
shop has (with a changed name: updates), 100 have a broken email (row errors), the rest are new;
half carry tags, and a third have no "Customer since" (they start today, so the New Customers rule
takes them in). On a throwaway copy of the shop, in-process, it times what the owner waits for:

1. reading the file (decode, sniff, parse), checking every row against the shop (the preview),
   importing (one transaction, batched writes, progress after each batch) and re-running the
   group rules so the new customers land in their groups;
2. importing the same file again (nothing changes the second time).

The baseline, measured in the same run on a second copy: the plain sqlite3 module inserting the
same new customers with one executemany in one transaction, i.e. the floor for the writes alone.

Prints figures and a verdict against the target (100,000 rows in under 30 s); an over-target
figure never fails the run, because benchmarks are not part of the pass/fail test run.
"""

import asyncio
import csv
import io
import os
import sqlite3
import time
from datetime import UTC, datetime

from bench.shops import ShopSize, build_or_reuse, scratch_copy
from bench.summary import record
from models.customer import Customer
from services.imports.customers import check_customers, import_customers
from services.imports.files import read_csv, suggest_mapping
from services.rules.runs import run_all_rules
from services.staff.actor import SystemActor
from services.storage.database import close_database, open_database

SHOP = ShopSize(customers=100_000, orders=1_000_000)
ROWS = 100_000
UPDATES = 2_000
BAD = 100
TARGET_S = 30.0
HEADER = ("Email", "Name", "Company", "Country", "Status", "Payment history", "Tags", "Customer since")
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "NL")


def build_csv(existing: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for i in range(ROWS):
        if i < UPDATES:
            email, name = existing[i], f"Renamed Customer {i}"
        elif i < UPDATES + BAD:
            email, name = f"broken-{i}-at-example.com", f"Broken {i}"
        else:
            email, name = f"imported.{i}@example.org", f"Imported Customer {i}"
        writer.writerow(
            (
                email,
                name,
                f"Company {i % 5_000}" if i % 3 else "",
                COUNTRIES[i % len(COUNTRIES)],
                "active" if i % 10 else "inactive",
                ("excellent", "good", "fair", "poor")[i % 4],
                "newsletter; b2b" if i % 2 else "",
                f"20{18 + i % 7}-0{1 + i % 9}-1{i % 10}" if i % 3 else "",  # empty: a customer from today
            )
        )
    return buffer.getvalue().encode()


def _seconds(started: float) -> float:
    return time.perf_counter() - started


async def measure(copy_url: str, data: bytes) -> dict[str, float | int]:
    await open_database(database_url=copy_url)
    try:
        figures: dict[str, float | int] = {"customers_before": await Customer.all().count()}
        started = time.perf_counter()
        file = await read_csv(data=data)
        figures["read_s"] = _seconds(started)
        mapping = suggest_mapping(headers=file.headers)

        started = time.perf_counter()
        check = await check_customers(file=file, mapping=mapping)
        figures["check_s"] = _seconds(started)
        figures.update(new=check.new, updated=check.updated, error_rows=check.error_rows)

        updates: list[float] = []
        started = time.perf_counter()
        result = await import_customers(
            file=file,
            mapping=mapping,
            all_or_nothing=False,
            actor=SystemActor("bench"),
            progress=lambda _share: updates.append(time.perf_counter()),
            rerun_rules=False,
        )
        figures["import_s"] = _seconds(started)
        gaps = [b - a for a, b in zip([started, *updates], updates, strict=False)]
        figures.update(created=result.created, progress_updates=len(updates), longest_gap_s=max(gaps, default=0.0))

        started = time.perf_counter()
        runs = await run_all_rules(actor=SystemActor("bench"))
        figures["rules_s"] = _seconds(started)
        figures["joined"] = sum(r.joined for r in runs)

        started = time.perf_counter()
        again = await import_customers(
            file=file,
            mapping=mapping,
            all_or_nothing=False,
            actor=SystemActor("bench"),
            progress=None,
            rerun_rules=False,
        )
        figures["again_s"] = _seconds(started)
        figures.update(again_created=again.created, again_updated=again.updated)
        figures["customers_after"] = await Customer.all().count()
        return figures
    finally:
        await close_database()


def sqlite_baseline(path: str, data: bytes) -> float:
    """The same new customers with the plain sqlite3 module: one executemany, one transaction."""
    rows = list(csv.reader(io.StringIO(data.decode())))[1 + UPDATES + BAD :]
    now = datetime.now(UTC).isoformat(" ")
    values = [(r[1], r[2], r[0], r[3], r[4], r[5], "{}", now, 0, 0) for r in rows]
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO customer (name, company, email, country, status, payment_rating, metadata, created_at, "
            "lifetime_cents, order_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        connection.execute("COMMIT")
        return _seconds(started)
    finally:
        connection.close()


def _existing_emails(path: str) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [r[0] for r in connection.execute("SELECT email FROM customer ORDER BY id LIMIT ?", (UPDATES,))]


def report(f: dict[str, float | int], baseline_s: float, load: tuple[float, float]) -> None:
    total = f["read_s"] + f["check_s"] + f["import_s"] + f["rules_s"]
    print()
    print(f"Import of {ROWS:,} CSV rows into a copy of the {SHOP.label} ({f['customers_before']:,} customers)")
    print(f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} at the start, {load[1]:.1f} at the end.")
    print(f"   rows: {f['new']:,} new, {f['updated']:,} updates, {f['error_rows']:,} with errors (reported, skipped)")
    print(f"   read_csv (decode, sniff, parse)          {f['read_s']:>7.2f} s")
    print(f"   check_customers (every row + preview)    {f['check_s']:>7.2f} s")
    print(f"   import_customers (one transaction)       {f['import_s']:>7.2f} s   {f['created']:,} created")
    print(f"      progress: {f['progress_updates']} updates, longest wait between two {f['longest_gap_s']:.2f} s")
    print(f"   run_all_rules afterwards                 {f['rules_s']:>7.2f} s   {f['joined']:,} joined groups")
    print(f"   total the owner waits                    {total:>7.2f} s")
    print(
        f"   same file again                          {f['again_s']:>7.2f} s   "
        f"{f['again_created']:,} created, {f['again_updated']:,} updated"
    )
    print(f"   baseline: sqlite3 executemany of the {f['new']:,} new rows {baseline_s:.2f} s")
    print(f"   import_customers / sqlite3 baseline      {f['import_s'] / baseline_s:>7.1f}x")
    print(f"   customers after: {f['customers_after']:,}")
    print()
    verdict = "OK" if total < TARGET_S else "over target"
    print(f"Target: {ROWS:,} rows read, checked, imported and grouped in < {TARGET_S:.0f} s: {total:.1f} s, {verdict}")
    scale = f"{ROWS:,} CSV rows into {f['customers_before']:,} customers"
    record(
        "imports",
        "customer import, read to rules",
        total,
        "s",
        scale=scale,
        target=f"< {TARGET_S:.0f} s",
        passed=total < TARGET_S,
    )
    record(
        "imports",
        "import_customers (one transaction)",
        f["import_s"],
        "s",
        scale=scale,
        baseline=baseline_s,
        baseline_is="sqlite3 executemany",
    )


def main() -> None:
    load = os.getloadavg()[0]
    build_or_reuse(SHOP)
    with scratch_copy(SHOP) as copy, scratch_copy(SHOP) as baseline_copy:
        data = build_csv(_existing_emails(str(copy)))
        print(f"CSV: {ROWS:,} rows, {len(data) / 1e6:.1f} MB")
        figures = asyncio.run(measure(f"sqlite://{copy}", data))
        baseline_s = sqlite_baseline(str(baseline_copy), data)
    report(figures, baseline_s, (load, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
