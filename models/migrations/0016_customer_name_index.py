from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class NameNotIndexedAlone(ops.AlterField):
    """The customer's name loses its own index (the (name, id) one below serves whatever it did). Only
    that index is dropped: Tortoise's SQLite AlterField would rebuild the customer table."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor:
            await state_editor.client.execute_script('DROP INDEX IF EXISTS "idx_customer_name_0aae8f"')


class Migration(migrations.Migration):
    """Customers by name, ties by id, from one index: lists read a page from it and seek to the next
    page from the last row shown, on PostgreSQL too (its index on name alone left ties to a sort)."""

    dependencies = [("models", "0015_run_ids")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Customer",
            index=Index(fields=["name", "id"]),
        ),
        NameNotIndexedAlone(
            model_name="Customer",
            name="name",
            field=fields.CharField(max_length=200),
        ),
    ]
