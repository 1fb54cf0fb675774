import logging

from tortoise import migrations
from tortoise.migrations import operations as ops

from services.storage.sql import is_postgres

logger = logging.getLogger(__name__)
INDEX = "customer_search"  # services/customer_search.py reads it by this name

# SQLite: an FTS5 table of the customers' trigrams, its content read from customer itself (stored
# once), kept by triggers. An update that leaves the three columns alone (an order moving a
# customer's lifetime value) does not touch it.
SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {INDEX} USING fts5("
    "name, company, email, content='customer', content_rowid='id', tokenize='trigram')"
)
SQLITE_UPKEEP = f"""
CREATE TRIGGER IF NOT EXISTS {INDEX}_insert AFTER INSERT ON customer BEGIN
    INSERT INTO {INDEX} (rowid, name, company, email) VALUES (new.id, new.name, new.company, new.email);
END;
CREATE TRIGGER IF NOT EXISTS {INDEX}_update AFTER UPDATE OF name, company, email ON customer BEGIN
    INSERT INTO {INDEX} ({INDEX}, rowid, name, company, email)
        VALUES ('delete', old.id, old.name, old.company, old.email);
    INSERT INTO {INDEX} (rowid, name, company, email) VALUES (new.id, new.name, new.company, new.email);
END;
CREATE TRIGGER IF NOT EXISTS {INDEX}_delete AFTER DELETE ON customer BEGIN
    INSERT INTO {INDEX} ({INDEX}, rowid, name, company, email)
        VALUES ('delete', old.id, old.name, old.company, old.email);
END;
INSERT INTO {INDEX} ({INDEX}) VALUES ('rebuild');
"""

# PostgreSQL: pg_trgm's GIN indexes on the expressions services.customer_search compares, which
# the planner then uses for LIKE '%text%' by itself. pg_trgm ships with PostgreSQL and any database
# owner may add it (a trusted extension); where a host forbids it, the search scans as before.
POSTGRES = """
DO $$ BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): searching customers reads every customer', SQLERRM;
END $$;
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS customer_name_trigrams
            ON customer USING gin ((UPPER(CAST(name AS VARCHAR) COLLATE "C")) gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS customer_company_trigrams
            ON customer USING gin ((UPPER(CAST(company AS VARCHAR) COLLATE "C")) gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS customer_email_trigrams
            ON customer USING gin ((UPPER(CAST(email AS VARCHAR) COLLATE "C")) gin_trgm_ops);
    END IF;
END $$;
"""


async def _create(apps, state_editor) -> None:
    client = state_editor.client
    if is_postgres(client):
        await client.execute_script(POSTGRES)
        return
    try:
        await client.execute_script(SQLITE_TABLE)
    except Exception as error:  # a Python built against an SQLite without FTS5: "no such module"
        logger.warning("This SQLite has no FTS5 (%s): searching customers reads every customer.", error)
        return
    await client.execute_script(SQLITE_UPKEEP)


class Migration(migrations.Migration):
    """An index of the customers' names, companies and emails by trigram, so that searching a
    million customers for a piece of a name reads the few that have it (issue 21;
    services/customer_search.py). Building it reads every customer once: about 12 s at 1M on SQLite."""

    dependencies = [("models", "0021_customer_report_stats")]

    initial = False

    operations = [ops.RunPython(_create)]
