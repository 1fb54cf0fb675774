from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


async def _fill(apps, state_editor) -> None:
    # Imported here: the service's statements are plain SQL over tables this migration has made.
    from services.report_totals import rebuild_months

    await rebuild_months(state_editor.client)


class Migration(migrations.Migration):
    """Per group, month and customer the revenue counted for the group (issue 21): the top customers
    of a short period walk only its months; filled from the spans and the orders already there."""

    dependencies = [("models", "0018_membership_source_index")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ReportMonth",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("group_id", fields.IntField()),
                ("month", fields.IntField()),
                ("customer_id", fields.IntField()),
                ("orders", fields.BigIntField(default=0)),
                ("revenue_cents", fields.BigIntField(default=0)),
            ],
            options={
                "table": "report_month",
                "app": "models",
                "unique_together": (("group_id", "month", "customer_id"),),
                "indexes": [Index(fields=["group_id", "month", "revenue_cents", "customer_id"])],
                "pk_attr": "id",
                "table_description": "What a customer's completed orders brought a group while a member in one month (UTC, as",
            },
            bases=["Model"],
        ),
        ops.RunPython(_fill),
    ]
