"""Our own SQL statements, for set-based work the ORM has no verb for (moving thousands of
memberships in a few statements). Values are always bound parameters, never text (but for
`sized_for_bulk`'s own constants: SET takes no parameters)."""

import re
from collections.abc import Sequence
from datetime import datetime
from itertools import count
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base_postgres.client import translate_exceptions
from tortoise.models import Model


def dialect_sql(connection: BaseDBAsyncClient, text: str) -> str:
    """A statement written with "?" placeholders, in the connection's dialect.

    The only place that knows placeholder styles: PostgreSQL numbers them ($1, $2 ...)."""
    if is_postgres(connection):
        numbers = count(1)
        return re.sub(r"\?", lambda _: f"${next(numbers)}", text)
    return text


def is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


async def execute(connection: BaseDBAsyncClient, text: str, *params: Any) -> int:
    """Execute one statement; the number of rows it changed."""
    if is_postgres(connection):
        return await _postgres_execute(connection, dialect_sql(connection, text), params)
    changed, _ = await connection.execute_query(text, list(params))
    return changed


@translate_exceptions  # asyncpg's errors as Tortoise's (IntegrityError ...), as execute_query raises them
async def _postgres_execute(connection: BaseDBAsyncClient, statement: str, params: Sequence[Any]) -> int:
    # Tortoise's execute_query takes the second word of asyncpg's status as the count: right for
    # "UPDATE 5", but an INSERT's status is "INSERT 0 5" (the 0 is an OID). The count is the last.
    async with connection.acquire_connection() as raw:
        status = await raw.execute(statement, *params)
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


async def fetch_rows(connection: BaseDBAsyncClient, text: str, *params: Any) -> list:
    _, rows = await connection.execute_query(dialect_sql(connection, text), list(params))
    return list(rows)


# PostgreSQL's defaults suit many small statements: 4 MB per sort or hash, and JIT compiling any
# statement its planner costs high. A rule run's statements each take every member of a group at
# once (500,000 at a million customers), so its hashes and sorts spilled to disk in batches, and
# compiling saved nothing on statements that run once.
BULK_WORK_MEM = "64MB"


async def sized_for_bulk(connection: BaseDBAsyncClient) -> None:
    """Let the rest of this transaction sort and hash a million rows in memory, without JIT
    compiling (PostgreSQL; SET LOCAL ends with the transaction). SQLite has neither setting."""
    if is_postgres(connection):
        await execute(connection, f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
        await execute(connection, "SET LOCAL jit = off")


def saved_moment(value: Any, field: Any) -> datetime:
    """A datetime `field`'s value as our own SQL reads it back. SQLite gives ISO text with its
    offset, which fromisoformat reads in a fraction of the field's own conversion (1.6 s for
    100,000 orders); anything else (PostgreSQL's datetimes, text without an offset) the field
    converts."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    return field.to_python_value(value)


def timestamp_placeholder(connection: BaseDBAsyncClient) -> str:
    """A placeholder for a datetime where PostgreSQL cannot tell the type from the context (a VALUES
    list, a SELECT list) and would take it for text. SQLite stores datetimes as text: no cast."""
    return "?::timestamptz" if is_postgres(connection) else "?"


def placeholders(values: Sequence[Any]) -> str:
    """ "?, ?, ?" for an IN list of `values`."""
    return ", ".join("?" for _ in values)


async def insert_rows(
    connection: BaseDBAsyncClient, model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert `rows` (values in `columns` order) with one prepared INSERT run for every row.

    bulk_create builds a model instance per row, which for 100,000 rows costs several times the
    INSERT itself. This keeps what matters from it: every value goes through its field's
    to_db_value, and the statement is the ORM's parameterised INSERT for the connection's dialect.
    Runs in the caller's transaction, if any."""
    if not rows:
        return
    meta = model._meta
    fields = [meta.fields_map[name] for name in columns]
    parameter = meta.db.executor_class(model=model, db=connection).parameter
    statement = (
        connection.query_class.into(meta.basetable)
        .columns(*(meta.fields_db_projection[name] for name in columns))
        .insert(*(parameter(i) for i in range(len(columns))))
        .get_sql()
    )
    await connection.execute_many(statement, _db_values(model, fields, rows))


def _db_values(model: type[Model], fields: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Each row's values through their field's to_db_value. A value that is the very object of the
    row above (the moment, the group's name, the actor of 20,000 events) is converted once: the
    conversions were 0.6 s of a 10,000-member move."""
    width = len(fields)
    last: list[Any] = [object()] * width  # never any row's value
    converted: list[Any] = [None] * width
    values = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"{model.__name__}: a row of {len(row)} values for {width} columns")
        for i, value in enumerate(row):
            if value is not last[i]:
                last[i], converted[i] = value, fields[i].to_db_value(value, model)
        values.append(list(converted))
    return values
