from tortoise import migrations
from tortoise.migrations import operations as ops

# Named: the reports ask SQLite for it by name (INDEXED BY); its planner prefers the table's rows.
INDEX = "customer_report_stats"


async def _create(apps, state_editor) -> None:
    await state_editor.client.execute_script(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON customer (id, lifetime_cents, first_order_at, last_order_at)"
    )


class Migration(migrations.Migration):
    """A customer's lifetime value and first and last order, narrow and in id order (issue 21): the
    comparison reads them for each of ~600,000 customers of six groups at a million customers, a
    fifth faster than from the customers' rows."""

    dependencies = [("models", "0020_history_customer_unchecked")]

    initial = False

    operations = [ops.RunPython(_create)]
