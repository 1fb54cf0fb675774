"""Membership by hand: adding customers to groups and taking them out, within the shop's rules.

Every manual change of who is in which group goes through here: the group page's dialogs, the
new-group wizard, the CSV import and the API. services.rules.runs sets rule-based members in bulk
and keeps the same books (an event per change, the group's member count, one primary group).

How each action is built:

- One transaction on the background connection, so page reads go on while 10,000 members are
  added. On SQLite it holds the write lock from its start (services.storage.sqlite_writers); the checks
  below read inside it, so two owners adding to the last free places of a group cannot both get
  them. PostgreSQL locks rows, not the database: there
  the action first locks the customers it changes (SELECT ... FOR NO KEY UPDATE, in id order),
  then the groups it changes or recounts (in id order too; a move includes the groups it takes
  them out of), so two actions on one customer (adding them to two different groups while the
  shop allows one group per customer) run one after the other, and the second sees the first's
  result. Customers before groups, each in id order: two actions never wait for each other in a
  circle. NO KEY UPDATE rather than UPDATE: a rule run inserting a membership of the customer
  (its foreign key check takes a KEY SHARE lock) is not held up by it.
- Plan, then write: the customers' current memberships are read once, the whole change is worked
  out in Python (who joins, who leaves, which exclusions, which primary group), and then written
  with a few set-based statements. Either every constraint holds and all of it is written, or a
  FormError says what stops it and nothing is.
- One event per change: joined, left, moved (with the group moved to; the joining event at the
  other end names the group moved from) and made primary.
- Ladders (services.rules.ladders): a customer is on at most one rung of a ladder. Adding them to a
  rung by hand, or moving them there from another rung, takes them off the ladder's other rungs
  with ONE event per rung left ("moved up" / "moved down", on the rung joined), never a leave plus
  a join, and no exclusion on the rung left; the rung joined by hand pins them there. After the
  change commits, the ladder places again the customers it touched (someone taken off a rung lands
  on the highest other rung they qualify for).

The shop's rules:

- Blocked customers are never added (they are skipped and named in the result); inactive groups
  accept no new members; a group with a capacity takes no more than that.
- An automatic group's members follow its rule: nobody is added or removed by hand (the owner is
  offered to turn it hybrid). "Move from current group" leaves such a group's membership as it is
  and says so; with "one group per customer" on, such a move is refused instead.
- Taking a customer the rule matches out of a hybrid group records an exclusion, so the next rule
  run does not bring them back; adding them again lifts it.
- With "one group per customer" on, nobody gets a second group: adding someone who is in another
  group is refused unless the owner chose "Move from current group".
- Every customer with a group has exactly one primary group: the one chosen with "as primary",
  else the one they had, else their newest.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.customer import CustomerStatus
from models.group import (
    CustomerGroup,
    GroupStatus,
    GroupType,
    Membership,
    MembershipAction,
    MembershipEvent,
    MembershipExclusion,
    MembershipSource,
)
from services.errors import FormError, NotFoundError
from services.membership.admission import Closed, closed_to_hand
from services.membership.books import (
    chunks,
    one_at_a_time_if_one_group,
    one_group_per_customer,
    recount,
)
from services.rules.ladders import rung_order, rung_places, settle_customers
from services.rules.runs import apply_readers, apply_rule
from services.staff.actor import Acting, Permission, actor_name, require
from services.storage.conflicts import retried_on_conflict
from services.storage.database import BACKGROUND, reader_connection
from services.storage.sql import execute, fetch_rows, insert_rows, is_postgres, placeholders, saved_moment
from services.webhooks import outbox
from services.wording import count

logger = logging.getLogger(__name__)

EXAMPLES = 3  # names quoted in a message or a result


class AddMode(StrEnum):
    ADD = "add"
    MOVE = "move"
    PRIMARY = "primary"


class RemoveMode(StrEnum):
    DEFAULT_GROUP = "default_group"
    OTHER_GROUP = "other_group"
    REMOVE = "remove"


ADD_MODE_LABELS = {
    AddMode.ADD: "Add to this group only",
    AddMode.MOVE: "Move from current group",
    AddMode.PRIMARY: "Add to this group as primary",
}
REMOVE_MODE_LABELS = {
    RemoveMode.DEFAULT_GROUP: "Move to default group",
    RemoveMode.OTHER_GROUP: "Move to specific group",
    RemoveMode.REMOVE: "Remove group assignment (keep other groups)",
}


@dataclass(frozen=True)
class AddResult:
    """What adding customers to one group did."""

    group_id: int
    group_name: str
    added: int  # new members
    already: int  # were members already
    made_primary: int  # now have this group as primary, by the owner's choice
    moved_out: int  # memberships ended elsewhere by "Move from current group"
    blocked: int = 0  # blocked customers, not added
    blocked_names: tuple[str, ...] = ()
    kept_by_rule: int = 0  # memberships of automatic groups a move left alone
    kept_by_rule_names: tuple[str, ...] = ()  # "DataFlow Corp (Gold Tier)"

    def summary(self) -> str:
        """One line for the owner, e.g. "Added 2 customers to VIP Customers; 2 moved from their groups."."""
        parts = [f"Added {count(self.added, 'customer')} to {self.group_name}"]
        if self.already:
            parts.append(f"{count(self.already, 'was', 'were')} already in it")
        if self.moved_out:
            parts.append(f"{count(self.moved_out, 'membership')} elsewhere ended")
        if self.made_primary:
            parts.append(f"now the primary group of {count(self.made_primary, 'customer')}")
        if self.blocked:
            parts.append(f"{count(self.blocked, 'blocked customer')} not added ({_names(self.blocked_names)})")
        if self.kept_by_rule:
            parts.append(
                f"{count(self.kept_by_rule, 'membership')} kept because an automatic group's rule includes "
                f"them ({_names(self.kept_by_rule_names)})"
            )
        return "; ".join(parts) + "."


@dataclass(frozen=True)
class RemoveResult:
    """What taking customers out of one group did."""

    group_id: int
    group_name: str
    removed: int
    excluded: int  # rule-matched members of a hybrid group, now kept out of it
    not_members: int  # selected but not in the group (e.g. removed meanwhile)
    moved_to: str | None = None  # the group they were moved to
    joined_target: int = 0  # of those removed, how many joined it (the rest were in it already)
    blocked: int = 0  # blocked customers: removed, but not added to the other group

    def summary(self) -> str:
        text = f"Removed {count(self.removed, 'customer')} from {self.group_name}"
        if self.moved_to:
            text += f" and moved them to {self.moved_to}"
        extras = []
        if self.excluded:
            extras.append(f"{count(self.excluded, 'customer')} the rule matches will stay out")
        if self.blocked:
            extras.append(f"{count(self.blocked, 'blocked customer')} not added to {self.moved_to}")
        if self.not_members:
            extras.append(f"{count(self.not_members, 'selected customer')} not in the group")
        return text + ("; " + "; ".join(extras) if extras else "") + "."


def _names(names: Sequence[str], total: int | None = None) -> str:
    total = len(names) if total is None else total
    shown = ", ".join(names[:EXAMPLES])
    return shown if total <= EXAMPLES else f"{shown} and {total - EXAMPLES:,} more"


# --- Reading what is there --------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    id: int
    name: str
    type: GroupType
    status: GroupStatus
    capacity: int | None
    members: int
    is_ladder: bool = False
    rungs: tuple[str, ...] = ()  # a ladder's rungs, top first


@dataclass
class _Held:
    """One membership a customer has, as read at the start of the action."""

    id: int | None  # None: created by this action
    group_id: int
    source: MembershipSource
    is_primary: bool
    since: datetime


@dataclass
class _Customer:
    id: int
    name: str
    blocked: bool
    held: list[_Held] = field(default_factory=list)

    def in_group(self, group_id: int) -> _Held | None:
        return next((h for h in self.held if h.group_id == group_id), None)


async def _lock_customers(connection: BaseDBAsyncClient, customer_ids: Iterable[int]) -> None:
    """On PostgreSQL, lock the customers' rows until the transaction ends (see the module's notes).
    On SQLite the write lock _lock_groups takes already lets one action run at a time."""
    if not is_postgres(connection):
        return
    for chunk in chunks(sorted(set(customer_ids))):
        await fetch_rows(
            connection,
            f"SELECT id FROM customer WHERE id IN ({placeholders(chunk)}) ORDER BY id FOR NO KEY UPDATE",
            *chunk,
        )


async def _groups_left_by_move(connection: BaseDBAsyncClient, customer_ids: Iterable[int]) -> set[int]:
    """On PostgreSQL, the groups the (locked) customers are in now: a move takes them out and
    recounts those groups, so it locks them with the others. SQLite's write lock covers them."""
    if not is_postgres(connection):
        return set()
    found: set[int] = set()
    for chunk in chunks(sorted(set(customer_ids))):
        rows = await fetch_rows(
            connection, f"SELECT DISTINCT group_id FROM membership WHERE customer_id IN ({placeholders(chunk)})", *chunk
        )
        found.update(row["group_id"] for row in rows)
    return found


