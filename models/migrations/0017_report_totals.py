from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


async def _fill(apps, state_editor) -> None:
    # Imported here: the service's statements are plain SQL over tables this migration has made.
    from services.report_totals import rebuild

    await rebuild(state_editor.client, months=False)  # report_month comes with 0019


class Migration(migrations.Migration):
    """What group reports keep current (issue 21): membership spans, per group and day the orders,
    revenue and spans begun and ended, and per group and customer their revenue; filled from the
    history and the orders already there."""

    dependencies = [("models", "0016_customer_name_index")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ReportSpan",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("group_id", fields.IntField()),
                ("customer_id", fields.IntField()),
                ("event_id", fields.IntField(unique=True)),
                ("start_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("end_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "report_span",
                "app": "models",
                "indexes": [
                    Index(fields=["group_id", "customer_id", "start_at", "end_at"]),
                    Index(fields=["customer_id", "start_at", "end_at", "group_id"]),
                ],
                "pk_attr": "id",
                "table_description": "A stretch of time a customer was a member of a group, as its history records it: from a",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ReportDay",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("group_id", fields.IntField()),
                ("day", fields.IntField()),
                ("orders", fields.BigIntField(default=0)),
                ("revenue_cents", fields.BigIntField(default=0)),
                ("began", fields.BigIntField(default=0)),
                ("ended", fields.BigIntField(default=0)),
            ],
            options={
                "table": "report_day",
                "app": "models",
                "unique_together": (("group_id", "day"),),
                "pk_attr": "id",
                "table_description": "A group's completed orders and their revenue on one day (UTC, as yyyymmdd), and how many of",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ReportCustomer",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("group_id", fields.IntField()),
                ("customer_id", fields.IntField()),
                ("orders", fields.BigIntField(default=0)),
                ("revenue_cents", fields.BigIntField(default=0)),
            ],
            options={
                "table": "report_customer",
                "app": "models",
                "unique_together": (("group_id", "customer_id"),),
                "indexes": [Index(fields=["group_id", "revenue_cents", "customer_id"])],
                "pk_attr": "id",
                "table_description": "What a customer's completed orders brought a group while a member, all time: the bound that",
            },
            bases=["Model"],
        ),
        ops.RunPython(_fill),
    ]
