from tortoise import migrations
from tortoise.migrations import operations as ops

INDEX = "idx_membership__other_g_7a7de2"  # Tortoise's name for the model's (other_group_id, at) index


def _index(where: str) -> str:
    return (
        f'DROP INDEX IF EXISTS "{INDEX}"; CREATE INDEX "{INDEX}" ON "membership_event" ("other_group_id", "at"){where}'
    )


async def _forward(apps, state_editor) -> None:
    await state_editor.client.execute_script(_index(' WHERE "other_group_id" IS NOT NULL'))


async def _backward(apps, state_editor) -> None:
    await state_editor.client.execute_script(_index(""))


class Migration(migrations.Migration):
    """The history's (other_group_id, at) index holds only the events that name another group
    (moves, a rung's leave that keeps the ladder's other rung), on SQLite and PostgreSQL alike.

    Why (issue 21): every event of a rule run, a join or a leave naming no other group, wrote an
    entry of NULL there that no query reads: each one looks for `other_group_id = ?` (a group's
    timeline, a ladder's moves, a run's changes), which both databases know cannot be NULL, so
    they still use the index. The model's Meta keeps the index as it was declared (Tortoise has no
    IS NOT NULL condition); only its rows change."""

    dependencies = [("models", "0023_membership_unchecked")]

    initial = False

    operations = [ops.RunPython(_forward, _backward)]