async def _lock_groups(
    connection: BaseDBAsyncClient, group_ids: Iterable[int], *, recounted: Iterable[int] = ()
) -> dict[int, _Group]:
    """Lock the groups (PostgreSQL: their rows; SQLite's transaction holds the write lock already),
    then read them as they now are. `recounted`: groups the action also changes without reading
    them, locked with the others."""
    ids = sorted(set(group_ids))
    locked = sorted(set(ids) | set(recounted))
    if is_postgres(connection):  # one row after the other, in id order (an UPDATE's order is the plan's)
        await fetch_rows(
            connection,
            f"SELECT id FROM customer_group WHERE id IN ({placeholders(locked)}) ORDER BY id FOR NO KEY UPDATE",
            *locked,
        )
    return await _read_groups(connection, ids)


async def _read_groups(connection: BaseDBAsyncClient, ids: Sequence[int]) -> dict[int, _Group]:
    rows = (
        await CustomerGroup.filter(id__in=ids)
        .using_db(connection)
        .values("id", "name", "type", "status", "capacity", "member_count", "is_ladder")
    )
    ladders = [r["id"] for r in rows if r["is_ladder"]]
    rungs = {}
    if ladders:  # named in the refusal: a ladder's group takes no one by hand, its rungs do
        children = (
            await CustomerGroup.filter(parent_id__in=ladders)
            .using_db(connection)
            .values_list("parent_id", "id", "name", "rung")
        )
        for ladder_id in ladders:
            mine = {gid: name for parent, gid, name, _ in children if parent == ladder_id}
            order = rung_order((gid, name, rung) for parent, gid, name, rung in children if parent == ladder_id)
            rungs[ladder_id] = tuple(mine[gid] for gid in order)
    return {
        r["id"]: _Group(
            r["id"],
            r["name"],
            GroupType(r["type"]),
            GroupStatus(r["status"]),
            r["capacity"],
            r["member_count"],
            r["is_ladder"],
            rungs.get(r["id"], ()),
        )
        for r in rows
    }


