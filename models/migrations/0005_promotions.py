from tortoise import migrations
from tortoise.migrations import operations as ops
from models.promotion import PromotionStatus, PromotionType
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_catalog_benefits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Promotion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('name_key', fields.CharField(unique=True, max_length=120)),
                ('type', fields.CharEnumField(description='ADDITIONAL_DISCOUNT: additional_discount\nFREE_SHIPPING: free_shipping\nFREE_ITEM: free_item\nBOGO: bogo', enum_type=PromotionType, max_length=20)),
                ('status', fields.CharEnumField(default=PromotionStatus.DRAFT, description='DRAFT: draft\nACTIVE: active', enum_type=PromotionStatus, max_length=10)),
                ('percent', fields.FloatField(null=True)),
                ('free_item', fields.ForeignKeyField('models.Product', source_field='free_item_id', null=True, db_constraint=True, to_field='id', related_name='free_in_promotions', on_delete=OnDelete.SET_NULL)),
                ('free_item_quantity', fields.IntField(default=1)),
                ('buy_quantity', fields.IntField(null=True)),
                ('get_quantity', fields.IntField(null=True)),
                ('minimum_purchase_cents', fields.BigIntField(default=0)),
                ('valid_from', fields.DateField(null=True)),
                ('valid_to', fields.DateField(null=True)),
                ('stack_with_group_discount', fields.BooleanField(default=False)),
                ('include_subgroups', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'promotion', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PromotionTarget',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('promotion', fields.ForeignKeyField('models.Promotion', source_field='promotion_id', db_constraint=True, to_field='id', related_name='targets', on_delete=OnDelete.CASCADE)),
                ('group', fields.ForeignKeyField('models.CustomerGroup', source_field='group_id', db_constraint=True, to_field='id', related_name='promotion_targets', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'promotion_target', 'app': 'models', 'unique_together': (('promotion_id', 'group_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
