"""SQLite connections whose writers wait their turn for the database's one write lock.

SQLite lets one connection write at a time. Tortoise begins transactions DEFERRED, so a
transaction that reads and then writes asks for the write lock only at its first write; if another
connection committed since its first read, SQLite refuses at once with "database is locked"
(SQLITE_BUSY_SNAPSHOT), whatever the busy timeout. A save beside a rule run or an import then
fails although nothing is wrong with it. So, for every connection of the app:

- a transaction begins IMMEDIATE: it holds the write lock from its first statement, and all it
  reads is what it writes over;
- before that, it takes this process's write lock for the database file, shared by all its
  connections (default, background): writers of one process queue in order, without the busy
  timeout's limit (a rule run over a large group may write for longer). The busy timeout is left
  for another process (the command line's restore, say);
- a statement that writes outside a transaction takes the same lock;
- a read-only connection (`read_only` in its settings: the reports' reader, whose scratch tables
  live in SQLite's temporary schema) keeps deferred transactions and never waits for writers.

A task that holds the write lock and writes on a second connection would wait for itself: that
is a mistake in the code (write on the transaction's own connection), refused at once instead
(WriteOnAnotherConnectionError; the transaction it interrupts is rolled back).
"""

import asyncio
import os
import re
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

# Statements that only read; anything else takes the write lock, and so does a WITH that writes.
_READS = ("SELECT", "WITH", "PRAGMA", "EXPLAIN", "VALUES")
_WRITE_VERB = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class WriteOnAnotherConnectionError(RuntimeError):
    """A task in a write transaction wrote on another connection of the same database: it would
    wait for its own lock. Not Tortoise's TransactionManagementError, after which Tortoise leaves
    the transaction open instead of rolling it back."""


class WriteLock:
    """One writer at a time among this process's connections to one database file."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task | None = None

    async def acquire(self) -> None:
        task = asyncio.current_task()
        if task is not None and self._holder is task:
            raise WriteOnAnotherConnectionError(
                "This task already writes in a transaction on another connection of this database; "
                "write on that transaction's connection instead."
            )
        await self._lock.acquire()
        self._holder = task

    def release(self) -> None:
        self._holder = None
        self._lock.release()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


# Per event loop (asyncio locks belong to one), then per database file.
_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, WriteLock]]" = weakref.WeakKeyDictionary()


def write_lock(filename: str) -> WriteLock:
    """This process's write lock for the database file (by its real path)."""
    per_file = _locks.setdefault(asyncio.get_running_loop(), {})
    return per_file.setdefault(filename, WriteLock())


def _writes(query: str) -> bool:
    text = query.lstrip().upper()
    if text.startswith("WITH"):
        return bool(_WRITE_VERB.search(text))
    return not text.startswith(_READS)


class WriterTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            # Nothing may be pending here (the connection's lock is held); if something was left
            # behind by a failure, it is dropped, never committed with this transaction.
            await self._connection.rollback()
            await self._connection.execute("BEGIN IMMEDIATE")
        except Exception as error:
            raise TransactionManagementError(error) from error


class WriterTransactionContext(SqliteTransactionContext):
    """Tortoise's transaction, with the process's write lock taken first (before the connection's
    own lock, so a task waiting its turn blocks nobody's reads on that connection)."""

    __slots__ = ("_write_lock",)

    def __init__(self, connection: Any, trxlock: asyncio.Lock, write: WriteLock) -> None:
        super().__init__(connection, trxlock)
        self._write_lock = write

    async def __aenter__(self):
        # As Tortoise's, but undone step by step when a step fails: BEGIN IMMEDIATE can fail (another
        # process held the write lock past the busy timeout, a disk error, a cancellation), and
        # Tortoise's own would then keep the connection's lock for good, stalling every later read.
        await self._write_lock.acquire()
        try:
            await self._trxlock.acquire()
            try:
                await self.ensure_connection()
                self.token = get_connections().set(self.connection_name, self.connection)
                try:
                    await self.connection.begin()
                except BaseException:
                    get_connections().reset(self.token)
                    raise
            except BaseException:
                self._trxlock.release()
                raise
        except BaseException:
            self._write_lock.release()
            raise
        return self.connection

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            await super().__aexit__(exc_type, exc_val, exc_tb)
        finally:
            self._write_lock.release()


class WriterSqliteClient(SqliteClient):
    def __init__(self, file_path: str, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self.read_only = read_only
        self._database_file = os.path.realpath(file_path)

    def _in_transaction(self):
        if self.read_only:
            return super()._in_transaction()
        return WriterTransactionContext(WriterTransaction(self), self._lock, write_lock(self._database_file))

    @asynccontextmanager
    async def _writing(self, query: str) -> AsyncIterator[None]:
        if self.read_only or not _writes(query):
            yield
            return
        async with write_lock(self._database_file).held():
            yield

    async def execute_insert(self, query: str, values: list) -> int:
        async with self._writing(query):
            return await super().execute_insert(query, values)

    async def execute_many(self, query: str, values: list[list]) -> None:
        async with self._writing(query):
            return await super().execute_many(query, values)

    async def execute_query(self, query: str, values: list | None = None):
        async with self._writing(query):
            return await super().execute_query(query, values)

    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        async with self._writing(query):
            return await super().execute_query_dict(query, values)

    async def execute_script(self, query: str) -> None:
        async with self._writing(query):
            return await super().execute_script(query)


client_class = WriterSqliteClient  # what Tortoise looks for in an engine module
