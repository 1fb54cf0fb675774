from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """Who changed what and when: one entry per change of a group, rule, benefit, promotion, setting
    or staff account, with the values before and after. The actor is kept by name (and id when a
    staff member), so the log outlives deleted accounts."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    actor_id = fields.IntField(null=True)
    actor_name = fields.CharField(max_length=120)
    action = fields.CharField(max_length=40)  # "group.updated", "promotion.deleted", "staff.role_changed"
    subject_type = fields.CharField(max_length=30, db_index=True)  # "group", "promotion", "settings" ...
    subject_id = fields.IntField(null=True)
    subject_name = fields.CharField(max_length=200, default="")
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)

    class Meta:
        table = "audit_entry"
        indexes = (("subject_type", "subject_id", "at"),)


class ApiToken(Model):
    """A staff member's token for the REST API. Only its hash is kept, and it acts with the role of
    the staff member it belongs to."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.StaffUser", related_name="api_tokens", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    prefix = fields.CharField(max_length=12)  # shown in lists, so the owner can tell tokens apart
    token_hash = fields.CharField(max_length=128, unique=True)  # sha256 of the whole token
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"
