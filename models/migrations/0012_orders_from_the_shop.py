from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.customer import OrderStatus


class StatusChoices(ops.AlterField):
    """Order status gains "pending" and "refunded". The column is plain text without a check, so
    only the recorded state changes: Tortoise's SQLite AlterField would rebuild the order table."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None


class AddOrderNumber(ops.AddField):
    """The shop's order number, unique where given. SQLite cannot add a UNIQUE column, so the column
    comes first and a unique index after it (NULLs do not collide), on PostgreSQL alike."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor:
            client = state_editor.client
            await client.execute_script('ALTER TABLE "order" ADD COLUMN "number" VARCHAR(64)')
            await client.execute_script('CREATE UNIQUE INDEX "uid_order_number" ON "order" ("number")')


class Migration(migrations.Migration):
    """Orders from the shop's own exports and API: the shop's order number as their key, the currency
    they were paid in, their lines (what was bought), pending and refunded statuses; and what each
    product costs the shop, for margins."""

    dependencies = [("models", "0011_promotion_version")]

    initial = False

    operations = [
        ops.CreateModel(
            name="OrderLine",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "order",
                    fields.ForeignKeyField(
                        "models.Order",
                        source_field="order_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="lines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("sku", fields.CharField(default="", max_length=64)),
                ("name", fields.CharField(default="", max_length=200)),
                ("quantity", fields.IntField(default=1)),
                ("price_cents", fields.BigIntField(default=0)),
            ],
            options={
                "table": "order_line",
                "app": "models",
                "indexes": [Index(fields=["sku"])],
                "pk_attr": "id",
                "table_description": "One line of an order as the shop's export lists it: what was bought, how many, "
                "at what price.",
            },
            bases=["Model"],
        ),
        StatusChoices(
            model_name="Order",
            name="status",
            field=fields.CharEnumField(
                default=OrderStatus.COMPLETED,
                description="COMPLETED: completed\nPENDING: pending\nCANCELLED: cancelled\nREFUNDED: refunded",
                enum_type=OrderStatus,
                max_length=10,
            ),
        ),
        ops.AddField(
            model_name="Order",
            name="currency",
            field=fields.CharField(default="", db_default="", max_length=3),
        ),
        AddOrderNumber(
            model_name="Order",
            name="number",
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name="Product",
            name="cost_cents",
            field=fields.BigIntField(null=True),
        ),
    ]
