from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class GroupStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class GroupType(StrEnum):
    MANUAL = "manual"
    AUTOMATIC = "automatic"
    HYBRID = "hybrid"


RULE_TYPES = (GroupType.AUTOMATIC, GroupType.HYBRID)  # the types whose members a rule decides


class MembershipSource(StrEnum):
    MANUAL = "manual"
    RULE = "rule"
    BOTH = "both"


class MembershipAction(StrEnum):
    JOINED = "joined"
    # A rung left by a customer who was on more than one rung of its ladder names the rung they stay on
    # as `other_group_id` / `other_group_name`; without one, they left the group (and its ladder).
    LEFT = "left"
    MADE_PRIMARY = "made_primary"
    MOVED = "moved"  # left this group for `other_group_name` (by hand; the group joined has a JOINED)
    # A move between two rungs of a ladder: one event, recorded on the rung moved to, with the rung
    # moved from as `other_group_id` / `other_group_name`. Both rungs' timelines show it.
    MOVED_UP = "moved_up"
    MOVED_DOWN = "moved_down"


LADDER_MOVES = (MembershipAction.MOVED_UP, MembershipAction.MOVED_DOWN)


class CustomerGroup(Model):
    """A group of customers. `name_key` and `code` (stored upper-case) make name and code unique
    regardless of case; `version` guards edits against a concurrent save."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    name_key = fields.CharField(max_length=100, unique=True)
    code = fields.CharField(max_length=32, unique=True)
    description = fields.TextField(default="")
    status = fields.CharEnumField(GroupStatus, max_length=10, default=GroupStatus.ACTIVE)
    parent = fields.ForeignKeyField(
        "models.CustomerGroup", related_name="children", null=True, on_delete=fields.SET_NULL
    )
    type = fields.CharEnumField(GroupType, max_length=10, default=GroupType.MANUAL)
    rule = fields.JSONField(null=True)
    is_default = fields.BooleanField(default=False)
    metadata = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    version = fields.IntField(default=1)
    # The rule's saved version, the version the members were last set from, and that run's result.
    # A saved rule whose members are not yet applied (applied < version) is applied on next start.
    rule_version = fields.IntField(default=0, db_default=0)
    rule_applied_version = fields.IntField(default=0, db_default=0)
    rule_ran_at = fields.DatetimeField(null=True)
    rule_joined = fields.IntField(default=0, db_default=0)
    rule_left = fields.IntField(default=0, db_default=0)
    # That run's own id, which its membership events carry: two runs in the same second (a save and
    # its Undo) share rule_ran_at, so the events' `at` alone would mix their changes.
    rule_run_id = fields.CharField(max_length=32, null=True)
    # At most this many members; empty: no limit.
    capacity = fields.IntField(null=True)
    # Kept by every writer of memberships in the same transaction (services.membership.changes.recount),
    # so the overview does not count a million memberships on every visit.
    member_count = fields.IntField(default=0, db_default=0)
    # A ladder: this group's children are rungs, ordered by their `rung` (1 is the top), and a
    # customer is on at most one of them (services.rules.ladders). `hold_days`: a customer who no
    # longer qualifies for their rung keeps it that long before moving down; empty: no hold.
    is_ladder = fields.BooleanField(default=False, db_default=False)
    hold_days = fields.IntField(null=True)
    # Where this group stands among its parent's rungs when the parent is a ladder (1 is the top).
    # Unique per ladder as the ladder's services write it; a group moved in from elsewhere may bring
    # a number along, so the ladder orders by (rung, name) and renumbers when rungs are reordered.
    rung = fields.IntField(null=True)

    class Meta:
        table = "customer_group"


class RuleVersion(Model):
    """Every saved version of a group's rule, with who saved it and when."""

    id = fields.IntField(primary_key=True)
    group = fields.ForeignKeyField("models.CustomerGroup", related_name="rule_versions", on_delete=fields.CASCADE)
    number = fields.IntField()
    rule = fields.JSONField()
    author = fields.CharField(max_length=120)
    at = fields.DatetimeField()
    note = fields.CharField(max_length=200, default="")

    class Meta:
        table = "rule_version"
        unique_together = (("group_id", "number"),)


class MembershipExclusion(Model):
    """A customer the owner took out of a hybrid group: the rule may match them, but they stay out."""

    id = fields.IntField(primary_key=True)
    group = fields.ForeignKeyField("models.CustomerGroup", related_name="exclusions", on_delete=fields.CASCADE)
    customer = fields.ForeignKeyField("models.Customer", related_name="exclusions", on_delete=fields.CASCADE)
    reason = fields.TextField(default="")
    actor = fields.CharField(max_length=120, default="system")
    at = fields.DatetimeField()

    class Meta:
        table = "membership_exclusion"
        unique_together = (("group_id", "customer_id"),)


class Membership(Model):
    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField("models.Customer", related_name="memberships", on_delete=fields.CASCADE)
    group = fields.ForeignKeyField("models.CustomerGroup", related_name="memberships", on_delete=fields.CASCADE)
    source = fields.CharEnumField(MembershipSource, max_length=10, default=MembershipSource.MANUAL)
    is_primary = fields.BooleanField(default=False)
    since = fields.DatetimeField()
    # On a ladder's rung: the customer no longer qualifies for it and keeps it until then (the
    # ladder's hold period); empty otherwise.
    held_until = fields.DatetimeField(null=True)

    class Meta:
        table = "membership"
        unique_together = (("group_id", "customer_id"),)
        # (group_id, source, customer_id): a group's members by source (what a rule preview may take
        # out of a hybrid group) are counted from the index, without a row read per member.
        indexes = (("customer_id", "is_primary"), ("group_id", "source", "customer_id"))


class MembershipEvent(Model):
    """One change of one membership. The group is kept by id and name, not by foreign key, so the
    history of a deleted group survives it.

    The customer is a relation without a database constraint on PostgreSQL (migration 0020): every
    event is written beside the membership row it records, whose own key checks the customer, and
    the shop deletes no customers; PostgreSQL checks a key once per row, which was 5 s of each
    500,000-event rule run. SQLite keeps the constraint its table was made with (a check there is
    an index probe, and dropping it would copy the table)."""

    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="membership_events", on_delete=fields.CASCADE, db_constraint=False
    )
    group_id = fields.IntField()
    group_name = fields.CharField(max_length=100)
    action = fields.CharEnumField(MembershipAction, max_length=15)
    source = fields.CharEnumField(MembershipSource, max_length=10, default=MembershipSource.MANUAL)
    reason = fields.TextField(default="")
    actor = fields.CharField(max_length=120, default="system")
    at = fields.DatetimeField(db_index=True)
    # For a move: the group moved to (action "moved") or from (actions "joined", "moved_up",
    # "moved_down"); the id is kept for ladder moves, whose one event shows on both rungs. For a
    # "left" of a rung: the rung of the same ladder the customer stays on, if any.
    other_group_name = fields.CharField(max_length=100, null=True)
    other_group_id = fields.IntField(null=True)
    # The rule or ladder run that recorded it (its group's `rule_run_id`); empty for a change by hand.
    run_id = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "membership_event"
        # (other_group_id, at) holds only the events naming another group (migration 0024).
        indexes = (("group_id", "at"), ("customer_id", "at"), ("other_group_id", "at"))
