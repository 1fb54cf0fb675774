"""Searching customers through the trigram index finds exactly whom the plain LIKE search found.

The LIKE condition before the index stays here, word for word, as the oracle. Hypothesis writes
customers whose names, companies and emails mix cases, accents, quotes, LIKE's wildcards and
spaces, then searches for pieces of them (and for text no one has): the indexed condition must
pick the same customers. Then the index follows what changes: a new customer, a renamed one, an
import. Runs on SQLite, and on PostgreSQL (`bash .ci/postgres tests/unit/test_customer_search.py`),
where the search is the LIKE condition and the planner may answer it from pg_trgm's indexes.
"""

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from tortoise.transactions import in_transaction

from models.customer import Customer
from services.customer_search import SHORTEST, _index_narrows, phrase, search_condition, search_sql
from services.customers import create_customer, list_customers, update_customer
from services.staff.actor import SYSTEM
from services.storage.database import BACKGROUND
from services.storage.sql import fetch_rows, is_postgres

SINCE = datetime(2024, 1, 1, tzinfo=UTC)
# The search before the index (services/customers.py, issue 21), on SQLite and on PostgreSQL.
OLD_SQLITE = (
    "(UPPER(CAST(c.name AS VARCHAR)) LIKE UPPER(?) ESCAPE '\\' "
    "OR UPPER(CAST(c.company AS VARCHAR)) LIKE UPPER(?) ESCAPE '\\' "
    "OR UPPER(CAST(c.email AS VARCHAR)) LIKE UPPER(?) ESCAPE '\\')"
)
OLD_POSTGRES = (
    '(UPPER(CAST(c.name AS VARCHAR) COLLATE "C") LIKE UPPER(CAST(? AS VARCHAR) COLLATE "C") ESCAPE \'\\\' '
    'OR UPPER(CAST(c.company AS VARCHAR) COLLATE "C") LIKE UPPER(CAST(? AS VARCHAR) COLLATE "C") ESCAPE \'\\\' '
    'OR UPPER(CAST(c.email AS VARCHAR) COLLATE "C") LIKE UPPER(CAST(? AS VARCHAR) COLLATE "C") ESCAPE \'\\\')'
)
LETTERS = "aAbBüÜéÉß%_\"'\\ .@-1"


def old_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _found(connection, condition: str, params: list) -> list[int]:
    rows = await fetch_rows(connection, f"SELECT c.id FROM customer c WHERE {condition}", *params)
    return sorted(row["id"] for row in rows)


@st.composite
def shops_and_searches(draw) -> tuple[list[tuple[str, str, str]], str]:
    words = st.text(alphabet=LETTERS, min_size=0, max_size=12)
    customers = draw(st.lists(st.tuples(words, words, words), min_size=1, max_size=12))
    pieces = [value for customer in customers for value in customer if value.strip()]
    searched = draw(st.one_of(st.sampled_from(pieces), words) if pieces else words)
    if pieces and draw(st.booleans()):  # a piece of one of them, in other cases
        start = draw(st.integers(0, len(searched)))
        searched = draw(st.sampled_from([str.upper, str.lower, str.swapcase]))(searched[start:])
    return customers, searched


def test_a_phrase_is_matched_as_it_stands():
    assert phrase('say "hi"') == '"say ""hi"""'
    sql, params = search_condition("ada", alias="c", postgres=False, indexed=True)
    assert "MATCH ?" in sql and params[0] == '"ada"' and params[1:] == ["%ada%"] * 3
    assert "MATCH" not in search_condition("ada", alias="c", postgres=False, indexed=False)[0]


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=shops_and_searches())
async def test_the_indexed_search_finds_whom_the_like_search_found(db, case):
    customers, searched = case
    note(f"{customers!r} searched for {searched!r}")
    async with in_transaction(BACKGROUND) as connection:
        await Customer.all().using_db(connection).delete()
        await Customer.bulk_create(
            [
                Customer(id=i, name=name, company=company, email=f"{email}.{i}", created_at=SINCE)
                for i, (name, company, email) in enumerate(customers, start=1)
            ],
            using_db=connection,
        )
    connection = Customer._meta.db
    text = searched.strip()
    if not text:
        return
    postgres = is_postgres(connection)
    expected = await _found(connection, OLD_POSTGRES if postgres else OLD_SQLITE, [old_pattern(text)] * 3)
    for indexed in (False, not postgres and len(text) >= SHORTEST):
        condition, params = search_condition(text, alias="c", postgres=postgres, indexed=indexed)
        assert await _found(connection, condition, params) == expected, f"indexed={indexed}"
    condition, params = await search_sql(connection, searched)
    assert await _found(connection, condition, params) == expected


async def _names(search: str) -> list[str]:
    return [row.name for row in (await list_customers(search=search, per_page=50)).rows]


async def test_a_new_customer_is_found_and_a_renamed_one_by_the_new_name_only(demo_db):
    assert await _names("Quennell") == []
    created = await create_customer(
        data={"name": "Maud Quennell", "email": "maud@quennell.example", "company": "Fernwood Mills"}, actor=SYSTEM
    )
    assert await _names("quennell") == ["Maud Quennell"]
    assert await _names("FERNWOOD") == ["Maud Quennell"]

    await update_customer(customer_id=created.id, data={"name": "Maud Oakhurst"}, actor=SYSTEM)
    assert await _names("Oakhurst") == ["Maud Oakhurst"]
    assert await _names("Quennell mi") == []
    assert await _names("quennell.example") == ["Maud Oakhurst"], "the email did not change"


async def test_a_text_most_customers_contain_is_searched_by_walking_the_names(demo_db):
    connection = Customer._meta.db
    if is_postgres(connection):  # its planner chooses between pg_trgm's indexes and the walk itself
        assert "MATCH" not in (await search_sql(connection, "Adams"))[0]
        return
    assert await _index_narrows(connection, "Adams")
    assert not await _index_narrows(connection, "example", at_most=10), "every email holds it"
    assert not await _index_narrows(connection, "ad"), "two letters: no trigram to look up"
    everyone = await list_customers(search="example", per_page=5)
    assert everyone.total == await Customer.all().count()
