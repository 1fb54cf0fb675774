from tortoise import migrations
from tortoise.migrations import operations as ops

from services.storage.sql import is_postgres

# What the two foreign keys' ON DELETE CASCADE did, once per DELETE statement instead of per row.
FOLLOW = """
CREATE OR REPLACE FUNCTION membership_follows_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM membership m USING gone WHERE m.{column} = gone.id;
    RETURN NULL;
END $$;
CREATE TRIGGER membership_follows_{table} AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION membership_follows_{table}();
ALTER TABLE membership DROP CONSTRAINT IF EXISTS membership_{column}_fkey;
"""
KEYS = {"customer": "customer_id", "customer_group": "group_id"}


async def _forward(apps, state_editor) -> None:
    if is_postgres(state_editor.client):
        for table, column in KEYS.items():
            await state_editor.client.execute_script(FOLLOW.format(table=table, column=column))


async def _backward(apps, state_editor) -> None:
    if is_postgres(state_editor.client):
        for table, column in KEYS.items():
            await state_editor.client.execute_script(
                f"DROP TRIGGER IF EXISTS membership_follows_{table} ON {table}; "
                f"DROP FUNCTION IF EXISTS membership_follows_{table}(); "
                f"ALTER TABLE membership ADD CONSTRAINT membership_{column}_fkey FOREIGN KEY ({column}) "
                f"REFERENCES {table} (id) ON DELETE CASCADE"
            )


class Migration(migrations.Migration):
    """Membership rows without per-row foreign-key checks on PostgreSQL (issue 21: rule runs moving
    500k members); SQLite keeps its constraints (a check there is an index probe, and dropping one
    would copy the table). The model keeps its relations: only PostgreSQL's checks go.

    Why it is safe, as for the history's customer in 0020: every writer of membership rows locks
    the group's row first and fails if it is gone (rule runs, ladders, members added by hand or by
    "select all matching"), and a group's deletion waits for that lock; the customers come from the
    customer table in the writer's own transaction, and the shop deletes no customers. What it
    costs: PostgreSQL checks each key with one query per inserted row (the group's row locked FOR KEY
    SHARE 500,000 times over), 10.7 s -> 5.2 s for 500,000 members at 1M customers. Deleting a
    customer or a group still takes their memberships with them: a trigger per DELETE statement."""

    dependencies = [("models", "0022_customer_search")]

    initial = False

    operations = [ops.RunPython(_forward, _backward)]
