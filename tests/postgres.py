"""Test databases on a PostgreSQL server, when CUSTOMER_GROUPS_TEST_POSTGRES names one.

`.ci/postgres` starts a throwaway server and sets the variable to its maintenance database
(postgres://postgres@127.0.0.1:PORT/postgres). Templates are built once per session; each test's
database is `CREATE DATABASE ... TEMPLATE ...`, a file copy on the server, and is dropped after it.
"""

import asyncio
import itertools
import os
import re
from collections.abc import Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

SERVER = os.environ.get("CUSTOMER_GROUPS_TEST_POSTGRES", "")

_numbers = itertools.count()
# The next copy of each template, being made in the background (see copy_database).
_spares: dict[str, Future[str]] = {}
_maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-database")


def on_postgres() -> bool:
    return bool(SERVER)


def database_url(name: str) -> str:
    """The URL of database `name` on the test server."""
    return urlparse(SERVER)._replace(path=f"/{name}").geturl()


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def new_name(kind: str = "test") -> str:
    """A database name no other test (nor another pytest process on the same server) uses."""
    return f"cg_{kind}_{os.getpid()}_{next(_numbers)}"


def admin(*statements: str) -> None:
    """Run statements outside any transaction (CREATE / DROP DATABASE need that) on the server.

    In a thread of its own, so it works both from plain and from async fixtures."""
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(SERVER)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    _in_thread(run())


def _in_thread(coroutine: Coroutine[Any, Any, Any]) -> Any:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def create_database(template: str | None = None) -> str:
    """A new database (a copy of `template`, else empty); its URL."""
    name = new_name()
    admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return database_url(name)


def copy_database(template: str) -> str:
    """A new copy of database `template`; its URL. The next copy is started at once, in the
    background: copying a 10 MB demo shop keeps the server busy for a few tenths of a second,
    which the test in between then does not wait for. Nothing may connect to `template` meanwhile."""
    spare = _spares.pop(template, None)
    url = spare.result() if spare else create_database(template)
    _spares[template] = _maker.submit(create_database, template)
    return url


def drop_database(url: str) -> None:
    """Drop the database, and the spare copy made of it if it was a template."""
    name = database_name(url)
    if spare := _spares.pop(name, None):
        drop_database(spare.result())
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Rows(list):
    def fetchone(self) -> tuple | None:
        return self[0] if self else None

    def fetchall(self) -> list[tuple]:
        return list(self)


class Connection:
    """What tests use of a sqlite3.Connection, for a database on the test server: execute() with
    "?" placeholders, rows as tuples. For checks made straight in an app's database."""

    def __init__(self, url: str) -> None:
        self.url = url

    def execute(self, sql: str, params: tuple | list = ()) -> Rows:
        import asyncpg

        numbers = itertools.count(1)
        statement = re.sub(r"\?", lambda _: f"${next(numbers)}", sql)

        async def run() -> list[tuple]:
            connection = await asyncpg.connect(self.url)
            try:
                return [tuple(row) for row in await connection.fetch(statement, *params)]
            finally:
                await connection.close()

        return Rows(_in_thread(run()))

    def close(self) -> None:
        pass
