"""Our own SQL statements, for set-based work the ORM has no verb for (moving thousands of
memberships in a few statements). Values are always bound parameters, never text."""

import re
from collections.abc import Sequence
from itertools import count
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model


def dialect_sql(connection: BaseDBAsyncClient, text: str) -> str:
    """A statement written with "?" placeholders, in the connection's dialect.

    The only place that knows placeholder styles: PostgreSQL numbers them ($1, $2 ...)."""
    if connection.capabilities.dialect == "postgres":
        numbers = count(1)
        return re.sub(r"\?", lambda _: f"${next(numbers)}", text)
    return text


async def execute(connection: BaseDBAsyncClient, text: str, *params: Any) -> int:
    """Execute one statement; the number of rows it changed."""
    changed, _ = await connection.execute_query(dialect_sql(connection, text), list(params))
    return changed


async def fetch_rows(connection: BaseDBAsyncClient, text: str, *params: Any) -> list:
    _, rows = await connection.execute_query(dialect_sql(connection, text), list(params))
    return list(rows)


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
    values = [[field.to_db_value(value, model) for field, value in zip(fields, row, strict=True)] for row in rows]
    await connection.execute_many(statement, values)
