from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """A rule or ladder run's own id, kept on its groups and carried by the membership events it
    records: runs are timed in whole seconds, and a save and its Undo in the same second read back
    as one run. Older events have none and are still found by their moment."""

    dependencies = [("models", "0014_ladders")]

    initial = False

    operations = [
        ops.AddField(
            model_name="CustomerGroup",
            name="rule_run_id",
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name="MembershipEvent",
            name="run_id",
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
