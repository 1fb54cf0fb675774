"""PostgreSQL connections whose case-insensitive lookups fold A-Z only, as SQLite's do.

SQLite's UPPER() and LIKE fold only A-Z. PostgreSQL's fold whatever the database's locale says (and
"i" becomes "İ" in a Turkish one). Rules must mean the same on both, and their explainer
(services.rules.explainer) folds A-Z in Python. So on PostgreSQL the ORM's case-insensitive lookups
(iexact, icontains, istartswith, iendswith) compare under the "C" collation, whose UPPER() folds A-Z
only. This module is the engine Tortoise loads for a PostgreSQL URL (services.storage.database):
the asyncpg client with an executor that says so, rather than a change to Tortoise's own classes.
"""

from pypika_tortoise.context import SqlContext
from pypika_tortoise.functions import Cast, Upper
from pypika_tortoise.terms import Criterion, Term, ValueWrapper
from pypika_tortoise.utils import format_alias_sql
from tortoise import filters
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.asyncpg.executor import AsyncpgExecutor
from tortoise.fields.data import SqlTypes


class _CollateC(Term):
    """`term COLLATE "C"`."""

    def __init__(self, term: Term) -> None:
        super().__init__()
        self.term = term

    def nodes_(self):
        yield self
        yield from self.term.nodes_()

    def get_sql(self, ctx: SqlContext) -> str:
        return format_alias_sql(f'{self.term.get_sql(ctx)} COLLATE "C"', self.alias, ctx)


def _folded(field: Term) -> Term:
    return Upper(_CollateC(Cast(field, SqlTypes.VARCHAR)))


def _folded_value(value: str) -> Term:
    return Upper(_CollateC(ValueWrapper(value)))


def _iexact(field: Term, value: str) -> Criterion:
    return _folded(field).eq(_folded_value(str(value)))


def _ilike(pattern: str):
    def lookup(field: Term, value: str) -> Criterion:
        return filters.Like(_folded(field), _folded_value(pattern.format(filters.escape_like(value))))

    return lookup


class FoldingExecutor(AsyncpgExecutor):
    FILTER_FUNC_OVERRIDE = {
        **AsyncpgExecutor.FILTER_FUNC_OVERRIDE,
        filters.insensitive_exact: _iexact,
        filters.insensitive_contains: _ilike("%{}%"),
        filters.insensitive_starts_with: _ilike("{}%"),
        filters.insensitive_ends_with: _ilike("%{}"),
    }


class FoldingPostgresClient(AsyncpgDBClient):
    executor_class = FoldingExecutor


client_class = FoldingPostgresClient  # what Tortoise looks for in an engine module