async def _customers(connection: BaseDBAsyncClient, customer_ids: Sequence[int]) -> dict[int, _Customer]:
    """The customers (those that exist) with every membership they hold.

    Our own SQL, not the ORM's: its IN list of 10,000 ids and its conversion of each row took
    0.35 s of a 10,000-member move, the database's reading 0.05 s."""
    found: dict[int, _Customer] = {}
    since = Membership._meta.fields_map["since"]
    for chunk in chunks(customer_ids):
        ids = placeholders(chunk)
        for row in await fetch_rows(connection, f"SELECT id, name, status FROM customer WHERE id IN ({ids})", *chunk):
            found[row["id"]] = _Customer(row["id"], row["name"], row["status"] == CustomerStatus.BLOCKED.value)
        for row in await fetch_rows(
            connection,
            f"SELECT id, customer_id, group_id, source, is_primary, since FROM membership WHERE customer_id IN ({ids})",
            *chunk,
        ):
            held = _Held(
                row["id"],
                row["group_id"],
                MembershipSource(row["source"]),
                bool(row["is_primary"]),
                saved_moment(row["since"], since),
            )
            found[row["customer_id"]].held.append(held)
    return found


class _Named(NamedTuple):
    """A group as the plan needs it: its name and type, and where it stands on a ladder, if it is a rung."""

    name: str
    type: GroupType
    ladder_id: int | None = None
    rung: int | None = None  # 1 is the top

    def same_ladder(self, other: "_Named") -> bool:
        return self.ladder_id is not None and self.ladder_id == other.ladder_id


async def _group_names(connection: BaseDBAsyncClient) -> dict[int, _Named]:
    rows = await CustomerGroup.all().using_db(connection).values_list("id", "name", "type")
    places = await rung_places(connection)
    return {
        gid: _Named(
            name,
            GroupType(kind),
            places[gid].ladder_id if gid in places else None,
            places[gid].position if gid in places else None,
        )
        for gid, name, kind in rows
    }


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


# --- The plan ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Everything one action writes, worked out before anything is written."""

    actor: str
    reason: str
    now: datetime
    delete: list[int] = field(default_factory=list)  # membership ids
    source: dict[int, MembershipSource] = field(default_factory=dict)  # membership id -> new source
    exclude: dict[int, list[int]] = field(default_factory=dict)  # group -> customers to keep out
    lift: dict[int, list[int]] = field(default_factory=dict)  # group -> customers no longer kept out
    events: list[tuple] = field(default_factory=list)
    touched_groups: set[int] = field(default_factory=set)
    touched: dict[int, _Customer] = field(default_factory=dict)
    primary_choice: dict[int, int] = field(default_factory=dict)  # customer -> group chosen as primary

    def event(
        self,
        customer: _Customer,
        group_id: int,
        group_name: str,
        action: MembershipAction,
        source: MembershipSource,
        other: str | None = None,
        other_id: int | None = None,
    ) -> None:
        self.events.append(
            (customer.id, group_id, group_name, action, source, self.reason, self.actor, self.now, other, other_id)
        )
        self.touched_groups.add(group_id)
        self.touched[customer.id] = customer

    def join(self, customer: _Customer, group: _Group, *, moved_from: str | None = None) -> None:
        customer.held.append(_Held(None, group.id, MembershipSource.MANUAL, False, self.now))
        self.lift.setdefault(group.id, []).append(customer.id)
        self.event(customer, group.id, group.name, MembershipAction.JOINED, MembershipSource.MANUAL, moved_from)

    def leave(self, customer: _Customer, held: _Held, group: _Named, *, moved_to: str | None) -> bool:
        """Take the customer out; True if a hybrid group's rule matched them (now an exclusion)."""
        name, kind = group.name, group.type
        customer.held.remove(held)
        if held.id is not None:
            self.delete.append(held.id)
        action = MembershipAction.MOVED if moved_to else MembershipAction.LEFT
        self.event(customer, held.group_id, name, action, held.source, moved_to)
        matched = kind == GroupType.HYBRID and held.source in (MembershipSource.RULE, MembershipSource.BOTH)
        if matched:
            self.exclude.setdefault(held.group_id, []).append(customer.id)
        return matched

    def along_ladder(self, customer: _Customer, group: _Group, names: Mapping[int, _Named]) -> bool:
        """Put the customer on rung `group` by hand, off the other rungs of its ladder they are on:
        one "moved up" / "moved down" event per rung left, on `group` (see the module's notes). No
        exclusion on a rung left: the pin here keeps them off it. True if they were on another rung."""
        here = names[group.id]
        others = [h for h in customer.held if h.group_id != group.id and names[h.group_id].same_ladder(here)]
        for held in others:
            customer.held.remove(held)
            if held.id is not None:
                self.delete.append(held.id)
            left = names[held.group_id]
            up = here.rung < left.rung
            action = MembershipAction.MOVED_UP if up else MembershipAction.MOVED_DOWN
            self.event(customer, group.id, group.name, action, MembershipSource.MANUAL, left.name, held.group_id)
            self.touched_groups.add(held.group_id)
        if others and customer.in_group(group.id) is None:
            customer.held.append(_Held(None, group.id, MembershipSource.MANUAL, False, self.now))
            self.lift.setdefault(group.id, []).append(customer.id)
        return bool(others)


