"""The NOT EXISTS statements answer exactly what the NOT IN (SELECT ...) statements they replaced did.

PostgreSQL runs `x NOT IN (SELECT ...)` over a subquery larger than work_mem as a scan of the
subquery for every row (issue 21: a rule run on a half-million-member group would hang), so rule
runs and the rule compiler write NOT EXISTS instead. The old statements stay here, word for word,
as the oracle; Hypothesis builds small shops (customers, a group's members with their sources,
other groups, tags, orders, the rule's matches) and each old and new statement must pick the same
customers.

NULLs are where NOT IN and NOT EXISTS differ: `x NOT IN (subquery)` is NULL, so false, for every x
once the subquery holds a NULL, where NOT EXISTS ignores it. None of these subqueries can hold one:
membership.customer_id, customer_tag.customer_id and order.customer_id are NOT NULL (checked
below in the schema of the database the test runs on), and the rule run's scratch tables key on
customer_id (a PRIMARY KEY: NOT NULL on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the rowid,
never NULL). So the two forms must agree on everything, and here they must.

Runs on SQLite, and on PostgreSQL with `bash .ci/postgres tests/unit/test_not_exists_agreement.py`.
"""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models.customer import Customer
from models.group import CustomerGroup, Membership, MembershipSource
from services.rules import compiler
from services.rules.compiler import by_key, to_q
from services.rules.model import parse_rule
from services.rules.runs import (
    _NEW_MATCHES,
    _PAST_CAPACITY,
    _UNMATCHED,
    JOINING,
    MATCHES,
    _clear_scratch,
    _scratch_tables,
)
from services.storage.database import BACKGROUND
from services.storage.sql import execute, fetch_rows, is_postgres
from tests.unit.test_rule_agreement import GROUP_IDS, _store, examples

GROUP = GROUP_IDS[0]
SINCE = datetime(2024, 1, 1, tzinfo=UTC)
SOURCES = [source.value for source in MembershipSource]

# The statements of services/rules/runs.py before issue 21, as they were.
OLD_NEW_MATCHES = f"SELECT customer_id FROM {MATCHES} WHERE customer_id NOT IN (SELECT customer_id FROM membership WHERE group_id = ?)"
OLD_UNMATCHED = f"customer_id NOT IN (SELECT customer_id FROM {MATCHES})"
OLD_PAST_CAPACITY = (
    f"DELETE FROM {JOINING} WHERE customer_id NOT IN (SELECT customer_id FROM {JOINING} ORDER BY customer_id LIMIT ?)"
)


def old_customers_not_in(query, prefix: str) -> Q:
    """services/rules/compiler.py's `_customers_not_in` before issue 21 (it renders NOT IN)."""
    return ~Q(**{f"{prefix}id__in": Subquery(query.values("customer_id"))})


def as_before(q: Q) -> Q:
    """The compiled rule with each NOT EXISTS condition written as the old compiler wrote it."""
    if isinstance(q, compiler._WithoutRowIn):
        old = old_customers_not_in(q.query, q.prefix)
        return ~old if q._is_negated else old
    if not q.children:
        return q
    old = Q(*(as_before(child) for child in q.children), join_type=q.join_type)
    return ~old if q._is_negated else old


async def test_the_columns_the_subqueries_read_are_not_null(db):
    connection = Customer._meta.db
    for table in ("membership", "customer_tag", "order"):
        if is_postgres(connection):
            rows = await fetch_rows(
                connection,
                "SELECT is_nullable = 'NO' AS required FROM information_schema.columns "
                "WHERE table_name = ? AND column_name = 'customer_id'",
                table,
            )
        else:
            rows = await fetch_rows(
                connection,
                f"SELECT \"notnull\" AS required FROM pragma_table_info('{table}') WHERE name = 'customer_id'",
            )
        assert [bool(row["required"]) for row in rows] == [True], table


# --- Rule runs --------------------------------------------------------------------------------


@st.composite
def run_shops(draw) -> dict:
    """Customers 1..n; the group's members with a source each, other groups' members, the rule's
    matches, and the group's free places."""
    ids = list(range(1, draw(st.integers(1, 25)) + 1))
    subset = st.lists(st.sampled_from(ids), unique=True)
    members = draw(subset)
    return {
        "ids": ids,
        "members": {customer_id: draw(st.sampled_from(SOURCES)) for customer_id in members},
        "elsewhere": draw(subset),
        "matches": draw(subset),
        "free": draw(st.integers(0, len(ids) + 2)),
    }


@pytest.fixture
async def run_groups(db) -> None:
    for group_id in GROUP_IDS:
        await CustomerGroup.create(
            id=group_id, name=f"Group {group_id}", name_key=f"group {group_id}", code=f"G{group_id}"
        )


async def _ids(connection, statement: str, *params) -> list[int]:
    return sorted(row["customer_id"] for row in await fetch_rows(connection, statement, *params))


