"""The cached demo shops on PostgreSQL, for benchmarks run with DATABASE_URL naming a server
(`bench/postgres COMMAND` starts one and keeps its data in bench/.data/).

Each SQLite shop (bench/shops.py) is copied once into a database of its own on that server,
`bench_shop_<customers>_<orders>`: the schema from our migrations, then every table's rows read
from the SQLite file (opened read-only) and written with COPY. The same rows as the SQLite shop,
so figures on the two databases compare the same shop. Copying beats building the shop again with
`customer-groups demo --database-url postgres://...`: 8.3 s against 16.2 s for the 10,000-customer
shop (load average 6-7); the 100,000-customer shop (1.4M rows) copies in 22 s, the 1,000,000-
customer one (6.5M rows) in 129 s. And the demo dates its orders from the day it runs, so a second
build is not the same shop.

Benchmarks that write use `scratch_database`, a copy made with CREATE DATABASE ... TEMPLATE and
dropped afterwards, as they use bench.shops.scratch_copy on SQLite.
"""

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from bench.shops import ShopSize
from services.storage.database import close_database, open_database

BATCH = 50_000
SKIPPED = {"tortoise_migrations"}  # each database's own: its migrations made its schema


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.split("://", 1)[0] in ("postgres", "postgresql", "asyncpg")


def database_url(server: str, name: str) -> str:
    return urlparse(server)._replace(path=f"/{name}").geturl()


def dsn(url: str) -> str:
    """asyncpg wants postgres:// or postgresql://; Tortoise also takes asyncpg://."""
    return "postgresql://" + url.split("://", 1)[1]


def database_name(shop: ShopSize) -> str:
    return f"bench_shop_{shop.customers}_{shop.orders or 'default'}"


async def _admin(server: str, *statements: str) -> list:
    import asyncpg

    connection = await asyncpg.connect(dsn(server))
    try:
        results = []
        for statement in statements:
            results.append(await connection.fetch(statement))
        return results
    finally:
        await connection.close()


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _converter(pg_type: str) -> Callable[[Any], Any]:
    """SQLite's stored value as asyncpg's COPY wants it for a column of `pg_type`."""
    match pg_type:
        case "timestamp with time zone":
            return _timestamp
        case "timestamp without time zone":
            return lambda v: None if v is None else (datetime.fromisoformat(v) if isinstance(v, str) else v)
        case "date":
            return lambda v: None if v is None else (date.fromisoformat(v) if isinstance(v, str) else v)
        case "boolean":
            return lambda v: None if v is None else bool(v)
        case "numeric":
            return lambda v: None if v is None else Decimal(str(v))
        case "uuid":
            return lambda v: None if v is None else uuid.UUID(str(v))
        case "smallint" | "integer" | "bigint":
            return lambda v: None if v is None else int(v)
        case "double precision" | "real":
            return lambda v: None if v is None else float(v)
        case "bytea":
            return lambda v: None if v is None else bytes(v)
    return lambda v: None if v is None else str(v)


async def _copy_tables(source: sqlite3.Connection, url: str) -> dict[str, int]:
    import asyncpg

    connection = await asyncpg.connect(dsn(url))
    copied: dict[str, int] = {}
    try:
        # Foreign keys are the SQLite shop's, already consistent: no per-row check while copying.
        await connection.execute("SET session_replication_role = replica")
        columns_of: dict[str, list[tuple[str, str]]] = {}
        for row in await connection.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ):
            columns_of.setdefault(row["table_name"], []).append((row["column_name"], row["data_type"]))
        in_sqlite = {name for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, columns in columns_of.items():
            if table in SKIPPED or table not in in_sqlite:
                continue
            have = {row[1] for row in source.execute(f'PRAGMA table_info("{table}")')}
            columns = [(name, kind) for name, kind in columns if name in have]
            names = [name for name, _ in columns]
            convert = [_converter(kind) for _, kind in columns]
            quoted = ", ".join(f'"{name}"' for name in names)
            cursor = source.execute(f'SELECT {quoted} FROM "{table}"')
            total = 0
            while rows := cursor.fetchmany(BATCH):
                records = [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in rows]
                await connection.copy_records_to_table(table, records=records, columns=names)
                total += len(records)
            copied[table] = total
            if "id" in names:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false) '
                    f"WHERE pg_get_serial_sequence('\"{table}\"', 'id') IS NOT NULL"
                )
        await connection.execute("SET session_replication_role = origin")
        # As a live server's autovacuum would have: statistics, and the visibility map that lets
        # index-only scans skip the table.
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return copied


async def _load(shop: ShopSize, server: str) -> str:
    name = database_name(shop)
    partial = f"{name}_partial"
    [exists] = await _admin(server, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists:
        print(f"Reusing the {shop.label} on PostgreSQL: database {name}")
        return database_url(server, name)
    print(f"Copying the {shop.label} into PostgreSQL (database {name}) ...")
    started = time.perf_counter()
    await _admin(server, f'DROP DATABASE IF EXISTS "{partial}"', f'CREATE DATABASE "{partial}"')
    url = database_url(server, partial)
    await open_database(database_url=url)  # our migrations make the schema
    await close_database()
    source = sqlite3.connect(f"file:{shop.path}?mode=ro", uri=True)
    try:
        copied = await _copy_tables(source, url)
    finally:
        source.close()
    # Renamed when complete, so an interrupted copy is never reused.
    await _admin(server, f'ALTER DATABASE "{partial}" RENAME TO "{name}"')
    rows = sum(copied.values())
    print(f"Copied {rows:,} rows of {len(copied)} tables in {time.perf_counter() - started:.1f} s")
    return database_url(server, name)


def load_or_reuse(shop: ShopSize, server: str) -> str:
    """The URL of the shop's database on `server`, copied there from the SQLite shop first if need be."""
    return asyncio.run(_load(shop, server))


@contextmanager
def scratch_database(shop: ShopSize, server: str) -> Iterator[str]:
    """A throwaway copy of the shop's PostgreSQL database, for benchmarks that write; dropped afterwards."""
    name = f"{database_name(shop)}_scratch_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{database_name(shop)}"'))
    try:
        yield database_url(server, name)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
