from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class GroupStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class GroupType(StrEnum):
    MANUAL = "manual"
    AUTOMATIC = "automatic"
    HYBRID = "hybrid"


class MembershipSource(StrEnum):
    MANUAL = "manual"
    RULE = "rule"
    BOTH = "both"


class MembershipAction(StrEnum):
    JOINED = "joined"
    LEFT = "left"
    MADE_PRIMARY = "made_primary"


class CustomerGroup(Model):
    """A group of customers. `name_key` and `code` (stored upper-case) make name and code unique
    regardless of case; `version` guards edits against a concurrent save."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    name_key = fields.CharField(max_length=100, unique=True)
    code = fields.CharField(max_length=32, unique=True)
    description = fields.TextField(default="")
    status = fields.CharEnumField(GroupStatus, max_length=10, default=GroupStatus.ACTIVE)
    parent = fields.ForeignKeyField(
        "models.CustomerGroup", related_name="children", null=True, on_delete=fields.SET_NULL
    )
    type = fields.CharEnumField(GroupType, max_length=10, default=GroupType.MANUAL)
    rule = fields.JSONField(null=True)
    is_default = fields.BooleanField(default=False)
    metadata = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    version = fields.IntField(default=1)

    class Meta:
        table = "customer_group"


class Membership(Model):
    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField("models.Customer", related_name="memberships", on_delete=fields.CASCADE)
    group = fields.ForeignKeyField("models.CustomerGroup", related_name="memberships", on_delete=fields.CASCADE)
    source = fields.CharEnumField(MembershipSource, max_length=10, default=MembershipSource.MANUAL)
    is_primary = fields.BooleanField(default=False)
    since = fields.DatetimeField()

    class Meta:
        table = "membership"
        unique_together = (("group_id", "customer_id"),)
        indexes = (("customer_id", "is_primary"),)


class MembershipEvent(Model):
    """One change of one membership. The group is kept by id and name, not by foreign key, so the
    history of a deleted group survives it."""

    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField("models.Customer", related_name="membership_events", on_delete=fields.CASCADE)
    group_id = fields.IntField()
    group_name = fields.CharField(max_length=100)
    action = fields.CharEnumField(MembershipAction, max_length=15)
    source = fields.CharEnumField(MembershipSource, max_length=10, default=MembershipSource.MANUAL)
    reason = fields.TextField(default="")
    actor = fields.CharField(max_length=120, default="system")
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "membership_event"
        indexes = (("group_id", "at"), ("customer_id", "at"))
