from tortoise import fields
from tortoise.models import Model


class Category(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)

    class Meta:
        table = "category"


class VisibilityGroup(Model):
    """A set of products shown together (seed 003: Standard Products, VIP Exclusive Products ...).
    Products of the standard visibility group are shown to every customer."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    is_standard = fields.BooleanField(default=False)

    class Meta:
        table = "visibility_group"


class Product(Model):
    id = fields.IntField(primary_key=True)
    sku = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200, db_index=True)
    category = fields.ForeignKeyField("models.Category", related_name="products", on_delete=fields.RESTRICT)
    visibility_group = fields.ForeignKeyField(
        "models.VisibilityGroup", related_name="products", on_delete=fields.RESTRICT
    )
    base_price_cents = fields.BigIntField()
    # What one unit costs the shop; None when not known (reports then estimate the margin).
    cost_cents = fields.BigIntField(null=True)

    class Meta:
        table = "product"


class PriceList(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    description = fields.TextField(default="")

    class Meta:
        table = "price_list"


class PriceListItem(Model):
    """A product's price on a price list from `min_quantity` units per line on (quantity tiers)."""

    id = fields.IntField(primary_key=True)
    price_list = fields.ForeignKeyField("models.PriceList", related_name="items", on_delete=fields.CASCADE)
    product = fields.ForeignKeyField("models.Product", related_name="price_list_items", on_delete=fields.CASCADE)
    min_quantity = fields.IntField(default=1)
    price_cents = fields.BigIntField()

    class Meta:
        table = "price_list_item"
        unique_together = (("price_list_id", "product_id", "min_quantity"),)
