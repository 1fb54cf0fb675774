from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.group import MembershipAction


async def _count_members(apps, schema_editor) -> None:
    """Every group's member count, from its memberships as they are now."""
    await schema_editor.client.execute_script(
        "UPDATE customer_group SET member_count = "
        "(SELECT COUNT(*) FROM membership WHERE membership.group_id = customer_group.id);"
    )


class DescribeField(ops.AlterField):
    """A change only to the field's description (a new enum value): nothing changes in the table.
    Tortoise's SQLite AlterField would rebuild the table and lose its indexes for it."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [("models", "0002_rules")]

    initial = False

    operations = [
        ops.AddField(
            model_name="CustomerGroup",
            name="capacity",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="CustomerGroup",
            name="member_count",
            field=fields.IntField(default=0, db_default=0),
        ),
        DescribeField(
            model_name="MembershipEvent",
            name="action",
            field=fields.CharEnumField(
                description="JOINED: joined\nLEFT: left\nMADE_PRIMARY: made_primary\nMOVED: moved",
                enum_type=MembershipAction,
                max_length=15,
            ),
        ),
        ops.AddField(
            model_name="MembershipEvent",
            name="other_group_name",
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.RunPython(_count_members),
    ]
