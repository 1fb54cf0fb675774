"""What group reports keep current instead of working out from every order on each view (issue 21).

All three are derived from the membership history and the orders, written in the same transaction
as them (services.report_totals) and rebuilt from them whenever in doubt; nothing here is a fact of
its own."""

from tortoise import fields
from tortoise.models import Model


class ReportSpan(Model):
    """A stretch of time a customer was a member of a group, as its history records it: from a
    "joined" event to the customer's next joined, left or moved event in that group (open: the far
    future). An order counts for the group when it was placed within one."""

    # On PostgreSQL the table's key is event_id and this has no index (migration 0025).
    id = fields.IntField(primary_key=True)
    group_id = fields.IntField()  # by id, like the history: a deleted group's spans stay closed
    customer_id = fields.IntField()
    event_id = fields.IntField(unique=True)  # the "joined" event it starts with
    start_at = fields.DatetimeField()
    end_at = fields.DatetimeField()

    class Meta:
        table = "report_span"
        # (group, customer ...): a group's customers in a period from the index alone, in customer
        # order; (customer, start ...): the groups an order counts for, from its customer and moment.
        indexes = (("group_id", "customer_id", "start_at", "end_at"), ("customer_id", "start_at", "end_at", "group_id"))


class ReportDay(Model):
    """A group's completed orders and their revenue on one day (UTC, as yyyymmdd), and how many of
    its spans began and ended that day. Group 0 is every customer's orders."""

    id = fields.IntField(primary_key=True)
    group_id = fields.IntField()
    day = fields.IntField()
    orders = fields.BigIntField(default=0)
    revenue_cents = fields.BigIntField(default=0)
    began = fields.BigIntField(default=0)
    ended = fields.BigIntField(default=0)

    class Meta:
        table = "report_day"
        unique_together = (("group_id", "day"),)


class ReportCustomer(Model):
    """What a customer's completed orders brought a group while a member, all time: the bound that
    lets a report find its top customers of a period without summing every member's orders."""

    id = fields.IntField(primary_key=True)
    group_id = fields.IntField()
    customer_id = fields.IntField()
    orders = fields.BigIntField(default=0)
    revenue_cents = fields.BigIntField(default=0)

    class Meta:
        table = "report_customer"
        unique_together = (("group_id", "customer_id"),)
        indexes = (("group_id", "revenue_cents", "customer_id"),)


class ReportMonth(Model):
    """What a customer's completed orders brought a group while a member in one month (UTC, as
    yyyymm): the bound for periods of a few months, much tighter than all time, so the top customers
    of the last 30 days are found among a few hundred, not tens of thousands (issue 21). A row may
    be left at nothing when its orders go (no index by customer to find it by)."""

    id = fields.IntField(primary_key=True)
    group_id = fields.IntField()
    month = fields.IntField()
    customer_id = fields.IntField()
    orders = fields.BigIntField(default=0)
    revenue_cents = fields.BigIntField(default=0)

    class Meta:
        table = "report_month"
        unique_together = (("group_id", "month", "customer_id"),)
        indexes = (("group_id", "month", "revenue_cents", "customer_id"),)