def _settle_primaries(plan: _Plan, group_names: Mapping[int, _Named]) -> tuple[list, list, int]:
    """Who ends up with which primary group: (ids to set, ids to clear, owner's choices made).

    New memberships carry their flag in `held`; a chosen primary group gets a "made primary" event."""
    set_ids, clear_ids, chosen = [], [], 0
    for customer in plan.touched.values():
        if not customer.held:
            continue
        want = plan.primary_choice.get(customer.id)
        current = next((h for h in customer.held if h.is_primary), None)
        if want is not None:
            winner = customer.in_group(want)
        elif current is not None:
            winner = current
        else:
            winner = max(customer.held, key=lambda h: (h.since, h.id is None, h.id or 0))
        for held in customer.held:
            should = held is winner
            if held.is_primary != should:
                if held.id is not None:
                    (set_ids if should else clear_ids).append(held.id)
                held.is_primary = should
        if want is not None and winner is not current:
            chosen += 1
            name = group_names[want][0]
            plan.event(customer, want, name, MembershipAction.MADE_PRIMARY, winner.source)
    return set_ids, clear_ids, chosen


async def _write(connection: BaseDBAsyncClient, plan: _Plan, set_ids: list[int], clear_ids: list[int]) -> None:
    # Our own statements rather than the ORM's filter(id__in=...): building its IN list of 10,000
    # ids cost more than running it.
    for chunk in chunks(plan.delete):
        await execute(connection, f"DELETE FROM membership WHERE id IN ({placeholders(chunk)})", *chunk)
    by_source: dict[MembershipSource, list[int]] = {}
    for mid, source in plan.source.items():
        by_source.setdefault(source, []).append(mid)
    for source, ids in by_source.items():
        for chunk in chunks(ids):
            await execute(
                connection,
                f"UPDATE membership SET source = ? WHERE id IN ({placeholders(chunk)})",
                source.value,
                *chunk,
            )
    for ids, flag in ((clear_ids, False), (set_ids, True)):
        for chunk in chunks(ids):
            await execute(
                connection, f"UPDATE membership SET is_primary = ? WHERE id IN ({placeholders(chunk)})", flag, *chunk
            )
    new = [
        (c.id, h.group_id, h.source, h.is_primary, h.since)
        for c in plan.touched.values()
        for h in c.held
        if h.id is None
    ]
    await insert_rows(connection, Membership, ("customer_id", "group_id", "source", "is_primary", "since"), new)
    for table in (plan.lift, plan.exclude):
        for group_id, ids in table.items():
            for chunk in chunks(ids):
                await MembershipExclusion.filter(group_id=group_id, customer_id__in=chunk).using_db(connection).delete()
    await insert_rows(
        connection,
        MembershipExclusion,
        ("group_id", "customer_id", "reason", "actor", "at"),
        [(gid, cid, plan.reason, plan.actor, plan.now) for gid, ids in plan.exclude.items() for cid in ids],
    )
    await insert_rows(
        connection,
        MembershipEvent,
        (
            "customer_id",
            "group_id",
            "group_name",
            "action",
            "source",
            "reason",
            "actor",
            "at",
            "other_group_name",
            "other_group_id",
        ),
        plan.events,
    )
    await recount(connection, plan.touched_groups)
    await outbox.membership_events(connection, group_ids=plan.touched_groups, at=plan.now)


# --- Checks -----------------------------------------------------------------------------------


def _accepts_members(group: _Group, *, field_name: str) -> None:
    """Refuse (FormError at `field_name`) a group that takes no members by hand."""
    closed = closed_to_hand(
        name=group.name, type=group.type, status=group.status, is_ladder=group.is_ladder, rungs=group.rungs
    )
    if closed is None:
        return
    # The rule's and the ladder's remedies belong in the refusal; an inactive group's is the page's to offer.
    raise FormError({field_name: closed.message if closed.why == Closed.INACTIVE else closed.in_full})


def _has_room(group: _Group, joining: int, *, field_name: str) -> None:
    if group.capacity is None or group.members + joining <= group.capacity:
        return
    if group.members >= group.capacity:
        raise FormError({field_name: f"{group.name} is full: {group.members:,} of {group.capacity:,}."})
    free = group.capacity - group.members
    raise FormError(
        {
            field_name: f"{group.name} has room for {count(free, 'more customer')} "
            f"({group.members:,} of {group.capacity:,}); {joining:,} would join."
        }
    )


