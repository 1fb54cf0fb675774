from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.webhook import DeliveryStatus


class Migration(migrations.Migration):
    """Webhooks out: the shop's endpoints, the outbox of events written with each change, and the
    delivery log."""

    dependencies = [('models', '0012_orders_from_the_shop')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('url', fields.CharField(max_length=2000)),
                ('description', fields.CharField(default='', max_length=200)),
                ('events', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('secret', fields.CharField(max_length=100)),
                ('secret_hint', fields.CharField(max_length=20)),
                ('enabled', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(max_length=120)),
                ('last_event_id', fields.BigIntField(default=0)),
                ('next_try_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failing_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('disabled_reason', fields.TextField(default='', unique=False)),
                ('lease_owner', fields.CharField(null=True, max_length=80)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'models', 'pk_attr': 'id', 'table_description': "An address of the shop's that wants group changes, and where sending to it stands."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event_id', fields.BigIntField()),
                ('event_type', fields.CharField(max_length=40)),
                ('status', fields.CharEnumField(description='DELIVERED: delivered\nRETRYING: retrying\nQUEUED: queued\nFAILED: failed', enum_type=DeliveryStatus, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('status_code', fields.IntField(null=True)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('last_tried_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_try_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'unique_together': (('endpoint_id', 'event_id'),), 'indexes': [Index(fields=['endpoint_id', 'status'])], 'pk_attr': 'id', 'table_description': 'What became of one event at one endpoint: the delivery log.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('type', fields.CharField(max_length=40)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('endpoint_id', fields.IntField(null=True)),
                ('membership_event_id', fields.IntField(null=True, unique=True)),
                ('customer_id', fields.IntField(null=True)),
                ('customer_email', fields.CharField(null=True, max_length=254)),
                ('customer_name', fields.CharField(null=True, max_length=200)),
                ('group_id', fields.IntField(null=True)),
                ('group_name', fields.CharField(null=True, max_length=100)),
                ('group_code', fields.CharField(null=True, max_length=32)),
                ('other_group_name', fields.CharField(null=True, max_length=100)),
                ('source', fields.CharField(null=True, max_length=10)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('data', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'webhook_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The outbox: one change to tell the shop about, written in the transaction that made it.'},
            bases=['Model'],
        ),
    ]
