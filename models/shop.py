from tortoise import fields
from tortoise.models import Model


class Shop(Model):
    """The one shop this installation serves: its name and shop-wide settings."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    currency = fields.CharField(max_length=3, default="USD")
    one_group_per_customer = fields.BooleanField(default=False)

    class Meta:
        table = "shop"
