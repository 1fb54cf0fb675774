from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class DropPlacedAtIndex(ops.AlterField):
    """placed_at loses its own index (the new covering index starts with it). Only the index goes:
    Tortoise's SQLite AlterField would rebuild the order table for it."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor:
            await state_editor.client.execute_script('DROP INDEX IF EXISTS "idx_order_placed__e2db91"')


class Migration(migrations.Migration):
    dependencies = [("models", "0005_promotions")]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name="Order",
            name=None,
            fields=["customer_id", "placed_at"],
        ),
        DropPlacedAtIndex(
            model_name="Order",
            name="placed_at",
            field=fields.DatetimeField(auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name="Order",
            index=Index(fields=["customer_id", "placed_at", "status", "total_cents"]),
        ),
        ops.AddIndex(
            model_name="Order",
            index=Index(fields=["placed_at", "status", "total_cents"]),
        ),
    ]
