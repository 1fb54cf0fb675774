"""Crash safety of the orders import: the process is killed (SIGKILL) while the orders of a large
file are being written; after a restart none of them is there, nor any of its lines or stats, and
importing the file again brings in all of it. The import runs in a child process
(tests/crash_child.py "orders"), killed by test_crash_safety's kill_midway."""

import shutil
from pathlib import Path

import pytest

from models.customer import Customer, Order, OrderLine
from services.imports.files import ImportKind, read_csv, suggest_mapping
from services.imports.orders import import_orders
from services.staff.actor import SystemActor
from services.storage.database import close_database, open_database
from tests.unit.test_crash_safety import SPILLED, add_customers, integrity, kill_midway

pytestmark = pytest.mark.sqlite_only  # SQLite's own crash recovery, read from its files

CUSTOMERS = 1_000
ORDERS = 30_000  # two rows each: a Shopify export of 60,000 rows
HEADER = (
    "Name,Email,Financial Status,Total,Currency,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku"
)


def orders_file(path: Path) -> None:
    with path.open("w") as out:
        out.write(HEADER + "\n")
        for i in range(1, ORDERS + 1):
            customer = 1 + i % CUSTOMERS
            out.write(f"#{i},c{customer}@example.com,paid,30.00,USD,2025-01-01 10:00:00,1,Mug,10.00,MUG-1\n")
            out.write(f"#{i},,,,,,2,Plate,10.00,PLA-1\n")


async def _stats() -> list[tuple]:
    return sorted(await Customer.all().values_list("id", "lifetime_cents", "order_count"))


async def test_an_orders_import_killed_halfway_leaves_no_order_line_or_stat_of_it(empty_template, tmp_path):
    database = tmp_path / "shop.sqlite3"
    shutil.copy(empty_template, database)
    add_customers(database, CUSTOMERS)
    url = f"sqlite://{database}"
    csv = tmp_path / "orders.csv"
    orders_file(csv)
    await open_database(database_url=url)
    try:
        stats_before = await _stats()
    finally:
        await close_database()

    # While the orders are inserted (the writing runs from 0.2 to 0.9; orders first, then lines).
    killed = kill_midway(
        ["orders", url, str(csv)],
        when=lambda lines: lines[-1].startswith("progress") and float(lines[-1].split()[1]) >= 0.4,
        database=database,
    )
    assert 0.4 <= float(killed.lines[-1].split()[1]) < 0.9, killed.lines  # still writing
    assert killed.wal_bytes > SPILLED, "uncommitted pages of the import were on disk"

    await open_database(database_url=url)  # the restart
    try:
        assert await integrity() == ["ok"]
        assert not await Order.exists()
        assert not await OrderLine.exists()
        assert await _stats() == stats_before

        file = await read_csv(data=csv.read_bytes())
        mapping = suggest_mapping(headers=file.headers, kind=ImportKind.ORDERS)
        result = await import_orders(file=file, mapping=mapping, actor=SystemActor("anna"), rerun_rules_after=False)
        assert (result.created, result.error_rows) == (ORDERS, 0)
        assert await OrderLine.all().count() == 2 * ORDERS
        assert {row[1:] for row in await _stats()} == {(ORDERS // CUSTOMERS * 3_000, ORDERS // CUSTOMERS)}
        assert await integrity() == ["ok"]
    finally:
        await close_database()
