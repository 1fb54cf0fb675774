"""The actions the crash-safety tests interrupt, each run in a process of its own so the test can
kill it with SIGKILL halfway, as a power cut or the OOM killer would:

    python -m tests.crash_child rule <database_url> <group_id> <rule.json>
    python -m tests.crash_child import <database_url> <customers.csv>
    python -m tests.crash_child orders <database_url> <orders.csv>

The child opens the database as the app does and calls the service. It says on stdout where it
is, so the test knows when it is in the middle of writing ("writing <table>" as a large INSERT
starts, "progress <share>" after each batch of an import), and "done" only after the service
returned (its transaction committed).
"""

import asyncio
import json
import os
import sys
from pathlib import Path

from tortoise import connections

from services.groups.group import get_group, update_group
from services.imports.customers import import_customers
from services.imports.files import ImportKind, read_csv, suggest_mapping
from services.imports.orders import import_orders
from services.staff.actor import SystemActor
from services.storage.database import BACKGROUND, close_database, open_database

ACTOR = SystemActor("crash-test")


def say(line: str) -> None:
    # os.write: straight to the pipe, no buffer left behind when the process is killed.
    os.write(1, f"{line}\n".encode())


async def _trace_writes() -> None:
    """Say "writing <table>" as each large INSERT into the membership tables starts on the
    background connection, where rule runs write. SQLite's trace hook fires as a statement begins
    executing, in the driver's own thread: it watches without changing what our code does."""
    client = connections.get(BACKGROUND)
    await client.create_connection(with_db=True)

    def trace(statement: str) -> None:
        for table in ("membership (", "membership_event ("):
            if statement.startswith(f"INSERT INTO {table}"):
                say(f"writing {table[:-2]}")

    await client._connection.set_trace_callback(trace)


async def change_rule(database_url: str, group_id: int, rule: dict) -> None:
    """The owner saves a new rule on a large group: the rule is saved, then the members are set."""
    await open_database(database_url=database_url)
    try:
        await _trace_writes()
        group = await get_group(group_id=group_id)
        data = group.as_input()
        data.rule = rule
        say("saving")
        await update_group(group_id=group_id, version=group.version, data=data, actor=ACTOR)
        say("done")
    finally:
        await close_database()


async def import_file(database_url: str, data: bytes) -> None:
    """The owner imports a customer file; progress is reported after each batch written."""
    await open_database(database_url=database_url)
    try:
        file = await read_csv(data=data)
        result = await import_customers(
            file=file,
            mapping=suggest_mapping(headers=file.headers),
            actor=ACTOR,
            progress=lambda share: say(f"progress {share:.3f}"),
        )
        say(f"done {result.created} {result.updated}")
    finally:
        await close_database()


async def import_orders_file(database_url: str, data: bytes) -> None:
    """The owner imports the shop's orders export; progress is reported as the import writes."""
    await open_database(database_url=database_url)
    try:
        file = await read_csv(data=data)
        result = await import_orders(
            file=file,
            mapping=suggest_mapping(headers=file.headers, kind=ImportKind.ORDERS),
            actor=ACTOR,
            progress=lambda share: say(f"progress {share:.3f}"),
        )
        say(f"done {result.created}")
    finally:
        await close_database()


if __name__ == "__main__":
    action, url, *args = sys.argv[1:]
    if action == "rule":
        asyncio.run(change_rule(url, int(args[0]), json.loads(Path(args[1]).read_text())))
    elif action == "import":
        asyncio.run(import_file(url, Path(args[0]).read_bytes()))
    elif action == "orders":
        asyncio.run(import_orders_file(url, Path(args[0]).read_bytes()))
    else:
        raise SystemExit(f"Unknown action {action!r}")
