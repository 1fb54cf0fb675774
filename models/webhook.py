from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"  # the endpoint's next event in order, failed so far, tried again later
    QUEUED = "queued"  # a resend or a test event the owner asked for, sent next
    FAILED = "failed"  # given up: a resend or test that failed, or the endpoint was switched off


class WebhookEndpoint(Model):
    """An address of the shop's that wants group changes, and where sending to it stands.

    The endpoint receives the outbox's events in order: `last_event_id` is the last one it has
    passed (delivered, or not of a type it wants). Only one sender at a time works on it: the one
    holding the lease (`lease_owner` until `lease_until`), which works on SQLite and PostgreSQL."""

    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=200, default="")
    events = fields.JSONField(default=list)  # event types, e.g. ["member.joined", "member.left"]
    # The signing secret ("whsec_" + base64) is needed in full to sign, so it is kept as is; the
    # pages show it once, then only its hint.
    secret = fields.CharField(max_length=100)
    secret_hint = fields.CharField(max_length=20)
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    created_by = fields.CharField(max_length=120)
    last_event_id = fields.BigIntField(default=0)
    next_try_at = fields.DatetimeField(null=True)  # when the failing next event is tried again
    failing_since = fields.DatetimeField(null=True)  # the first failure since the last success
    disabled_at = fields.DatetimeField(null=True)
    disabled_reason = fields.TextField(default="")
    lease_owner = fields.CharField(max_length=80, null=True)
    lease_until = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_endpoint"


class WebhookEvent(Model):
    """The outbox: one change to tell the shop about, written in the transaction that made it.

    Ids give the order: on PostgreSQL every writer takes one advisory lock before it writes here
    (services.webhooks.outbox), so an id is never seen after a higher one. A membership change
    keeps its facts in columns of their own (written set-based from membership_event); the other
    kinds carry theirs in `data`. `endpoint_id` is set for a test event, sent to that endpoint only."""

    id = fields.BigIntField(primary_key=True)
    type = fields.CharField(max_length=40)
    created_at = fields.DatetimeField(db_index=True)
    endpoint_id = fields.IntField(null=True)
    membership_event_id = fields.IntField(null=True, unique=True)
    customer_id = fields.IntField(null=True)
    customer_email = fields.CharField(max_length=254, null=True)
    customer_name = fields.CharField(max_length=200, null=True)
    group_id = fields.IntField(null=True)
    group_name = fields.CharField(max_length=100, null=True)
    group_code = fields.CharField(max_length=32, null=True)
    other_group_name = fields.CharField(max_length=100, null=True)
    # The membership action behind a member event ("moved_up" ...) and, for a ladder move, the rung
    # moved from: member.moved then says from where to where, and which way.
    action = fields.CharField(max_length=15, null=True)
    other_group_id = fields.IntField(null=True)
    source = fields.CharField(max_length=10, null=True)
    reason = fields.TextField(null=True)
    data = fields.JSONField(null=True)

    class Meta:
        table = "webhook_event"


class WebhookDelivery(Model):
    """What became of one event at one endpoint: the delivery log."""

    id = fields.BigIntField(primary_key=True)
    endpoint = fields.ForeignKeyField("models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE)
    event_id = fields.BigIntField()
    event_type = fields.CharField(max_length=40)
    status = fields.CharEnumField(DeliveryStatus, max_length=10)
    attempts = fields.IntField(default=0)
    status_code = fields.IntField(null=True)
    last_error = fields.TextField(default="")
    last_tried_at = fields.DatetimeField(null=True)
    next_try_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("endpoint_id", "event_id"),)
        indexes = (("endpoint_id", "status"),)
