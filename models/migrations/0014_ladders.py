from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.group import MembershipAction


class ActionChoices(ops.AlterField):
    """Membership events gain "moved_up" and "moved_down" (a move between two rungs of a ladder).
    The column is plain text without a check, so only the recorded state changes: Tortoise's SQLite
    AlterField would rebuild the membership_event table."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None


class Migration(migrations.Migration):
    """Tier ladders: a parent group whose children are rungs in the owner's order, a customer on at
    most one of them. A move between rungs is one event, kept with the rung moved from (its id too,
    so both rungs' timelines find it), and sent as one member.moved that says which way; a hold
    period keeps a customer on their rung for a while after they stop qualifying."""

    dependencies = [("models", "0013_webhooks")]

    initial = False

    operations = [
        ops.AddField(
            model_name="CustomerGroup",
            name="is_ladder",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name="CustomerGroup",
            name="hold_days",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="CustomerGroup",
            name="rung",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="Membership",
            name="held_until",
            field=fields.DatetimeField(null=True),
        ),
        ActionChoices(
            model_name="MembershipEvent",
            name="action",
            field=fields.CharEnumField(
                description="JOINED: joined\nLEFT: left\nMADE_PRIMARY: made_primary\nMOVED: moved\n"
                "MOVED_UP: moved_up\nMOVED_DOWN: moved_down",
                enum_type=MembershipAction,
                max_length=15,
            ),
        ),
        ops.AddField(
            model_name="MembershipEvent",
            name="other_group_id",
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name="MembershipEvent",
            index=Index(fields=["other_group_id", "at"]),
        ),
        ops.AddField(
            model_name="WebhookEvent",
            name="action",
            field=fields.CharField(null=True, max_length=15),
        ),
        ops.AddField(
            model_name="WebhookEvent",
            name="other_group_id",
            field=fields.IntField(null=True),
        ),
    ]
