from tortoise import migrations
from tortoise.migrations import operations as ops

from services.storage.sql import is_postgres


async def _forward(apps, state_editor) -> None:
    if is_postgres(state_editor.client):
        await state_editor.client.execute_script(
            "ALTER TABLE report_span DROP CONSTRAINT IF EXISTS report_span_pkey; "
            "ALTER TABLE report_span DROP CONSTRAINT IF EXISTS report_span_event_id_key; "
            "ALTER TABLE report_span ADD CONSTRAINT report_span_pkey PRIMARY KEY (event_id)"
        )


async def _backward(apps, state_editor) -> None:
    if is_postgres(state_editor.client):
        await state_editor.client.execute_script(
            "ALTER TABLE report_span DROP CONSTRAINT IF EXISTS report_span_pkey; "
            "ALTER TABLE report_span ADD CONSTRAINT report_span_event_id_key UNIQUE (event_id); "
            "ALTER TABLE report_span ADD CONSTRAINT report_span_pkey PRIMARY KEY (id)"
        )


class Migration(migrations.Migration):
    """On PostgreSQL, report_span's key is its "joined" event (already unique), and its `id` is no
    longer indexed; SQLite keeps the table as it is (its id is the row's own number, no index).

    Why (issue 21, item 3): a rule run opens a span for each join and ends one for each leave, and
    on PostgreSQL each of those wrote an entry in every index of the table, the id's among them,
    which no statement reads there (spans are found by group, customer or event; only SQLite's
    span ending goes by id). One index fewer of four, at 1M customers, PostgreSQL 15 untuned,
    each statement alone rolled back, backend CPU, load 4-4.6: ending 500,022 spans 5.7-8.2 s
    before, 5.1-6.2 s after; opening 487,169, 3.7-4.7 s before, 3.4-4.2 s after."""

    dependencies = [("models", "0024_ladder_moves_index")]

    initial = False

    operations = [ops.RunPython(_forward, _backward)]
