from tortoise import fields
from tortoise.models import Model


class GroupBenefits(Model):
    """What a group gives its members, one JSON document per section (pricing, visibility, portal,
    payment terms), each validated by services.benefits.sections. A setting left empty in a child group's
    inheriting section takes the parent's value."""

    id = fields.IntField(primary_key=True)
    group = fields.OneToOneField("models.CustomerGroup", related_name="benefits", on_delete=fields.CASCADE)
    pricing = fields.JSONField(default=dict)
    visibility = fields.JSONField(default=dict)
    portal = fields.JSONField(default=dict)
    payment = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "group_benefits"