def _refuse_second_groups(customers: list[_Customer], group: _Group, names: Mapping[int, _Named]):
    """With one group per customer: nobody in another group may join `group` without a move (another
    rung of the same ladder is no other group: they move along it)."""

    def other(held: _Held) -> bool:
        return held.group_id != group.id and not names[held.group_id].same_ladder(names[group.id])

    elsewhere = [c for c in customers if any(other(h) for h in c.held)]
    if not elsewhere:
        return
    examples = [f"{c.name} ({names[next(h for h in c.held if other(h)).group_id][0]})" for c in elsewhere]
    raise FormError(
        {
            "mode": f"{count(len(elsewhere), 'selected customer is', 'selected customers are')} already in another "
            f"group: {_names(examples, len(elsewhere))}. The shop allows one group per customer: "
            'choose "Move from current group".'
        }
    )


# --- Adding -----------------------------------------------------------------------------------


async def add_members(
    *, group_id: int, customer_ids: Sequence[int], mode: AddMode, actor: Acting, reason: str = ""
) -> AddResult:
    """Add the customers to the group the way `mode` says (see the module's notes). One
    transaction; a FormError (at "group", "mode", "capacity" or "customers") changes nothing."""
    return (await add_to_groups(members_by_group={group_id: customer_ids}, mode=mode, actor=actor, reason=reason))[0]


@retried_on_conflict
async def add_to_groups(
    *, members_by_group: Mapping[int, Sequence[int]], mode: AddMode, actor: Acting, reason: str = ""
) -> list[AddResult]:
    """add_members for several groups in one transaction: all of it or none."""
    await require(actor, Permission.MANAGE_MEMBERS)
    who, actor = actor, actor_name(actor)
    if not members_by_group or not any(members_by_group.values()):
        raise FormError({"customers": "Select at least one customer."})
    now = datetime.now(UTC)
    results = []
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        customer_ids = {cid for ids in members_by_group.values() for cid in ids}
        await _lock_customers(connection, customer_ids)
        left = await _groups_left_by_move(connection, customer_ids) if mode == AddMode.MOVE else ()
        groups = await _lock_groups(connection, members_by_group, recounted=left)
        names = await _group_names(connection)
        exclusive = await one_group_per_customer(connection)
        plan = _Plan(actor=actor, reason=reason.strip(), now=now)
        for group_id, ids in members_by_group.items():
            if group_id not in groups:
                raise NotFoundError("This group was deleted meanwhile.")
            results.append(await _plan_add(connection, plan, groups[group_id], _unique(ids), mode, names, exclusive))
        set_ids, clear_ids, chosen = _settle_primaries(plan, names)
        await _write(connection, plan, set_ids, clear_ids)
    if mode == AddMode.PRIMARY and len(results) == 1:
        results = [_with(results[0], made_primary=chosen)]
    await _apply_readers(plan.touched_groups, actor=who)
    await _settle_ladders(plan, names, actor=who)
    return results


def _with(result: AddResult, **changes) -> AddResult:
    return AddResult(**{**result.__dict__, **changes})


async def _plan_add(
    connection: BaseDBAsyncClient,
    plan: _Plan,
    group: _Group,
    customer_ids: list[int],
    mode: AddMode,
    names: Mapping[int, _Named],
    exclusive: bool,
) -> AddResult:
    customers = await _customers(connection, customer_ids)
    for cid in customer_ids:  # a customer met earlier in this action: keep one view of them
        if cid in plan.touched:
            customers[cid] = plan.touched[cid]
    blocked = [c for c in customers.values() if c.blocked]
    chosen = [c for c in customers.values() if not c.blocked]
    joining = [c for c in chosen if c.in_group(group.id) is None]
    kept = _check_add(group, chosen, joining, mode, names, exclusive)
    moved_out = _apply_add(plan, group, chosen, mode, names)
    return AddResult(
        group_id=group.id,
        group_name=group.name,
        added=len(joining),
        already=len(chosen) - len(joining),
        made_primary=0,
        moved_out=moved_out,
        blocked=len(blocked),
        blocked_names=tuple(c.name for c in blocked[:EXAMPLES]),
        kept_by_rule=len(kept),
        kept_by_rule_names=tuple(kept[:EXAMPLES]),
    )


