"""A rule as a Tortoise `Q` over customers: every value a bound parameter, never SQL from user text.

What an empty value does (a customer without orders has no average order value and no last
order): every comparison fails on it except "does not equal" / "is none of", which pass, as
they do in the explainer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Criterion, Term
from tortoise.expressions import Q, ResolveContext, Subquery
from tortoise.functions import Count, Sum
from tortoise.query_utils import QueryModifier

from models.customer import CustomerTag, Order, OrderStatus
from models.group import Membership
from services.rules.clock import days_before, months_before
from services.rules.explainer import number_passes
from services.rules.fields import Op, ValueType
from services.rules.model import Condition, RuleGroup

NOTHING = Q(id__in=[])  # matches no customer; a bare Q() would match all of them

COLUMNS = {
    "total_purchases": "lifetime_cents",
    "order_count": "order_count",
    "average_order_value": "average_order_cents",
    "payment_rating": "payment_rating",
    "country": "country",
    "status": "status",
    "company": "company",
    "email": "email",
    "days_since_last_order": "last_order_at",
    "days_since_first_order": "first_order_at",
    "account_age_months": "created_at",
}


def to_q(rule: RuleGroup, *, now: datetime, prefix: str = "") -> Q:
    """The customers `rule` matches at `now`. With prefix "customer__" the Q filters a model that
    points at the customer (e.g. a group's memberships) instead of customers themselves."""
    parts = [
        to_q(item, now=now, prefix=prefix) if isinstance(item, RuleGroup) else condition_q(item, now=now, prefix=prefix)
        for item in rule.conditions
    ]
    if not parts:
        return NOTHING
    return Q(*parts, join_type="OR" if rule.match == "any" else "AND")


def _compare(column: str, op: Op, value) -> Q:
    """A plain comparison of a column (or an aggregate's alias) with the value."""
    match op:
        case Op.EQ:
            return Q(**{column: value})
        case Op.NE:
            return Q(**{f"{column}__not": value})  # Tortoise adds "OR column IS NULL"
        case Op.GT:
            return Q(**{f"{column}__gt": value})
        case Op.GTE:
            return Q(**{f"{column}__gte": value})
        case Op.LT:
            return Q(**{f"{column}__lt": value})
        case Op.LTE:
            return Q(**{f"{column}__lte": value})
        case Op.BETWEEN:
            return Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
        case Op.IN:
            return Q(**{f"{column}__in": value})
        case Op.NOT_IN:
            return Q(**{f"{column}__not_in": value})
        case Op.IS_EMPTY:
            return Q(**{f"{column}__isnull": True})
        case Op.IS_NOT_EMPTY:
            return Q(**{f"{column}__isnull": False})
    raise ValueError(f"{op} does not compare numbers")


def _opposite(op: Op, value) -> Q:
    """The comparison that fails exactly where `op` holds, on a non-empty aggregate named "total"."""
    match op:
        case Op.EQ:
            return _compare("total", Op.NE, value)
        case Op.NE:
            return _compare("total", Op.EQ, value)
        case Op.GT:
            return _compare("total", Op.LTE, value)
        case Op.GTE:
            return _compare("total", Op.LT, value)
        case Op.LT:
            return _compare("total", Op.GTE, value)
        case Op.LTE:
            return _compare("total", Op.GT, value)
        case Op.BETWEEN:
            return Q(total__lt=value[0]) | Q(total__gt=value[1])
    raise ValueError(f"{op} has no opposite here")


def _age(column: str, op: Op, value, boundary) -> Q:
    """A comparison of a whole-days or whole-months age with the value, as a bound on the moment.

    With b(n) the moment n days/months before now: age >= n  <=>  moment <= b(n).
    """
    at_least = lambda n: Q(**{f"{column}__lte": boundary(n)})  # noqa: E731
    below = lambda n: Q(**{f"{column}__gt": boundary(n)})  # noqa: E731
    match op:
        case Op.GTE:
            return at_least(value)
        case Op.GT:
            return at_least(value + 1)
        case Op.LT:
            return below(value)
        case Op.LTE:
            return below(value + 1)
        case Op.EQ:
            return at_least(value) & below(value + 1)
        case Op.NE:
            return ~(at_least(value) & below(value + 1)) | Q(**{f"{column}__isnull": True})
        case Op.BETWEEN:
            return at_least(value[0]) & below(value[1] + 1)
        case Op.IS_EMPTY | Op.IS_NOT_EMPTY:
            return _compare(column, op, value)
    raise ValueError(f"{op} does not compare ages")


def _text(column: str, op: Op, value) -> Q:
    match op:
        case Op.EQ:
            return Q(**{f"{column}__iexact": value})
        case Op.NE:
            return ~Q(**{f"{column}__iexact": value}) | Q(**{f"{column}__isnull": True})
        case Op.CONTAINS:
            return Q(**{f"{column}__icontains": value})
        case Op.STARTS_WITH:
            return Q(**{f"{column}__istartswith": value})
        case Op.ENDS_WITH:
            return Q(**{f"{column}__iendswith": value})
        case Op.IS_EMPTY:
            return Q(**{column: ""}) | Q(**{f"{column}__isnull": True})
        case Op.IS_NOT_EMPTY:
            return Q(**{f"{column}__not": ""}) & Q(**{f"{column}__isnull": False})
    raise ValueError(f"{op} does not compare text")


# Set by by_key(): "has a row in" conditions as EXISTS, looked up per customer, instead of IN (SELECT ...).
_BY_KEY: ContextVar[bool] = ContextVar("rules_by_key", default=False)


@contextmanager
def by_key() -> Iterator[None]:
    """Rules compiled within look up "has a row in" conditions (tags, groups, purchases in a window)
    for each customer they check, by key. For statements that check few customers (a sample, the
    first matches by name): SQLite builds an IN (SELECT ...) list whole before the first row, e.g.
    330,000 tag rows (200 ms at 1M customers) to check 50 customers. A count over the whole shop is
    faster with the list."""
    token = _BY_KEY.set(True)
    try:
        yield
    finally:
        _BY_KEY.reset(token)


def _customers_in(query, prefix: str) -> Q:
    if _BY_KEY.get():
        return ~_WithoutRowIn(query, prefix, keyed=True)
    return Q(**{f"{prefix}id__in": Subquery(query.values("customer_id"))})


class _ExistsFor(Criterion):
    """[NOT] EXISTS (SELECT 1 FROM (SELECT DISTINCT customer_id ...) found WHERE found.customer_id =
    <the customer>).

    Not `id NOT IN (<query>)`: PostgreSQL hashes a NOT IN subquery only while it fits in work_mem
    and otherwise scans it again for every customer (minutes at 500k rows), because NOT IN must
    answer NULL when the subquery holds one. NOT EXISTS has no such case: PostgreSQL runs it as a
    hash anti-join. The query sits in FROM under its own alias, so its table may be the outer one's
    (Member of Group over a group's memberships) and it may group (purchases in a window). DISTINCT
    keeps SQLite from folding it into a lookup in the big table's index for every customer (3-4x
    slower for Tags has none of): it reads the query once and looks customers up in its own index."""

    def __init__(self, query, outer: Term, *, exists: bool, keyed: bool = False) -> None:
        super().__init__()
        # Keyed (by_key()): no DISTINCT, so SQLite folds it into a lookup per customer checked.
        # Grouped by customer (purchases in a window): one row each already; DISTINCT would only
        # add SQLite a sort (3.9 against 3.5 s at 1M customers).
        if not keyed and query._group_bys != ("customer_id",):
            query = query.distinct()
        self.query, self.outer, self.exists = query.values("customer_id"), outer, exists

    def get_sql(self, ctx: SqlContext) -> str:
        self.query._choose_db_if_not_chosen()
        self.query._make_query()
        rows = self.query.query.get_parameterized_sql(ctx.copy(subquery=True, with_alias=False))[0]  # in brackets
        customer = self.outer.get_sql(ctx.copy(with_namespace=True, with_alias=False))
        quote = ctx.quote_char
        found = f"{quote}found{quote}"
        sql = f"EXISTS (SELECT 1 FROM {rows} {found} WHERE {found}.{quote}customer_id{quote}={customer})"
        return sql if self.exists else f"NOT {sql}"


class _WithoutRowIn(Q):
    """The customers with no row in `query` (a queryset with a customer_id), as a Q; negated, those
    with one."""

    __slots__ = ("keyed", "prefix", "query")

    def __init__(self, query, prefix: str, *, keyed: bool = False) -> None:
        super().__init__()
        self.query, self.prefix, self.keyed = query, prefix, keyed

    def __bool__(self) -> bool:
        return True  # no filters of Q's own, yet it filters

    def __invert__(self) -> Q:
        opposite = _WithoutRowIn(self.query, self.prefix, keyed=self.keyed)
        opposite._is_negated = not self._is_negated
        return opposite

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        # The customer's id: customer.id, or the customer_id of a model that points at customers.
        meta = resolve_context.model._meta
        column = meta.fields_map[self.prefix.removesuffix("__")].source_field if self.prefix else meta.db_pk_column
        customer = resolve_context.table[column]
        return QueryModifier(
            where_criterion=_ExistsFor(self.query, customer, exists=self._is_negated, keyed=self.keyed)
        )


def _customers_not_in(query, prefix: str) -> Q:
    return _WithoutRowIn(query, prefix, keyed=_BY_KEY.get())


def _recent_purchases(condition: Condition, now: datetime, prefix: str) -> Q:
    # A customer without orders in the window has spent 0 there. Where 0 passes, the rule keeps
    # everyone except those whose window total fails; otherwise it keeps those whose total passes.
    orders = (
        Order.filter(status=OrderStatus.COMPLETED, placed_at__gte=months_before(now, condition.months))
        .annotate(total=Sum("total_cents"))
        .group_by("customer_id")
    )
    op, value = condition.operator, condition.value
    if number_passes(0, op, value):
        return _customers_not_in(orders.filter(_opposite(op, value)), prefix)
    return _customers_in(orders.filter(_compare("total", op, value)), prefix)


def _tags(op: Op, tags: list[str] | None, prefix: str) -> Q:
    match op:
        case Op.HAS_ANY:
            return _customers_in(CustomerTag.filter(tag__in=tags), prefix)
        case Op.HAS_NONE:
            return _customers_not_in(CustomerTag.filter(tag__in=tags), prefix)
        case Op.HAS_ALL:
            having_all = (
                CustomerTag.filter(tag__in=tags)
                .annotate(found=Count("tag", distinct=True))
                .group_by("customer_id")
                .filter(found=len(tags))
            )
            return _customers_in(having_all, prefix)
        case Op.IS_EMPTY:
            return _customers_not_in(CustomerTag.all(), prefix)
        case Op.IS_NOT_EMPTY:
            return _customers_in(CustomerTag.all(), prefix)
    raise ValueError(f"{op} does not compare tags")


def condition_q(condition: Condition, *, now: datetime, prefix: str = "") -> Q:
    field, op, value = condition.spec, condition.operator, condition.value
    column = f"{prefix}{COLUMNS.get(field.name, '')}"
    if field.name == "purchases_recent":
        return _recent_purchases(condition, now, prefix)
    match field.type:
        case ValueType.TAGS:
            return _tags(op, value, prefix)
        case ValueType.GROUPS:
            members = Membership.filter(group_id__in=value)
            return _customers_in(members, prefix) if op == Op.IN else _customers_not_in(members, prefix)
        case ValueType.DAYS:
            return _age(column, op, value, lambda n: days_before(now, n))
        case ValueType.MONTHS:
            return _age(column, op, value, lambda n: months_before(now, n))
        case ValueType.TEXT:
            return _text(column, op, value)
        case ValueType.CHOICE if op in (Op.IS_EMPTY, Op.IS_NOT_EMPTY):
            return _text(column, op, value)
    return _compare(column, op, value)
