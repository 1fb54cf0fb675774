from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from services.storage.sql import is_postgres


class UncheckedCustomer(ops.AlterField):
    """The history's customer without a foreign-key constraint, on PostgreSQL only (issue 21).

    Why it is safe to drop: every membership event is written in the transaction that writes or
    deletes the membership row it records, and membership keeps its own constraint on the customer
    (so no event names a customer who is not there), and the shop never deletes a customer (no
    service does; the cascade that took a deleted customer's history with them had nothing to do).
    What it costs: PostgreSQL checks a foreign key with one query per inserted row, 5.3 of the
    11.8 s of writing 500,000 events at 1M customers, twice in a rule run that moves 500k members.
    SQLite keeps the constraint: its check is an index probe, and dropping it would copy the table."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor and is_postgres(state_editor.client):
            await state_editor.client.execute_script(
                "ALTER TABLE membership_event DROP CONSTRAINT IF EXISTS membership_event_customer_id_fkey"
            )

    async def database_backwards(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor and is_postgres(state_editor.client):
            await state_editor.client.execute_script(
                "ALTER TABLE membership_event ADD CONSTRAINT membership_event_customer_id_fkey "
                "FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE"
            )


class Migration(migrations.Migration):
    """Membership history without a per-row key check on PostgreSQL (issue 21: rule runs moving 500k members)."""

    dependencies = [("models", "0019_report_months")]

    initial = False

    operations = [
        UncheckedCustomer(
            model_name="MembershipEvent",
            name="customer",
            field=fields.ForeignKeyField(
                "models.Customer",
                source_field="customer_id",
                db_constraint=False,
                to_field="id",
                related_name="membership_events",
                on_delete=OnDelete.CASCADE,
            ),
        ),
    ]