def _check_add(
    group: _Group,
    chosen: list[_Customer],
    joining: list[_Customer],
    mode: AddMode,
    names: Mapping[int, _Named],
    exclusive: bool,
) -> list[str]:
    """Raise FormError if the shop's rules do not let `chosen` (none blocked; `joining`: those not in
    it yet) be added to `group` the way `mode` says. Changes nothing. With a move: the memberships
    of automatic groups it leaves alone ("DataFlow Corp (Gold Tier)")."""
    _accepts_members(group, field_name="group")
    _has_room(group, len(joining), field_name="capacity")
    if mode != AddMode.MOVE:
        if exclusive:
            _refuse_second_groups(joining, group, names)
        return []
    held_by_rule = [
        (c, h)
        for c in chosen
        for h in c.held
        if h.group_id != group.id
        and names[h.group_id][1] == GroupType.AUTOMATIC
        and not names[h.group_id].same_ladder(names[group.id])  # a rung left along its ladder
    ]
    if held_by_rule and exclusive:
        examples = [f"{c.name} ({names[h.group_id][0]})" for c, h in held_by_rule]
        raise FormError(
            {
                "mode": f"{count(len(held_by_rule), 'selected customer is', 'selected customers are')} in an "
                f"automatic group by its rule: {_names(examples)}. They cannot be moved while the shop "
                "allows one group per customer; change that group's rule, or turn it hybrid."
            }
        )
    return [f"{c.name} ({names[h.group_id][0]})" for c, h in held_by_rule]


def _apply_add(plan: _Plan, group: _Group, chosen: list[_Customer], mode: AddMode, names: Mapping[int, _Named]) -> int:
    """Plan adding `chosen` (checked by _check_add) to `group`; how many memberships a move ended."""
    moved_out = 0
    moved_from: dict[int, str] = {}
    if names[group.id].ladder_id is not None:
        for customer in chosen:
            moved_out += plan.along_ladder(customer, group, names)
    if mode == AddMode.MOVE:
        for customer in chosen:
            for held in list(customer.held):
                if held.group_id != group.id and names[held.group_id][1] != GroupType.AUTOMATIC:
                    plan.leave(customer, held, names[held.group_id], moved_to=group.name)
                    moved_from[customer.id] = names[held.group_id][0]
                    moved_out += 1
    for customer in chosen:
        held = customer.in_group(group.id)
        if held is None:
            plan.join(customer, group, moved_from=moved_from.get(customer.id))
        else:
            plan.touched[customer.id] = customer
            plan.lift.setdefault(group.id, []).append(customer.id)
            if held.source == MembershipSource.RULE and held.id is not None:
                plan.source[held.id] = MembershipSource.BOTH  # the owner now wants them too
                held.source = MembershipSource.BOTH
        if mode == AddMode.PRIMARY:
            plan.primary_choice[customer.id] = group.id
    plan.touched_groups.add(group.id)
    return moved_out


# --- Adding row by row (the CSV import) -------------------------------------------------------


@dataclass(frozen=True)
class RowRefusal:
    """Why one row of an import was not added."""

    key: int  # the caller's number for the row (the spreadsheet row)
    field: str  # "customer" or "group": which of the two the reason is about
    message: str


@dataclass(frozen=True)
class RowsResult:
    written: bool  # False: all or nothing was asked for and a row was refused, or no row was left
    refused: list[RowRefusal]
    groups: list[AddResult]  # per group, what the rows added


@retried_on_conflict
async def add_rows(
    *,
    rows: Sequence[tuple[int, int, int]],
    mode: AddMode,
    actor: Acting,
    reason: str = "",
    all_or_nothing: bool = False,
) -> RowsResult:
    """Add each row's customer to its group, rows given as (key, customer id, group id).

    Each row goes through add_members' checks on its own, in order, seeing the rows before it: a
    blocked customer, an inactive or automatic group, a full group (it takes the rows up to its
    capacity), a second group while the shop allows one group per customer. A refused row is
    reported by its key and the others are added, in one transaction; with `all_or_nothing`, a
    refused row means nothing is written."""
    await require(actor, Permission.MANAGE_MEMBERS)
    who, actor = actor, actor_name(actor)
    if not rows:
        return RowsResult(written=False, refused=[], groups=[])
    plan = _Plan(actor=actor, reason=reason.strip(), now=datetime.now(UTC))
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        customer_ids = {cid for _, cid, _ in rows}
        await _lock_customers(connection, customer_ids)
        left = await _groups_left_by_move(connection, customer_ids) if mode == AddMode.MOVE else ()
        groups = await _lock_groups(connection, (gid for _, _, gid in rows), recounted=left)
        refused, results, names = await _plan_rows(connection, plan, rows, mode, groups)
        if (refused and all_or_nothing) or not plan.touched:
            return RowsResult(written=False, refused=refused, groups=results)
        set_ids, clear_ids, chosen = _settle_primaries(plan, names)
        await _write(connection, plan, set_ids, clear_ids)
    if mode == AddMode.PRIMARY and len(results) == 1:
        results = [_with(results[0], made_primary=chosen)]
    await _apply_readers(plan.touched_groups, actor=who)
    await _settle_ladders(plan, names, actor=who)
    return RowsResult(written=True, refused=refused, groups=results)


async def check_rows(*, rows: Sequence[tuple[int, int, int]], mode: AddMode) -> list[RowRefusal]:
    """The rows add_rows would refuse now, and why, without adding anything (the import's check)."""
    if not rows:
        return []
    connection = reader_connection()
    groups = await _read_groups(connection, sorted({gid for _, _, gid in rows}))
    plan = _Plan(actor="", reason="", now=datetime.now(UTC))
    refused, _, _ = await _plan_rows(connection, plan, rows, mode, groups)
    return refused


