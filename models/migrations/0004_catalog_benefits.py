from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_members')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Category',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
            ],
            options={'table': 'category', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupBenefits',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.OneToOneField('models.CustomerGroup', source_field='group_id', db_constraint=True, to_field='id', related_name='benefits', on_delete=OnDelete.CASCADE)),
                ('pricing', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('visibility', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('portal', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('payment', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'group_benefits', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What a group gives its members, one JSON document per section (pricing, visibility, portal,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PriceList',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('description', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'price_list', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VisibilityGroup',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('is_standard', fields.BooleanField(default=False)),
            ],
            options={'table': 'visibility_group', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A set of products shown together (seed 003: Standard Products, VIP Exclusive Products ...).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Product',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sku', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(db_index=True, max_length=200)),
                ('category', fields.ForeignKeyField('models.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='products', on_delete=OnDelete.RESTRICT)),
                ('visibility_group', fields.ForeignKeyField('models.VisibilityGroup', source_field='visibility_group_id', db_constraint=True, to_field='id', related_name='products', on_delete=OnDelete.RESTRICT)),
                ('base_price_cents', fields.BigIntField()),
            ],
            options={'table': 'product', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PriceListItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('price_list', fields.ForeignKeyField('models.PriceList', source_field='price_list_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='price_list_items', on_delete=OnDelete.CASCADE)),
                ('min_quantity', fields.IntField(default=1)),
                ('price_cents', fields.BigIntField()),
            ],
            options={'table': 'price_list_item', 'app': 'models', 'unique_together': (('price_list_id', 'product_id', 'min_quantity'),), 'pk_attr': 'id', 'table_description': "A product's price on a price list from `min_quantity` units per line on (quantity tiers)."},
            bases=['Model'],
        ),
    ]
