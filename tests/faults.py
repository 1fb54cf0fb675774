"""Faults planted in a test's database, in its own dialect: a trigger that refuses some inserts, so
a test can fail a statement half way through a transaction and check nothing of it stayed."""

from tortoise import connections


async def refuse_inserts(name: str, *, table: str, when: str, message: str) -> None:
    """From now on an INSERT into `table` whose new row meets `when` (SQL over NEW) fails with `message`."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$; "
            f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {name}()"
        )
    else:
        await connection.execute_script(
            f"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {when} BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


async def allow_inserts(name: str, *, table: str) -> None:
    """Remove the fault `refuse_inserts` planted."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script(f"DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}()")
    else:
        await connection.execute_script(f"DROP TRIGGER {name}")