async def _plan_rows(
    connection: BaseDBAsyncClient,
    plan: _Plan,
    rows: Sequence[tuple[int, int, int]],
    mode: AddMode,
    groups: Mapping[int, _Group],
) -> tuple[list[RowRefusal], list[AddResult], dict[int, _Named]]:
    """Plan the rows one at a time through _check_add and _apply_add: (refusals, per group, names)."""
    names = await _group_names(connection)
    exclusive = await one_group_per_customer(connection)
    customers = await _customers(connection, _unique(cid for _, cid, _ in rows))
    members = {gid: group.members for gid, group in groups.items()}  # as the rows so far leave them
    tally: dict[int, dict[str, int]] = {}
    kept: dict[int, list[str]] = {}
    refused: list[RowRefusal] = []
    for key, customer_id, group_id in rows:
        customer, group = customers.get(customer_id), groups.get(group_id)
        if customer is None:
            refused.append(RowRefusal(key, "customer", "This customer was deleted meanwhile."))
            continue
        if group is None:
            refused.append(RowRefusal(key, "group", "This group was deleted meanwhile."))
            continue
        if customer.blocked:
            refused.append(RowRefusal(key, "customer", f"{customer.name} is blocked: blocked customers join no group."))
            continue
        group = replace(group, members=members[group_id])
        joining = [customer] if customer.in_group(group_id) is None else []
        try:
            kept_here = _check_add(group, [customer], joining, mode, names, exclusive)
        except FormError as problem:
            where, message = next(iter(problem.errors.items()))
            refused.append(RowRefusal(key, "customer" if where == "customers" else "group", message))
            continue
        before = {h.group_id for h in customer.held}
        moved_out = _apply_add(plan, group, [customer], mode, names)
        after = {h.group_id for h in customer.held}
        for gid in after - before:
            members[gid] = members.get(gid, 0) + 1
        for gid in before - after:
            if gid in members:
                members[gid] -= 1
        counts = tally.setdefault(group_id, {"added": 0, "already": 0, "moved_out": 0})
        counts["added" if joining else "already"] += 1
        counts["moved_out"] += moved_out
        kept.setdefault(group_id, []).extend(kept_here)
    results = [
        AddResult(
            group_id=gid,
            group_name=groups[gid].name,
            added=counts["added"],
            already=counts["already"],
            made_primary=0,
            moved_out=counts["moved_out"],
            kept_by_rule=len(kept[gid]),
            kept_by_rule_names=tuple(kept[gid][:EXAMPLES]),
        )
        for gid, counts in tally.items()
    ]
    return refused, results, names


# --- Removing ---------------------------------------------------------------------------------


@retried_on_conflict
async def remove_members(
    *,
    group_id: int,
    customer_ids: Sequence[int],
    mode: RemoveMode,
    actor: Acting,
    reason: str = "",
    target_group_id: int | None = None,
) -> RemoveResult:
    """Take the customers out of the group and, with a move, put them in the default group or
    `target_group_id`. One transaction; a FormError (at "group", "mode", "target", "customers"
    or "capacity") changes nothing."""
    await require(actor, Permission.MANAGE_MEMBERS)
    who, actor = actor, actor_name(actor)
    ids = _unique(customer_ids)
    if not ids:
        raise FormError({"customers": "Select at least one member."})
    target_group_id = await _move_target(group_id=group_id, mode=mode, target_group_id=target_group_id)
    # Where the owner sees a problem with the group they move to: the default group is not picked in
    # the dialog, so its problems belong to the option that chose it.
    target_field = "mode" if mode == RemoveMode.DEFAULT_GROUP else "target"
    now = datetime.now(UTC)
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        await _lock_customers(connection, ids)
        groups = await _lock_groups(connection, [group_id] + ([target_group_id] if target_group_id else []))
        if group_id not in groups:
            raise NotFoundError("This group was deleted meanwhile.")
        group = groups[group_id]
        if group.type == GroupType.AUTOMATIC:
            raise FormError(
                {
                    "group": f"{group.name} is an automatic group: its members follow its rule, so they cannot be "
                    "removed by hand. Turn it into a hybrid group to keep chosen customers out."
                }
            )
        target = groups.get(target_group_id) if target_group_id else None
        if target_group_id and target is None:
            raise FormError({target_field: "The chosen group no longer exists."})
        names = await _group_names(connection)
        customers = await _customers(connection, ids)
        members = [c for c in customers.values() if c.in_group(group_id) is not None]
        plan = _Plan(actor=actor, reason=reason.strip(), now=now)
        excluded = along = 0
        if target is not None:
            _target_accepts_members(target, mode=mode, field_name=target_field)
        for customer in members:
            if target is not None and not customer.blocked and names[group_id].same_ladder(names[target.id]):
                along += customer.in_group(target.id) is None
                plan.along_ladder(customer, target, names)  # one move along the ladder
                continue
            excluded += plan.leave(
                customer, customer.in_group(group_id), names[group_id], moved_to=target.name if target else None
            )
        joined = blocked = 0
        if target is not None:
            joined, blocked = _move_in(plan, members, target, moved_from=group.name, also_arriving=along)
        plan.touched_groups.add(group_id)
        set_ids, clear_ids, _ = _settle_primaries(plan, names)
        await _write(connection, plan, set_ids, clear_ids)
    await _apply_readers(plan.touched_groups, actor=who)
    await _settle_ladders(plan, names, actor=who)
    return RemoveResult(
        group_id=group_id,
        group_name=group.name,
        removed=len(members),
        excluded=excluded,
        not_members=len(ids) - len(members),
        moved_to=target.name if target else None,
        joined_target=joined + along,
        blocked=blocked,
    )


