from tortoise import migrations
from tortoise.migrations import operations as ops
from models.customer import CustomerStatus, OrderStatus, PaymentRating
from models.group import GroupStatus, GroupType, MembershipAction, MembershipSource
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Customer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(db_index=True, max_length=200)),
                ('company', fields.CharField(default='', max_length=200)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('country', fields.CharField(default='', max_length=2)),
                ('status', fields.CharEnumField(default=CustomerStatus.ACTIVE, description='ACTIVE: active\nINACTIVE: inactive\nBLOCKED: blocked', enum_type=CustomerStatus, max_length=10)),
                ('payment_rating', fields.CharEnumField(default=PaymentRating.GOOD, description='EXCELLENT: excellent\nGOOD: good\nFAIR: fair\nPOOR: poor', enum_type=PaymentRating, max_length=10)),
                ('tags', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('metadata', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('lifetime_cents', fields.BigIntField(default=0, db_index=True)),
                ('order_count', fields.IntField(default=0, db_index=True)),
                ('first_order_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('last_order_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customer', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A buyer. The purchase stats are kept current by services.orders on every order write,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CustomerGroup',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('name_key', fields.CharField(unique=True, max_length=100)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('description', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=GroupStatus.ACTIVE, description='ACTIVE: active\nINACTIVE: inactive', enum_type=GroupStatus, max_length=10)),
                ('parent', fields.ForeignKeyField('models.CustomerGroup', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.SET_NULL)),
                ('type', fields.CharEnumField(default=GroupType.MANUAL, description='MANUAL: manual\nAUTOMATIC: automatic\nHYBRID: hybrid', enum_type=GroupType, max_length=10)),
                ('rule', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('is_default', fields.BooleanField(default=False)),
                ('metadata', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'customer_group', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A group of customers. `name_key` and `code` (stored upper-case) make name and code unique'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('group', fields.ForeignKeyField('models.CustomerGroup', source_field='group_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('source', fields.CharEnumField(default=MembershipSource.MANUAL, description='MANUAL: manual\nRULE: rule\nBOTH: both', enum_type=MembershipSource, max_length=10)),
                ('is_primary', fields.BooleanField(default=False)),
                ('since', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'membership', 'app': 'models', 'unique_together': (('group_id', 'customer_id'),), 'indexes': [Index(fields=['customer_id', 'is_primary'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MembershipEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='membership_events', on_delete=OnDelete.CASCADE)),
                ('group_id', fields.IntField()),
                ('group_name', fields.CharField(max_length=100)),
                ('action', fields.CharEnumField(description='JOINED: joined\nLEFT: left\nMADE_PRIMARY: made_primary', enum_type=MembershipAction, max_length=15)),
                ('source', fields.CharEnumField(default=MembershipSource.MANUAL, description='MANUAL: manual\nRULE: rule\nBOTH: both', enum_type=MembershipSource, max_length=10)),
                ('reason', fields.TextField(default='', unique=False)),
                ('actor', fields.CharField(default='system', max_length=120)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'membership_event', 'app': 'models', 'indexes': [Index(fields=['group_id', 'at']), Index(fields=['customer_id', 'at'])], 'pk_attr': 'id', 'table_description': 'One change of one membership. The group is kept by id and name, not by foreign key, so the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Order',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.CASCADE)),
                ('placed_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('total_cents', fields.BigIntField()),
                ('status', fields.CharEnumField(default=OrderStatus.COMPLETED, description='COMPLETED: completed\nCANCELLED: cancelled', enum_type=OrderStatus, max_length=10)),
            ],
            options={'table': 'order', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'placed_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Shop',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('currency', fields.CharField(default='USD', max_length=3)),
                ('one_group_per_customer', fields.BooleanField(default=False)),
            ],
            options={'table': 'shop', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The one shop this installation serves: its name and shop-wide settings.'},
            bases=['Model'],
        ),
    ]