async def _sources(connection) -> dict[int, str]:
    rows = await fetch_rows(connection, "SELECT customer_id, source FROM membership WHERE group_id = ?", GROUP)
    return {row["customer_id"]: row["source"] for row in rows}


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shop=run_shops())
async def test_rule_run_statements_agree_with_their_not_in_forms(run_groups, shop: dict):
    note(str(shop))
    async with in_transaction(BACKGROUND) as connection:
        await Customer.all().using_db(connection).delete()
        await Customer.bulk_create(
            [Customer(id=i, name=f"C{i}", email=f"c{i}@shop.example", created_at=SINCE) for i in shop["ids"]],
            using_db=connection,
        )
        await Membership.bulk_create(
            [Membership(customer_id=i, group_id=GROUP, source=s, since=SINCE) for i, s in shop["members"].items()]
            + [Membership(customer_id=i, group_id=GROUP_IDS[1], since=SINCE) for i in shop["elsewhere"]],
            using_db=connection,
        )
        await _scratch_tables(connection)
        for customer_id in shop["matches"]:
            await execute(connection, f"INSERT INTO {MATCHES} (customer_id) VALUES (?)", customer_id)

        # Who joins: the matches not yet in the group.
        joiners = await _ids(connection, _NEW_MATCHES, GROUP)
        assert joiners == await _ids(connection, OLD_NEW_MATCHES, GROUP)
        assert joiners == sorted(set(shop["matches"]) - set(shop["members"]))

        # Who leaves, and whose source changes: the members the rule does not match.
        members = "SELECT customer_id FROM membership WHERE group_id = ? AND "
        unmatched = await _ids(connection, members + _UNMATCHED, GROUP)
        assert unmatched == await _ids(connection, members + OLD_UNMATCHED, GROUP)
        assert unmatched == sorted(set(shop["members"]) - set(shop["matches"]))
        # The predicate names the UPDATE's own table, so it is tried in an UPDATE too (as the run
        # writes it: members by hand and by rule whom the rule no longer matches stay, by hand).
        before = await _sources(connection)
        after = {}
        for predicate in (_UNMATCHED, OLD_UNMATCHED):
            for customer_id, source in before.items():
                await execute(
                    connection,
                    "UPDATE membership SET source = ? WHERE group_id = ? AND customer_id = ?",
                    source,
                    GROUP,
                    customer_id,
                )
            await execute(
                connection,
                f"UPDATE membership SET source = ? WHERE group_id = ? AND source = ? AND {predicate}",
                MembershipSource.MANUAL.value,
                GROUP,
                MembershipSource.BOTH.value,
            )
            after[predicate] = await _sources(connection)
        assert after[_UNMATCHED] == after[OLD_UNMATCHED]

        # A full group: the joiners past the free places, by id, are turned away.
        kept = {}
        for statement in (_PAST_CAPACITY, OLD_PAST_CAPACITY):
            await execute(connection, f"DELETE FROM {JOINING}")
            await execute(connection, f"INSERT INTO {JOINING} (customer_id) {_NEW_MATCHES}", GROUP)
            await execute(connection, statement, shop["free"])
            kept[statement] = await _ids(connection, f"SELECT customer_id FROM {JOINING}")
        assert kept[_PAST_CAPACITY] == kept[OLD_PAST_CAPACITY] == joiners[: shop["free"]]
        await _clear_scratch(connection)


# --- The rule compiler ------------------------------------------------------------------------

# The fields whose conditions the compiler writes as "no row in ..." for some operator or value.
NOT_EXISTS_FIELDS = ("tags", "member_of", "purchases_recent")


async def _same_as_before(q: Q, prefix: str, what: str) -> None:
    old = as_before(q)
    if prefix:  # over the group's memberships, as previews diff a rule against today's members
        members = Membership.filter(group_id=GROUP)
        query, old_query, column = members.filter(q), members.filter(old), "customer_id"
    else:
        query, old_query, column = Customer.filter(q), Customer.filter(old), "id"
    new_ids = sorted(await query.values_list(column, flat=True))
    old_ids = sorted(await old_query.values_list(column, flat=True))
    if new_ids != old_ids:
        note(f"new: {query.values_list(column, flat=True).sql()}")
        note(f"old: {old_query.values_list(column, flat=True).sql()}")
    assert new_ids == old_ids, f"{what}: NOT EXISTS {new_ids}, NOT IN {old_ids}"


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
@pytest.mark.parametrize("field", NOT_EXISTS_FIELDS)
async def test_compiled_rules_agree_with_their_not_in_forms(run_groups, field: str, data: st.DataObject):
    example = data.draw(examples(field), label="example")
    await _store(example.customers)
    now: datetime = example.now
    rules = [(parse_rule({"conditions": [raw]}), f"the condition {raw}") for raw in example.more]
    for rule, what in [*rules, (parse_rule(example.rule), "the whole rule")]:
        for prefix in ("", "customer__"):
            await _same_as_before(to_q(rule, now=now, prefix=prefix), prefix, f"{what}{prefix and ', on members'}")
            with by_key():  # "has a row in" as a correlated EXISTS too, for statements checking few customers
                q = to_q(rule, now=now, prefix=prefix)
            await _same_as_before(q, prefix, f"{what}{prefix and ', on members'}, by key")