async def _move_target(*, group_id: int, mode: RemoveMode, target_group_id: int | None) -> int | None:
    """The group the removed members move to: the default group, the chosen one, or none."""
    if mode == RemoveMode.DEFAULT_GROUP:
        default = await CustomerGroup.filter(is_default=True).first().values_list("id", flat=True)
        if default is None:
            raise FormError({"mode": "The shop has no default group. Choose one in Settings, or pick a group."})
        if default == group_id:
            raise FormError({"mode": "This is the default group: move its members to another group instead."})
        return default
    if mode == RemoveMode.OTHER_GROUP:
        if target_group_id is None:
            raise FormError({"target": "Choose the group to move them to."})
        if target_group_id == group_id:
            raise FormError({"target": "Choose a group other than this one."})
        return target_group_id
    return None


def _target_accepts_members(target: _Group, *, mode: RemoveMode, field_name: str) -> None:
    """Refuse a move into a group that takes no members. When that group is the default one, the
    owner did not pick it: say so, and how to pick another."""
    try:
        _accepts_members(target, field_name=field_name)
    except FormError as problem:
        if mode != RemoveMode.DEFAULT_GROUP:
            raise
        raise FormError(
            {
                "mode": f"{problem.errors['mode']} It is the shop's default group: choose another default "
                "in Settings, or move them to a specific group."
            }
        ) from None


def _move_in(
    plan: _Plan, members: list[_Customer], target: _Group, *, moved_from: str, also_arriving: int = 0
) -> tuple[int, int]:
    """Plan the removed members' joining `target` (blocked customers and those already in it stay
    out); how many join and how many are blocked. `also_arriving`: those moved there along a ladder,
    who need places too."""
    arriving = [c for c in members if not c.blocked and c.in_group(target.id) is None]
    blocked = sum(c.blocked for c in members)
    _has_room(target, len(arriving) + also_arriving, field_name="capacity")
    for customer in arriving:
        plan.join(customer, target, moved_from=moved_from)
    plan.touched_groups.add(target.id)
    return len(arriving), blocked


async def _settle_ladders(plan: _Plan, names: Mapping[int, _Named], *, actor: Acting) -> None:
    """Place the customers this change touched on the ladders it touched again (services.rules.ladders),
    so someone taken off a rung lands on the highest other rung they qualify for now, not at the
    next periodic run. After the commit, logged on failure as _apply_readers is."""
    ladders = {names[g].ladder_id for g in plan.touched_groups if g in names and names[g].ladder_id is not None}
    for ladder_id in sorted(ladders):
        try:
            await settle_customers(ladder_id=ladder_id, customer_ids=list(plan.touched), actor=actor)
        except Exception:
            logger.exception("Changed members on ladder %s, but could not place them again", ladder_id)


async def _apply_readers(group_ids: Iterable[int], *, actor: Acting) -> None:
    """Re-run the rules that read these groups ("Member of Group"), now that their members changed.

    After the change has committed: a failure here does not undo it (nor may the change be made
    again), so it is logged, and the periodic rule refresh brings the reading groups up to date."""
    try:
        await apply_readers(group_ids=set(group_ids), actor=actor)
    except Exception:
        logger.exception("Changed the members of groups %s, but could not re-run the rules that read them", group_ids)


# --- Exclusions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExclusionRow:
    customer_id: int
    name: str
    reason: str
    actor: str
    at: datetime


async def list_exclusions(*, group_id: int, limit: int = 50) -> tuple[list[ExclusionRow], int]:
    """The customers kept out of a hybrid group by hand, newest first (up to `limit`), and how many."""
    query = MembershipExclusion.filter(group_id=group_id)
    rows = (
        await query.order_by("-at", "-id").limit(limit).values("customer_id", "customer__name", "reason", "actor", "at")
    )
    return [
        ExclusionRow(r["customer_id"], r["customer__name"], r["reason"], r["actor"], r["at"]) for r in rows
    ], await query.count()


async def lift_exclusions(*, group_id: int, customer_ids: Sequence[int], actor: Acting) -> int:
    """Let the rule decide again for these customers: forget that they were taken out by hand, then
    run the group's rule, which brings back those it matches (with their events). How many rejoined."""
    await require(actor, Permission.MANAGE_MEMBERS)
    async with in_transaction(BACKGROUND) as connection:
        for chunk in chunks(_unique(customer_ids)):
            await MembershipExclusion.filter(group_id=group_id, customer_id__in=chunk).using_db(connection).delete()
    group = await CustomerGroup.get_or_none(id=group_id)
    if group is None or group.status != GroupStatus.ACTIVE or group.type != GroupType.HYBRID:
        return 0
    return (await apply_rule(group_id=group_id, actor=actor)).joined
