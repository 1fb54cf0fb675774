from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class PromotionType(StrEnum):
    ADDITIONAL_DISCOUNT = "additional_discount"
    FREE_SHIPPING = "free_shipping"
    FREE_ITEM = "free_item"
    BOGO = "bogo"


class PromotionStatus(StrEnum):
    """What the owner chose. An active promotion is "scheduled" before its dates and "expired"
    after them; services.promotions words that, it is not stored."""

    DRAFT = "draft"
    ACTIVE = "active"


class Promotion(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    name_key = fields.CharField(max_length=120, unique=True)
    type = fields.CharEnumField(PromotionType, max_length=20)
    status = fields.CharEnumField(PromotionStatus, max_length=10, default=PromotionStatus.DRAFT)
    percent = fields.FloatField(null=True)  # additional discount, 0-100
    free_item = fields.ForeignKeyField(
        "models.Product", related_name="free_in_promotions", null=True, on_delete=fields.SET_NULL
    )
    free_item_quantity = fields.IntField(default=1)
    buy_quantity = fields.IntField(null=True)  # BOGO: buy this many ...
    get_quantity = fields.IntField(null=True)  # ... get this many of the same product free
    minimum_purchase_cents = fields.BigIntField(default=0)
    valid_from = fields.DateField(null=True)  # inclusive; empty: from now on
    valid_to = fields.DateField(null=True)  # inclusive; empty: open-ended
    stack_with_group_discount = fields.BooleanField(default=False)
    include_subgroups = fields.BooleanField(default=True)  # members of a target's subgroups are reached too
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    version = fields.IntField(default=1, db_default=1)  # guards edits against a concurrent save

    class Meta:
        table = "promotion"


class PromotionTarget(Model):
    id = fields.IntField(primary_key=True)
    promotion = fields.ForeignKeyField("models.Promotion", related_name="targets", on_delete=fields.CASCADE)
    group = fields.ForeignKeyField("models.CustomerGroup", related_name="promotion_targets", on_delete=fields.CASCADE)

    class Meta:
        table = "promotion_target"
        unique_together = (("promotion_id", "group_id"),)
