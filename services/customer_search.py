"""Finding customers by a piece of their name, company or email, at any size of shop.

The search is "contains, ignoring case" (LIKE '%text%'), which no ordinary index answers: at a
million customers every search read every customer (0.6 s to count the matches, 2.6 s for the
first page of a rare name). So each database keeps an index of the three columns' trigrams
(models/migrations/0022_customer_search.py): SQLite an FTS5 table with the trigram tokenizer,
PostgreSQL pg_trgm GIN indexes on the very expressions the search compares, which its planner
uses by itself. On SQLite the search asks the index for the candidates and keeps the LIKE test as
the answer: the index folds case beyond ASCII, so it may offer a candidate LIKE turns down (an
"Ü" for a "ü"), never miss one LIKE accepts.

The index cannot answer a text under three characters, and does not pay for one most customers
contain ("com" is in every email): walking the customers in name order finds a page of those at
once, while the index would list them all first. So SQLite counts the candidates, up to
CANDIDATES_AT_MOST, and uses the index only below that.
"""

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.filters import escape_like

from services.storage.sql import fetch_rows, is_postgres

LIKE_ESCAPE = "ESCAPE '\\'"  # escape_like (the ORM's) puts a backslash before %, _ and itself
INDEX = "customer_search"  # SQLite's FTS5 table over customer (name, company, email)
SHORTEST = 3  # characters: the trigram index answers nothing shorter
# Candidates above which the walk in name order wins: at 1M customers on SQLite, a page and its
# count by the index cost ~2 us a candidate, by the walk ~0.65 s whatever the text.
CANDIDATES_AT_MOST = 50_000


def phrase(text: str) -> str:
    """`text` as an FTS5 phrase, matched as it stands (inside quotes only a quote is special)."""
    return '"' + text.replace('"', '""') + '"'


def search_condition(text: str, *, alias: str, postgres: bool, indexed: bool) -> tuple[str, list[str]]:
    """The search for `text` (stripped, not empty) as a condition over the customer `alias`, with
    its parameters: the same folding the ORM's icontains uses on each database
    (services.storage.postgres_folding). `indexed`: SQLite's index names the candidates first
    (for a text of SHORTEST characters or more: the index holds no shorter piece)."""
    if postgres:
        test = 'UPPER(CAST({} AS VARCHAR) COLLATE "C") LIKE UPPER(CAST(? AS VARCHAR) COLLATE "C") ' + LIKE_ESCAPE
    else:
        test = "UPPER(CAST({} AS VARCHAR)) LIKE UPPER(?) " + LIKE_ESCAPE
    columns = [f"{alias}.{column}" for column in ("name", "company", "email")]
    pattern = f"%{escape_like(text)}%"
    like = "(" + " OR ".join(test.format(column) for column in columns) + ")"
    if not indexed:
        return like, [pattern] * len(columns)
    candidates = f"{alias}.id IN (SELECT rowid FROM {INDEX} WHERE {INDEX} MATCH ?)"
    return f"({candidates} AND {like})", [phrase(text), *[pattern] * len(columns)]


async def search_sql(connection: BaseDBAsyncClient, search: str, *, alias: str = "c") -> tuple[str, list[str]]:
    """The search as SQL over the customer `alias` ("" for no search), with its parameters."""
    text = search.strip()
    if not text:
        return "", []
    postgres = is_postgres(connection)
    indexed = not postgres and await _index_narrows(connection, text)
    return search_condition(text, alias=alias, postgres=postgres, indexed=indexed)


async def _index_narrows(connection: BaseDBAsyncClient, text: str, *, at_most: int = CANDIDATES_AT_MOST) -> bool:
    """Whether SQLite's index (there unless this SQLite lacks FTS5) offers `at_most` candidates."""
    if len(text) < SHORTEST:
        return False
    if not await fetch_rows(connection, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", INDEX):
        return False
    rows = await fetch_rows(
        connection,
        f"SELECT COUNT(*) AS n FROM (SELECT rowid FROM {INDEX} WHERE {INDEX} MATCH ? LIMIT {int(at_most) + 1})",
        phrase(text),
    )
    return rows[0]["n"] <= at_most
