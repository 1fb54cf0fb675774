"""Tier ladders: a parent group whose children are rungs in the owner's order (1 is the top), and a
customer on at most one rung of it: the highest whose rule they match.

Who goes where (`_place`, set-based like services.rules.runs, in scratch tables private to the
connection's session), for every customer considered:

1. Pins. A customer placed on a rung by hand (source manual or both, on a hybrid or manual rung)
   stays there: no rule moves them away until the owner takes them off. Every member of a rung no
   rule runs (a manual rung, an inactive one, one whose saved rule no longer parses) stays too:
   that rung is frozen, as an inactive group is. A customer pinned on two rungs (a ladder made of
   groups that overlapped) keeps the higher one.
2. Hold. With a hold period (`hold_days` on the ladder), a customer on a rung by rule who matches no
   rung at or above it keeps it until their membership's `held_until`, set by the first run that
   finds them below (now + hold_days); after that they move down like anyone else. Qualifying
   again clears it.
3. Rules, top rung first: a rung takes the customers its rule matches (minus a hybrid rung's
   exclusions) who have no place yet. Blocked customers never arrive on a rung by rule: one on a
   rung stays while that rung's rule matches them and leaves otherwise. With "one group per
   customer" on, a customer in another group does not join the ladder (moves along it are fine).
   A capacity holds as in runs.py: those staying keep their places, newcomers take the free ones
   lowest customer id first, and a customer turned away falls through to the next rung they match.

Then each customer's rungs now are set against their place: a move is ONE event ("moved_up" or
"moved_down", recorded on the rung moved to, naming the rung left by id and name, the deciding
rule's version in the reason), a customer new to the ladder joins, one with no place leaves every
rung; sources and holds are brought up to date. A customer on more than one rung (a ladder made of
groups that overlapped, a group moved under a ladder) moves from their highest rung, if at all: a
rung they keep is no arrival, and every other rung they are on they leave ("left", naming the rung
they end on as the other group), so a customer on Gold and Silver who keeps Gold reads as leaving
Silver, not as moving up to a rung they were on already (a webhook consumer would congratulate
them). A move keeps the customer's primary group where it was the rung left. Memberships, events, member counts and the webhook outbox change in one
transaction on the background connection, as in runs.py.

One placement serves every caller, so a preview shows exactly what a run does:
- `run_ladder`: every customer, each rung's compiled rule filling its matches in one INSERT ...
  SELECT (the way a rule run of one group does); `services.rules.runs.apply_rule` on a rung runs
  its whole ladder, and `run_all_rules` runs each ladder once, where the groups its rungs read and
  the groups that read its rungs put it;
- `settle_customers`: a few customers (after an order, a change by hand), their matches decided by
  the explainer (a few indexed reads, not a scan of all orders), first planned on the reader
  connection so nothing takes the write lock when nothing changes;
- `preview_ladder`: a ladder as it would be (a draft rule on a rung, another order, a group not yet
  a ladder), planned in a read-only transaction on the reader connection whose scratch tables go
  with it.

A rung whose rule reads "Member of Group" of another rung of the same ladder reads the rungs as
they were before the run.
"""

import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal
from uuid import uuid4

from pypika_tortoise.terms import Parameterizer
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.customer import Customer, CustomerStatus
from models.group import RULE_TYPES, CustomerGroup, GroupStatus, GroupType, MembershipAction, MembershipSource
from services.errors import FormError, NotFoundError
from services.membership.books import chunks, one_at_a_time_if_one_group, one_group_per_customer, recount
from services.rules.compiler import by_key, to_q
from services.rules.explainer import evaluate, load_facts, now_for_rules
from services.rules.model import RuleError, RuleGroup, parse_rule
from services.staff.actor import Acting, Permission, actor_name, require
from services.storage.conflicts import retried_on_conflict
from services.storage.database import BACKGROUND, READER
from services.storage.sql import dialect_sql, execute, fetch_rows, is_postgres, sized_for_bulk
from services.webhooks import outbox

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 5
# Scratch tables, private to the connection's session (SQLite's temp schema, PostgreSQL's pg_temp).
NOW, MATCH, TARGET, CHANGE, SCOPE = "ladder_now", "ladder_match", "ladder_target", "ladder_change", "ladder_scope"
# How a customer got their place: pinned by hand, held by the hold period, or by a rung's rule.
PIN, HOLD, RULE = "pin", "hold", "rule"

Direction = Literal["up", "down", "join", "leave"]


def new_run_id() -> str:
    """A run's own id, which its membership events and its groups' `rule_run_id` carry: runs are
    timed in whole seconds (now_for_rules), and two in the same one (a save and its Undo) would
    otherwise read back as one."""
    return uuid4().hex


@dataclass(frozen=True)
class CustomerRef:
    id: int
    name: str


# --- The ladder as it stands ------------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    group_id: int
    name: str
    position: int  # 1 is the top
    type: GroupType
    status: GroupStatus
    rule: dict | None
    rule_version: int
    capacity: int | None
    member_count: int = 0
    parsed: RuleGroup | None = field(default=None, compare=False, repr=False)

    @property
    def by_rule(self) -> bool:
        """Whether a rule places customers on this rung; otherwise it is frozen (see the notes)."""
        return self.parsed is not None and self.status == GroupStatus.ACTIVE and self.type in RULE_TYPES


@dataclass(frozen=True)
class Ladder:
    id: int
    name: str
    hold_days: int | None
    rungs: tuple[Rung, ...]

    @property
    def group_ids(self) -> list[int]:
        return [rung.group_id for rung in self.rungs]

    @property
    def runs_by_rule(self) -> bool:
        return any(rung.by_rule for rung in self.rungs)

    def rung(self, group_id: int) -> Rung | None:
        return next((r for r in self.rungs if r.group_id == group_id), None)

    def at(self, position: int) -> Rung:
        return self.rungs[position - 1]


def rung_order(rows: Iterable[tuple[int, str, int | None]]) -> list[int]:
    """Group ids (id, name, stored rung) in the ladder's order: by rung number, then those without
    one (moved in from elsewhere) at the bottom, by name."""
    return [gid for gid, _, _ in sorted(rows, key=lambda r: (r[2] is None, r[2] or 0, r[1].casefold(), r[0]))]


def _parsed(group_id: int, name: str, rule: dict | None) -> RuleGroup | None:
    if not rule:
        return None
    try:
        return parse_rule(rule)
    except RuleError:
        logger.exception("The rule of group %s (%s) no longer parses; its rung is frozen", group_id, name)
        return None


def _build(parent: CustomerGroup, children: Sequence[CustomerGroup], order: Sequence[int] | None) -> Ladder:
    by_id = {child.id: child for child in children}
    ids = list(order) if order is not None else rung_order((c.id, c.name, c.rung) for c in children)
    rungs = tuple(
        Rung(
            group_id=g.id,
            name=g.name,
            position=position,
            type=GroupType(g.type),
            status=GroupStatus(g.status),
            rule=g.rule,
            rule_version=g.rule_version,
            capacity=g.capacity,
            member_count=g.member_count,
            parsed=_parsed(g.id, g.name, g.rule) if g.type in RULE_TYPES else None,
        )
        for position, g in enumerate((by_id[gid] for gid in ids), start=1)
    )
    return Ladder(id=parent.id, name=parent.name, hold_days=parent.hold_days, rungs=rungs)


async def read_ladder(
    *, parent_id: int, connection: BaseDBAsyncClient | None = None, order: Sequence[int] | None = None
) -> Ladder:
    """The parent group's children as a ladder's rungs, whether or not it is one yet (`order`: the
    rungs' group ids top first, instead of the stored order). NotFoundError if there is no such group."""
    parent = await CustomerGroup.get_or_none(id=parent_id).using_db(connection)
    if parent is None:
        raise NotFoundError("This group was deleted meanwhile.")
    children = await CustomerGroup.filter(parent_id=parent_id).using_db(connection)
    return _build(parent, children, order)


async def load_ladder(*, ladder_id: int, connection: BaseDBAsyncClient | None = None) -> Ladder | None:
    """The ladder, or None when the group is not (or no longer) a ladder."""
    parent = await CustomerGroup.get_or_none(id=ladder_id).using_db(connection)
    if parent is None or not parent.is_ladder:
        return None
    return _build(parent, await CustomerGroup.filter(parent_id=ladder_id).using_db(connection), None)


async def ladder_ids_by_rung(connection: BaseDBAsyncClient | None = None) -> dict[int, int]:
    """Every rung's group id -> its ladder's (the parent's) group id."""
    rows = await CustomerGroup.filter(parent__is_ladder=True).using_db(connection).values_list("id", "parent_id")
    return dict(rows)


@dataclass(frozen=True)
class RungPlace:
    ladder_id: int
    ladder_name: str
    position: int  # 1 is the top
    rungs: int


async def rung_places(connection: BaseDBAsyncClient | None = None) -> dict[int, RungPlace]:
    """Every rung's group id -> its ladder and its position there (for the membership changes)."""
    rows = await CustomerGroup.all().using_db(connection).values_list("id", "name", "parent_id", "rung", "is_ladder")
    ladders = {gid: name for gid, name, _, _, is_ladder in rows if is_ladder}
    children: dict[int, list[tuple[int, str, int | None]]] = {}
    for gid, name, parent_id, rung, _ in rows:
        if parent_id in ladders:
            children.setdefault(parent_id, []).append((gid, name, rung))
    places = {}
    for ladder_id, rows_of in children.items():
        for position, gid in enumerate(rung_order(rows_of), start=1):
            places[gid] = RungPlace(ladder_id, ladders[ladder_id], position, len(rows_of))
    return places


# --- What a placement changed -----------------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    """Customers going one way: from a rung (None: new to the ladder) to a rung (None: off it).
    A "leave" to a rung: customers on more than one rung leaving this one, on `to` only from then
    on (the rung they keep, or the one their highest rung moves them to); they stay on the ladder."""

    from_group_id: int | None
    from_name: str | None
    to_group_id: int | None
    to_name: str | None
    direction: Direction
    customers: int
    sample: tuple[CustomerRef, ...] = ()


@dataclass(frozen=True)
class RungOutcome:
    group_id: int
    name: str
    position: int
    by_rule: bool
    rule_version: int
    members: int  # after the run (for a preview: as it would be)
    arrived: int  # joined the ladder here, or moved here from another rung (not: kept it, leaving others)
    departed: int  # left the ladder from here, moved to another rung, or left it for another they are on
    turned_away: int = 0  # matched, but the rung was full
    held: int = 0  # below this rung, kept on it by the hold period


@dataclass(frozen=True)
class RungMoves:
    """One rung's side of a ladder run or preview, in the owner's words (`words`)."""

    group_id: int
    name: str
    up_from: tuple[Shift, ...]  # arrived from a lower rung
    down_from: tuple[Shift, ...]  # arrived from a higher rung
    new: Shift | None  # new to the ladder
    up_to: tuple[Shift, ...]  # left for a higher rung
    down_to: tuple[Shift, ...]  # left for a lower rung
    off: Shift | None  # off the ladder
    only_on: tuple[Shift, ...] = ()  # on more than one rung: left this one, on another only

    @property
    def arriving(self) -> int:
        return sum(s.customers for s in (*self.up_from, *self.down_from, *([self.new] if self.new else [])))

    @property
    def leaving(self) -> int:
        off = [self.off] if self.off else []
        return sum(s.customers for s in (*self.up_to, *self.down_to, *off, *self.only_on))

    def words(self) -> str:
        """E.g. "+37 up from Silver Tier, -5 down to Bronze Tier, +12 new to the ladder"."""
        parts = [f"+{s.customers:,} up from {s.from_name}" for s in self.up_from]
        parts += [f"+{s.customers:,} down from {s.from_name}" for s in self.down_from]
        if self.new:
            parts.append(f"+{self.new.customers:,} new to the ladder")
        parts += [f"-{s.customers:,} up to {s.to_name}" for s in self.up_to]
        parts += [f"-{s.customers:,} down to {s.to_name}" for s in self.down_to]
        if self.off:
            parts.append(f"-{self.off.customers:,} off the ladder")
        parts += [f"-{s.customers:,} on {s.to_name} only" for s in self.only_on]
        return ", ".join(parts) if parts else "No one moves"


@dataclass(frozen=True)
class OverlapCustomer:
    id: int
    name: str
    rungs: tuple[str, ...]  # the rungs they are on now, top first
    ends_on: str | None  # the one they keep or move to; None: off the ladder


@dataclass(frozen=True)
class Overlap:
    """The customers on more than one rung before a placement, and where each ends up."""

    customers: int
    ends_on: tuple[tuple[str | None, int], ...]  # (rung, customers), top first; None: off the ladder
    sample: tuple[OverlapCustomer, ...]

    def words(self) -> str:
        """E.g. "59 customers are on more than one rung: 55 keep Gold Tier, 4 keep Silver Tier"."""
        if not self.customers:
            return "Nobody is on more than one rung."
        who = "1 customer is" if self.customers == 1 else f"{self.customers:,} customers are"
        ends = [f"{n:,} keep {name}" if name else f"{n:,} leave the ladder" for name, n in self.ends_on]
        return f"{who} on more than one rung: {', '.join(ends)}."


@dataclass(frozen=True)
class LadderRun:
    """What one run (or preview) of a ladder changes: each rung's outcome, and every shift."""

    ladder_id: int
    ladder_name: str
    ran_at: datetime
    rungs: tuple[RungOutcome, ...]
    shifts: tuple[Shift, ...]
    overlap: Overlap | None = None  # asked of a preview: who was on more than one rung
    run_id: str | None = None  # what its events carry (new_run_id); a preview has none

    def _total(self, direction: Direction) -> int:
        return sum(s.customers for s in self.shifts if s.direction == direction)

    @property
    def moved_up(self) -> int:
        return self._total("up")

    @property
    def moved_down(self) -> int:
        return self._total("down")

    @property
    def joined(self) -> int:
        return self._total("join")

    @property
    def left(self) -> int:
        """Off the ladder (not: on more than one rung, left one of them for another)."""
        return sum(s.customers for s in self.shifts if s.direction == "leave" and s.to_group_id is None)

    @property
    def changed(self) -> bool:
        return bool(self.shifts)

    def rung(self, group_id: int) -> RungOutcome | None:
        return next((r for r in self.rungs if r.group_id == group_id), None)

    def moves_of(self, group_id: int) -> RungMoves:
        name = next((r.name for r in self.rungs if r.group_id == group_id), "")
        into = [s for s in self.shifts if s.to_group_id == group_id]
        out = [s for s in self.shifts if s.from_group_id == group_id]
        return RungMoves(
            group_id=group_id,
            name=name,
            up_from=tuple(s for s in into if s.direction == "up"),
            down_from=tuple(s for s in into if s.direction == "down"),
            new=next((s for s in into if s.direction == "join"), None),
            up_to=tuple(s for s in out if s.direction == "up"),
            down_to=tuple(s for s in out if s.direction == "down"),
            off=next((s for s in out if s.direction == "leave" and s.to_group_id is None), None),
            only_on=tuple(s for s in out if s.direction == "leave" and s.to_group_id is not None),
        )


# --- Placing (scratch tables only) ------------------------------------------------------------


class _Statement:
    """One statement's parameters, across our own SQL and the compiled rules written into it: one
    list, so PostgreSQL's numbered placeholders ($1, $2 ...) run on from one rule to the next.
    Written left to right: SQLite's "?" are taken in the order the rules are compiled."""

    def __init__(self, connection: BaseDBAsyncClient) -> None:
        self.connection = connection
        self.context = connection.query_class.SQL_CONTEXT.copy(parameterizer=Parameterizer())

    def matches(self, rung: Rung, *, now: datetime, keyed: bool = False, unless: Sequence[Rung] = ()) -> str:
        """A SELECT of the ids (column `id`) of the customers the rung's rule matches and the rules
        of the rungs `unless` do not; `keyed`: each "has a row in" condition looked up per customer
        (by_key), for a statement that checks customers one by one (a rung's members, the scope)
        rather than reading the whole set. (A rule answering NULL for a customer matches them, and
        fails to, in neither role: they are not selected.)"""
        assert rung.parsed is not None and all(r.parsed is not None for r in unless)
        with by_key() if keyed else nullcontext():
            matches = [to_q(rung.parsed, now=now), *(~to_q(r.parsed, now=now) for r in unless)]
        query = Customer.filter(*matches).using_db(self.connection).values("id")
        query._choose_db_if_not_chosen()
        query._make_query()
        return query.query.get_sql(self.context)

    @property
    def params(self) -> list:
        assert self.context.parameterizer is not None
        return list(self.context.parameterizer.values)


async def _scratch(connection: BaseDBAsyncClient) -> None:
    moment = "TIMESTAMPTZ" if is_postgres(connection) else ""  # SQLite: the column's text as it is
    tables = {
        NOW: "customer_id INTEGER NOT NULL, pos INTEGER NOT NULL, source VARCHAR(10) NOT NULL, "
        f"is_primary BOOLEAN NOT NULL, held_until {moment}, PRIMARY KEY (customer_id, pos)",
        MATCH: "pos INTEGER NOT NULL, customer_id INTEGER NOT NULL, PRIMARY KEY (pos, customer_id)",
        TARGET: "customer_id INTEGER PRIMARY KEY, pos INTEGER NOT NULL, how VARCHAR(4) NOT NULL",
        # `besides`: a rung left by a customer whose place is another rung they are on, or who moves
        # there from a higher rung (a customer on more than one rung moves once, if at all).
        CHANGE: "customer_id INTEGER NOT NULL, from_pos INTEGER, to_pos INTEGER, how VARCHAR(4), "
        "was_primary BOOLEAN NOT NULL, held BOOLEAN NOT NULL, besides BOOLEAN NOT NULL",
        SCOPE: "customer_id INTEGER PRIMARY KEY",
    }
    for table, columns in tables.items():
        await execute(connection, f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns})")
        await execute(connection, f"DELETE FROM {table}")
    indexes = {"match_customer": (MATCH, "customer_id, pos"), "target_pos": (TARGET, "pos, customer_id")}
    indexes |= {"change_customer": (CHANGE, "customer_id"), "change_way": (CHANGE, "to_pos, from_pos")}
    for name, (table, columns) in indexes.items():
        await execute(connection, f"CREATE INDEX IF NOT EXISTS ladder_{name} ON {table} ({columns})")


async def _clear(connection: BaseDBAsyncClient) -> None:
    for table in (NOW, MATCH, TARGET, CHANGE, SCOPE):
        await execute(connection, f"DELETE FROM {table}")


def _ids(ladder: Ladder) -> str:
    # Group ids and positions are integers the database gave: written into the statement, so the
    # compiled rules' statements keep only their own parameters.
    return ", ".join(str(int(gid)) for gid in ladder.group_ids)


async def _fill_now(connection: BaseDBAsyncClient, ladder: Ladder, *, scoped: bool) -> None:
    case = " ".join(f"WHEN {int(r.group_id)} THEN {int(r.position)}" for r in ladder.rungs)
    scope = f" AND m.customer_id IN (SELECT customer_id FROM {SCOPE})" if scoped else ""
    await execute(
        connection,
        f"INSERT INTO {NOW} (customer_id, pos, source, is_primary, held_until) "
        f"SELECT m.customer_id, CASE m.group_id {case} END, m.source, m.is_primary, m.held_until "
        f"FROM membership m WHERE m.group_id IN ({_ids(ladder)}){scope}",
    )


async def _fill_matches_by_sql(
    connection: BaseDBAsyncClient, ladder: Ladder, *, now: datetime, scoped: bool = False
) -> None:
    """Each rule-run rung's matches into MATCH, top rung first: one INSERT ...
    SELECT of its compiled rule (which carries only the compiler's own parameters, in its own
    placeholder style), less a hybrid rung's exclusions. `scoped`: the customers in SCOPE only,
    each checked by key.

    A customer a higher rung already matched is left out, except on the rung they are on now: the
    placement only asks for their highest match, but for the rung they are on whether it still
    matches them (a blocked customer staying, a pin's source). Below a rung with a capacity every
    match is kept: who is turned away there falls through to the next rung they match."""
    capacity_above = False
    for rung in ladder.rungs:
        if not rung.by_rule:
            continue
        if scoped:
            statement = _Statement(connection)
            select = (
                f"SELECT s.customer_id FROM {SCOPE} s WHERE "
                f"EXISTS (SELECT 1 FROM ({statement.matches(rung, now=now, keyed=True)}) r WHERE r.id = s.customer_id)"
            )
            params = statement.params
        else:
            # Ids only: a rule over the stats the customer table indexes is answered from its indexes.
            query = Customer.filter(to_q(rung.parsed, now=now)).using_db(connection).values_list("id", flat=True)
            query._choose_db_if_not_chosen()
            query._make_query()
            select, params = query.query.get_parameterized_sql()
        p = int(rung.position)
        fresh = (
            ""
            if capacity_above
            else f" WHERE NOT EXISTS (SELECT 1 FROM {MATCH} x WHERE x.customer_id = q.id) "
            f"OR EXISTS (SELECT 1 FROM {NOW} n WHERE n.customer_id = q.id AND n.pos = {p})"
        )
        await connection.execute_query(
            f"WITH q(id) AS ({select}) INSERT INTO {MATCH} (pos, customer_id) SELECT {p}, q.id FROM q{fresh}",
            list(params),
        )
        await _drop_exclusions(connection, rung)
        capacity_above = capacity_above or rung.capacity is not None


async def _drop_exclusions(connection: BaseDBAsyncClient, rung: Rung) -> None:
    if rung.by_rule and rung.type == GroupType.HYBRID:
        await execute(
            connection,
            f"DELETE FROM {MATCH} WHERE pos = ? AND customer_id IN "
            "(SELECT customer_id FROM membership_exclusion WHERE group_id = ?)",
            rung.position,
            rung.group_id,
        )


async def _fill_matches_given(
    connection: BaseDBAsyncClient, ladder: Ladder, matches: Mapping[int, Iterable[int]]
) -> None:
    rows = [[position, cid] for position, ids in matches.items() for cid in sorted(set(ids))]
    if rows:
        statement = dialect_sql(connection, f"INSERT INTO {MATCH} (pos, customer_id) VALUES (?, ?)")
        await connection.execute_many(statement, rows)
    for rung in ladder.rungs:
        await _drop_exclusions(connection, rung)


async def _fill_scope(connection: BaseDBAsyncClient, customer_ids: Sequence[int]) -> None:
    statement = dialect_sql(connection, f"INSERT INTO {SCOPE} (customer_id) VALUES (?)")
    for chunk in chunks(sorted(set(customer_ids))):
        await connection.execute_many(statement, [[cid] for cid in chunk])


@dataclass
class _Placed:
    turned_away: dict[int, int] = field(default_factory=dict)  # position -> customers
    held: dict[int, int] = field(default_factory=dict)


async def _place(connection: BaseDBAsyncClient, ladder: Ladder, *, now: datetime, scoped: bool) -> _Placed:
    """Fill TARGET (each customer's place) from NOW and MATCH, as the module's notes say, then
    CHANGE (each rung they leave, and where to)."""
    placed = _Placed()
    not_placed = f"NOT EXISTS (SELECT 1 FROM {TARGET} t WHERE t.customer_id = {{alias}}.customer_id)"
    for rung in ladder.rungs:  # pins, the top one first
        by_hand = "" if not rung.by_rule else " AND n.source IN (?, ?)"
        hand = () if not rung.by_rule else (MembershipSource.MANUAL.value, MembershipSource.BOTH.value)
        if rung.by_rule and rung.type == GroupType.AUTOMATIC:
            continue  # an automatic rung's members are its rule's
        await execute(
            connection,
            f"INSERT INTO {TARGET} (customer_id, pos, how) SELECT n.customer_id, ?, ? FROM {NOW} n "
            f"WHERE n.pos = ?{by_hand} AND {not_placed.format(alias='n')}",
            rung.position,
            PIN,
            rung.position,
            *hand,
        )
    if ladder.hold_days:
        for rung in ladder.rungs:
            if not rung.by_rule:
                continue
            placed.held[rung.position] = await execute(
                connection,
                f"INSERT INTO {TARGET} (customer_id, pos, how) SELECT n.customer_id, ?, ? FROM {NOW} n "
                "WHERE n.pos = ? AND (n.held_until IS NULL OR n.held_until > ?) "
                f"AND NOT EXISTS (SELECT 1 FROM {MATCH} x WHERE x.customer_id = n.customer_id AND x.pos <= ?) "
                f"AND {not_placed.format(alias='n')}",
                rung.position,
                HOLD,
                rung.position,
                now,
                rung.position,
            )
    exclusive = await one_group_per_customer(connection)
    for rung in ladder.rungs:  # rules, the top rung first
        if not rung.by_rule:
            continue
        one_group = (
            f" AND (EXISTS (SELECT 1 FROM {NOW} n WHERE n.customer_id = x.customer_id) OR NOT EXISTS "
            f"(SELECT 1 FROM membership o WHERE o.customer_id = x.customer_id AND o.group_id NOT IN ({_ids(ladder)})))"
            if exclusive
            else ""
        )
        await execute(
            connection,
            f"INSERT INTO {TARGET} (customer_id, pos, how) SELECT x.customer_id, ?, ? FROM {MATCH} x "
            f"WHERE x.pos = ? AND {not_placed.format(alias='x')} "
            # Someone on this rung already needs no look at their status (most, on a re-run).
            f"AND (EXISTS (SELECT 1 FROM {NOW} n WHERE n.customer_id = x.customer_id AND n.pos = ?) "
            f"OR NOT EXISTS (SELECT 1 FROM customer c WHERE c.id = x.customer_id AND c.status = ?)){one_group}",
            rung.position,
            RULE,
            rung.position,
            rung.position,
            CustomerStatus.BLOCKED.value,
        )
        placed.turned_away[rung.position] = await _keep_to_capacity(connection, rung, scoped=scoped)
    await execute(
        connection,
        f"INSERT INTO {CHANGE} (customer_id, from_pos, to_pos, how, was_primary, held, besides) "
        # `held`: a hold that ran out, now that they go down or off (the reason says so).
        f"SELECT n.customer_id, n.pos, t.pos, t.how, n.is_primary, "
        f"(n.held_until IS NOT NULL AND (t.pos IS NULL OR t.pos > n.pos)), "
        f"(t.pos IS NOT NULL AND EXISTS (SELECT 1 FROM {NOW} o WHERE o.customer_id = n.customer_id "
        f"AND (o.pos = t.pos OR o.pos < n.pos))) FROM {NOW} n "
        f"LEFT JOIN {TARGET} t ON t.customer_id = n.customer_id WHERE t.pos IS NULL OR t.pos <> n.pos",
    )
    await execute(
        connection,
        f"INSERT INTO {CHANGE} (customer_id, from_pos, to_pos, how, was_primary, held, besides) "
        f"SELECT t.customer_id, NULL, t.pos, t.how, ?, ?, ? FROM {TARGET} t "
        f"WHERE NOT EXISTS (SELECT 1 FROM {NOW} n WHERE n.customer_id = t.customer_id)",
        False,
        False,
        False,
    )
    return placed


async def _keep_to_capacity(connection: BaseDBAsyncClient, rung: Rung, *, scoped: bool) -> int:
    """Leave on the rung only as many newcomers as it has free places for, lowest customer ids
    first; the others lose their place here (and fall through to the next rung they match). How
    many were turned away."""
    if rung.capacity is None:
        return 0
    on_rung = f"EXISTS (SELECT 1 FROM {NOW} n WHERE n.customer_id = t.customer_id AND n.pos = ?)"
    staying = (
        await fetch_rows(
            connection,
            f"SELECT COUNT(*) AS n FROM {TARGET} t WHERE t.pos = ? AND {on_rung}",
            rung.position,
            rung.position,
        )
    )[0]["n"]
    if scoped:  # the rung's members outside the scope stay as they are
        staying += (
            await fetch_rows(
                connection,
                "SELECT COUNT(*) AS n FROM membership m WHERE m.group_id = ? AND NOT EXISTS "
                f"(SELECT 1 FROM {SCOPE} s WHERE s.customer_id = m.customer_id)",
                rung.group_id,
            )
        )[0]["n"]
    free = max(rung.capacity - staying, 0)
    newcomers = f"FROM {TARGET} t WHERE t.pos = ? AND t.how = ? AND NOT {on_rung}"
    cutoff = await fetch_rows(
        connection,
        f"SELECT t.customer_id {newcomers} ORDER BY t.customer_id LIMIT 1 OFFSET ?",
        rung.position,
        RULE,
        rung.position,
        free,
    )
    if not cutoff:
        return 0
    return await execute(
        connection,
        f"DELETE FROM {TARGET} WHERE customer_id IN (SELECT t.customer_id {newcomers} AND t.customer_id >= ?)",
        rung.position,
        RULE,
        rung.position,
        cutoff[0]["customer_id"],
    )


async def _shifts(connection: BaseDBAsyncClient, ladder: Ladder, *, samples: bool) -> list[Shift]:
    rows = await fetch_rows(
        connection,
        f"SELECT from_pos, to_pos, besides, COUNT(*) AS n FROM {CHANGE} GROUP BY from_pos, to_pos, besides "
        "ORDER BY from_pos, to_pos, besides",
    )
    found = []
    for row in rows:
        start, end, besides = row["from_pos"], row["to_pos"], bool(row["besides"])
        first, last = (ladder.at(start) if start else None), (ladder.at(end) if end else None)
        if first is None:
            direction: Direction = "join"
        elif last is None or besides:
            direction = "leave"
        else:
            direction = "up" if end < start else "down"
        sample: tuple[CustomerRef, ...] = ()
        if samples:
            where, params = _between(start, end, besides=besides)
            names = await fetch_rows(
                connection,
                f"SELECT c.id, c.name FROM {CHANGE} ch JOIN customer c ON c.id = ch.customer_id WHERE {where} "
                "ORDER BY c.name, c.id LIMIT ?",
                *params,
                SAMPLE_SIZE,
            )
            sample = tuple(CustomerRef(r["id"], r["name"]) for r in names)
        found.append(
            Shift(
                from_group_id=first.group_id if first else None,
                from_name=first.name if first else None,
                to_group_id=last.group_id if last else None,
                to_name=last.name if last else None,
                direction=direction,
                customers=row["n"],
                sample=sample,
            )
        )
    return found


def _between(start: int | None, end: int | None, *, besides: bool) -> tuple[str, tuple]:
    """The CHANGE rows going from position `start` to `end` (None: off or onto the ladder), either
    the moves (joins, leaves) or the rungs left besides (see CHANGE)."""
    parts, params = ["besides = ?"], [besides]
    for column, value in (("from_pos", start), ("to_pos", end)):
        if value is None:
            parts.append(f"{column} IS NULL")
        else:
            parts.append(f"{column} = ?")
            params.append(value)
    return " AND ".join(parts), tuple(params)


def _besides(shift: Shift) -> bool:
    return shift.direction == "leave" and shift.to_group_id is not None


def _outcome(ladder: Ladder, placed: _Placed, shifts: Sequence[Shift], *, ran_at: datetime) -> LadderRun:
    rungs = []
    for rung in ladder.rungs:
        arrived = sum(s.customers for s in shifts if s.to_group_id == rung.group_id and not _besides(s))
        departed = sum(s.customers for s in shifts if s.from_group_id == rung.group_id)
        rungs.append(
            RungOutcome(
                group_id=rung.group_id,
                name=rung.name,
                position=rung.position,
                by_rule=rung.by_rule,
                rule_version=rung.rule_version,
                members=rung.member_count + arrived - departed,
                arrived=arrived,
                departed=departed,
                turned_away=placed.turned_away.get(rung.position, 0),
                held=placed.held.get(rung.position, 0),
            )
        )
    return LadderRun(ladder.id, ladder.name, ran_at, tuple(rungs), tuple(shifts))


# --- Writing what the placement decided -------------------------------------------------------


def _reasons(ladder: Ladder, start: int | None, end: int | None) -> tuple[str, str, str]:
    """The reason of an event from `start` to `end`, for a customer placed (pin, hold or) by rule:
    (pinned, held-over, by rule). A move up, a join: the rule of the rung arrived at; a move down,
    a leave: the rule of the rung left, which they no longer meet."""
    last = ladder.at(end) if end else None
    first = ladder.at(start) if start else None
    pinned = f"Placed on {last.name} by hand" if last else ""
    deciding = last if first is None or (last is not None and end < start) else first
    # A join or a leave is recorded with the rung whose rule decided it, as a group's own run words
    # it; a move is seen from two rungs, so it names the rung.
    by_rule = f"Rule version {deciding.rule_version}"
    if first is not None and last is not None:
        by_rule += f" of {deciding.name}"
    held_over = f"{by_rule}; held for {ladder.hold_days} days" if ladder.hold_days else by_rule
    return pinned, held_over, by_rule


async def _write(
    connection: BaseDBAsyncClient, ladder: Ladder, shifts: Sequence[Shift], *, actor: str, now: datetime, run_id: str
):
    rule, manual = MembershipSource.RULE.value, MembershipSource.MANUAL.value
    position = {r.group_id: r.position for r in ladder.rungs}
    for shift in shifts:
        start = position.get(shift.from_group_id) if shift.from_group_id else None
        end = position.get(shift.to_group_id) if shift.to_group_id else None
        besides = _besides(shift)
        where, params = _between(start, end, besides=besides)
        pinned, held_over, by_rule = _reasons(ladder, start, end)
        if besides:
            # Not a move: they keep (or move to) the other rung by its own event, if any.
            pinned = held_over = by_rule = f"On {shift.to_name}: one rung of {ladder.name} per customer"
            group_id, group_name, action, other_id, other_name = (
                shift.from_group_id,
                shift.from_name,
                MembershipAction.LEFT.value,
                shift.to_group_id,
                shift.to_name,
            )
        elif shift.direction == "leave":
            group_id, group_name, action, other_id, other_name = (
                shift.from_group_id,
                shift.from_name,
                "left",
                None,
                None,
            )
        else:
            group_id, group_name, other_id, other_name = (
                shift.to_group_id,
                shift.to_name,
                shift.from_group_id,
                shift.from_name,
            )
            action = {
                "join": MembershipAction.JOINED,
                "up": MembershipAction.MOVED_UP,
                "down": MembershipAction.MOVED_DOWN,
            }[shift.direction].value
        await execute(
            connection,
            "INSERT INTO membership_event (customer_id, group_id, group_name, action, source, reason, actor, at, "
            "other_group_id, other_group_name, run_id) "
            "SELECT ch.customer_id, ?, ?, ?, CASE WHEN ch.how = ? THEN ? ELSE ? END, "
            "CASE WHEN ch.how = ? THEN ? WHEN ch.held THEN ? ELSE ? END, ?, ?, ?, ?, ? "
            f"FROM {CHANGE} ch WHERE {where}",
            group_id,
            group_name,
            action,
            PIN,
            manual,
            rule,
            PIN,
            pinned,
            held_over,
            by_rule,
            actor,
            now,
            other_id,
            other_name,
            run_id,
            *params,
        )
    for rung in ladder.rungs:
        await execute(
            connection,
            f"DELETE FROM membership WHERE group_id = ? AND customer_id IN (SELECT customer_id FROM {CHANGE} "
            "WHERE from_pos = ?)",
            rung.group_id,
            rung.position,
        )
    for rung in ladder.rungs:
        # Whoever has no primary group gets this rung: a newcomer without one, and one who moves from
        # their primary rung (deleted above), so a move carries the primary group along.
        await execute(
            connection,
            "INSERT INTO membership (customer_id, group_id, source, is_primary, since) "
            "SELECT t.customer_id, ?, ?, NOT EXISTS (SELECT 1 FROM membership p WHERE p.customer_id = t.customer_id "
            f"AND p.is_primary), ? FROM {TARGET} t WHERE t.pos = ? "
            f"AND NOT EXISTS (SELECT 1 FROM {NOW} n WHERE n.customer_id = t.customer_id AND n.pos = ?)",
            rung.group_id,
            rule,
            now,
            rung.position,
            rung.position,
        )
        # Someone on two rungs who keeps the other one: it becomes primary if the one left was.
        await execute(
            connection,
            "UPDATE membership SET is_primary = ? WHERE group_id = ? AND NOT is_primary AND customer_id IN "
            f"(SELECT customer_id FROM {CHANGE} WHERE was_primary AND to_pos = ?) AND NOT EXISTS "
            "(SELECT 1 FROM membership o WHERE o.customer_id = membership.customer_id AND o.is_primary)",
            True,
            rung.group_id,
            rung.position,
        )
    # Whoever left the ladder from their primary group gets their newest remaining group as primary.
    await execute(
        connection,
        "UPDATE membership SET is_primary = ? WHERE id IN (SELECT (SELECT m.id FROM membership m "
        "WHERE m.customer_id = l.customer_id ORDER BY m.since DESC, m.id DESC LIMIT 1) "
        f"FROM {CHANGE} l WHERE l.was_primary AND l.to_pos IS NULL)",
        True,
    )
    await _keep_sources_and_holds(connection, ladder, now=now)
    await recount(connection, ladder.group_ids)
    await outbox.membership_events(connection, group_ids=ladder.group_ids, at=now)


async def _keep_sources_and_holds(connection: BaseDBAsyncClient, ladder: Ladder, *, now: datetime) -> None:
    """As runs.py keeps sources: an automatic rung's members are "rule"; on a hybrid rung a
    member placed by hand whom the rule matches is "both", and "manual" again when it stops. A
    hold starts (now + hold_days) for those held, and ends for everyone else staying. Only the
    statements with something to do run: most runs find every source right and nobody held."""
    rule, manual, both = (MembershipSource.RULE.value, MembershipSource.MANUAL.value, MembershipSource.BOTH.value)
    sources = {
        (row["pos"], row["source"])
        for row in await fetch_rows(connection, f"SELECT DISTINCT pos, source FROM {NOW} WHERE source <> ?", rule)
    }
    held_now = bool(await fetch_rows(connection, f"SELECT 1 FROM {NOW} WHERE held_until IS NOT NULL LIMIT 1"))
    holding = bool(ladder.hold_days) and bool(
        await fetch_rows(connection, f"SELECT 1 FROM {TARGET} WHERE how = ? LIMIT 1", HOLD)
    )
    matched = f"EXISTS (SELECT 1 FROM {MATCH} x WHERE x.customer_id = membership.customer_id AND x.pos = ?)"
    placed = f"customer_id IN (SELECT customer_id FROM {TARGET} WHERE pos = ? AND how {{op}} ?)"
    for rung in ladder.rungs:
        if not rung.by_rule:
            continue
        p = rung.position
        if rung.type == GroupType.AUTOMATIC and any(pos == p for pos, _ in sources):
            await execute(
                connection,
                f"UPDATE membership SET source = ? WHERE group_id = ? AND source <> ? AND {placed.format(op='=')}",
                rule,
                rung.group_id,
                rule,
                p,
                RULE,
            )
        if rung.type == GroupType.HYBRID and (p, manual) in sources:
            await execute(
                connection,
                f"UPDATE membership SET source = ? WHERE group_id = ? AND source = ? AND {matched}",
                both,
                rung.group_id,
                manual,
                p,
            )
        if rung.type == GroupType.HYBRID and (p, both) in sources:
            await execute(
                connection,
                f"UPDATE membership SET source = ? WHERE group_id = ? AND source = ? AND "
                f"customer_id IN (SELECT customer_id FROM {NOW} WHERE pos = ?) AND NOT {matched}",
                manual,
                rung.group_id,
                both,
                p,
                p,
            )
        if holding:
            await execute(
                connection,
                f"UPDATE membership SET held_until = ? WHERE group_id = ? AND held_until IS NULL AND "
                f"{placed.format(op='=')}",
                now + timedelta(days=ladder.hold_days),
                rung.group_id,
                p,
                HOLD,
            )
        if held_now:
            await execute(
                connection,
                f"UPDATE membership SET held_until = NULL WHERE group_id = ? AND held_until IS NOT NULL AND "
                f"{placed.format(op='<>')}",
                rung.group_id,
                p,
                HOLD,
            )


async def _pending(connection: BaseDBAsyncClient, ladder: Ladder) -> bool:
    """Whether writing the placement would change anything: a move, join or leave, or a source or
    a hold to bring up to date."""
    checks = [f"SELECT 1 FROM {CHANGE}"]
    checks.append(
        f"SELECT 1 FROM {TARGET} t JOIN {NOW} n ON n.customer_id = t.customer_id AND n.pos = t.pos "
        f"WHERE (t.how = '{HOLD}') <> (n.held_until IS NOT NULL)"
    )
    for rung in ladder.rungs:
        if not rung.by_rule:
            continue
        p = int(rung.position)
        matched = f"EXISTS (SELECT 1 FROM {MATCH} x WHERE x.customer_id = n.customer_id AND x.pos = {p})"
        if rung.type == GroupType.AUTOMATIC:
            checks.append(
                f"SELECT 1 FROM {NOW} n JOIN {TARGET} t ON t.customer_id = n.customer_id AND t.pos = n.pos "
                f"WHERE n.pos = {p} AND t.how = '{RULE}' AND n.source <> '{MembershipSource.RULE.value}'"
            )
        else:
            checks.append(
                f"SELECT 1 FROM {NOW} n WHERE n.pos = {p} AND ((n.source = '{MembershipSource.MANUAL.value}' "
                f"AND {matched}) OR (n.source = '{MembershipSource.BOTH.value}' AND NOT {matched}))"
            )
    for check in checks:
        if await fetch_rows(connection, check + " LIMIT 1"):
            return True
    return False


# --- Locking and running ----------------------------------------------------------------------


async def _lock_ladder(connection: BaseDBAsyncClient, ladder_id: int) -> Ladder:
    """Lock the ladder's group and its rungs (PostgreSQL: their rows, parent first, then the rungs
    in id order; SQLite's transaction holds the write lock already), then read it as it now is."""
    if is_postgres(connection):
        if not await fetch_rows(connection, "SELECT id FROM customer_group WHERE id = ? FOR NO KEY UPDATE", ladder_id):
            raise NotFoundError("This group was deleted meanwhile.")
        await fetch_rows(
            connection,
            "SELECT id FROM customer_group WHERE parent_id = ? ORDER BY id FOR NO KEY UPDATE",
            ladder_id,
        )
    ladder = await load_ladder(ladder_id=ladder_id, connection=connection)
    if ladder is None:
        group = await CustomerGroup.get_or_none(id=ladder_id).using_db(connection)
        if group is None:
            raise NotFoundError("This group was deleted meanwhile.")
        raise FormError({"ladder": f"{group.name} is not a ladder."})
    return ladder


async def _plan_everyone(connection: BaseDBAsyncClient, ladder: Ladder, *, now: datetime) -> _Placed:
    await _scratch(connection)
    await _fill_now(connection, ladder, scoped=False)
    await _fill_matches_by_sql(connection, ladder, now=now)
    return await _place(connection, ladder, now=now, scoped=False)


async def _plan_unsettled(
    connection: BaseDBAsyncClient, ladder: Ladder, *, now: datetime, unsettled: Sequence[int] | None = None
) -> _Placed:
    """The placement of every customer, planned for the unsettled ones alone (`_unsettled`, unless
    given): the others stay where they are, so they add no change, and each rung's count of them
    is its members outside the scope (`_placed_counts`)."""
    if unsettled is None:
        unsettled = await _unsettled(connection, ladder, now=now)
    await _scratch(connection)
    await _fill_scope(connection, unsettled)
    await _fill_now(connection, ladder, scoped=True)
    await _fill_matches_by_sql(connection, ladder, now=now, scoped=True)
    return await _place(connection, ladder, now=now, scoped=True)


async def _unsettled(connection: BaseDBAsyncClient, ladder: Ladder, *, now: datetime) -> list[int]:
    """Every customer whose place the placement might change, by id; the rest are settled.

    A settled customer is on one rung only and placed there whatever the others do: pinned there
    (a frozen rung, a hybrid rung's member by hand), or on it by its rule, which matches them
    (not taken out by hand) while no rung above's rule does. Pins leave them alone, a hold needs
    a customer matched by no rung at or above theirs, the rules reach their rung with them still
    unplaced and keep them there without a look at their status or other groups, and a capacity
    keeps those staying. So they make no change, and a capacity counts them as staying, as
    `_keep_to_capacity` counts a scope's outsiders.

    Anyone else is in the scope (more, sometimes: a rung's rule above matching a customer its
    exclusions leave out): on more than one rung; matched by a rung's rule and none above while not
    on that rung (so every customer on no rung whom a rule matches: not on the highest); on a
    rung by its rule and not (or no longer) matched by it, taken out of it by hand, or matched by a
    rung above. No settled customer is among them: a rung below theirs has theirs above it, and a
    rung above theirs does not match them. On a settled ladder (the page's first preview of an unchanged rule) that is the
    customers whose orders or days moved them since the last run: the placement writes a few rows,
    where planning everyone wrote every member's and every match's (issue 20)."""
    statement = _Statement(connection)

    def on_a_rung(who: str, group_ids: Sequence[int]) -> str:
        listed = ", ".join(str(int(gid)) for gid in group_ids)
        return f"EXISTS (SELECT 1 FROM membership o WHERE o.customer_id = {who} AND o.group_id IN ({listed}))"

    # On more than one rung: on a rung, and on one below it too.
    parts = [
        f"SELECT m.customer_id FROM membership m WHERE m.group_id = {int(rung.group_id)} "
        f"AND {on_a_rung('m.customer_id', ladder.group_ids[rung.position :])}"
        for rung in ladder.rungs[:-1]
    ]
    above: list[Rung] = []
    for rung in ladder.rungs:
        if not rung.by_rule:
            continue  # its members are pinned on it
        g = int(rung.group_id)
        # Matched by this rung's rule and by none above (EXISTS: a rule answering NULL is no match),
        # and not on it: one look-up of its member, most of its matches on a settled ladder, before
        # the rules above are asked.
        matched = f"SELECT q.id FROM ({statement.matches(rung, now=now)}) q WHERE NOT {on_a_rung('q.id', [g])}"
        for higher in above:
            matched += f" AND NOT EXISTS (SELECT 1 FROM ({statement.matches(higher, now=now, keyed=True)}) a WHERE a.id = q.id)"
        parts.append(matched)
        by_rule = f" AND m.source = '{MembershipSource.RULE.value}'" if rung.type == GroupType.HYBRID else ""
        # One look at each member's row for all the rules: this rung's matches them, none above does.
        kept = statement.matches(rung, now=now, keyed=True, unless=above)
        unsettled = f"NOT EXISTS (SELECT 1 FROM ({kept}) r WHERE r.id = m.customer_id)"
        if rung.type == GroupType.HYBRID:
            unsettled += (
                " OR EXISTS (SELECT 1 FROM membership_exclusion e "
                f"WHERE e.group_id = {g} AND e.customer_id = m.customer_id)"
            )
        parts.append(f"SELECT m.customer_id FROM membership m WHERE m.group_id = {g}{by_rule} AND ({unsettled})")
        above.append(rung)
    # UNION ALL: a customer found twice (a few, on more than one rung) costs less than SQL's sorting
    # out of every row.
    _, rows = await connection.execute_query(" UNION ALL ".join(parts), statement.params)
    return sorted({row[0] for row in rows})


async def _plan_some(
    connection: BaseDBAsyncClient,
    ladder: Ladder,
    customer_ids: Sequence[int],
    matches: Mapping[int, set[int]],
    *,
    now: datetime,
) -> _Placed:
    await _scratch(connection)
    await _fill_scope(connection, customer_ids)
    await _fill_now(connection, ladder, scoped=True)
    await _fill_matches_given(connection, ladder, matches)
    return await _place(connection, ladder, now=now, scoped=True)


async def _record_runs(connection: BaseDBAsyncClient, ladder: Ladder, run: LadderRun, *, now: datetime) -> None:
    """Each rule-run rung's record of this run (as runs.py keeps a group's) and its rule_run.finished."""
    for outcome in run.rungs:
        if not outcome.by_rule:
            continue
        members = (
            await fetch_rows(connection, "SELECT member_count AS n FROM customer_group WHERE id = ?", outcome.group_id)
        )[0]["n"]
        applied = (
            await fetch_rows(
                connection, "SELECT rule_applied_version AS v FROM customer_group WHERE id = ?", outcome.group_id
            )
        )[0]["v"]
        await execute(
            connection,
            "UPDATE customer_group SET rule_applied_version = rule_version, rule_ran_at = ?, rule_run_id = ?, "
            "rule_joined = ?, rule_left = ? WHERE id = ?",
            now,
            run.run_id,
            outcome.arrived,
            outcome.departed,
            outcome.group_id,
        )
        await outbox.rule_run_finished(
            connection,
            group_id=outcome.group_id,
            version=outcome.rule_version,
            joined=outcome.arrived,
            left=outcome.departed,
            members=members,
            turned_away=outcome.turned_away,
            ran_at=now,
            first_of_version=applied != outcome.rule_version,
        )


async def run_id_at(*, group_ids: Sequence[int], at: datetime) -> str | None:
    """The id of the run these rungs last recorded at `at` (their `rule_run_id`); None for a run
    recorded before runs had ids, whose events are then known by their moment alone."""
    ids = await (
        CustomerGroup.filter(id__in=list(group_ids), rule_ran_at=at, rule_run_id__not_isnull=True)
        .order_by("id")
        .values_list("rule_run_id", flat=True)
    )
    return ids[0] if ids else None


def _with_members(run: LadderRun, members: Mapping[int, int]) -> LadderRun:
    return replace(run, rungs=tuple(replace(r, members=members.get(r.group_id, r.members)) for r in run.rungs))


async def _member_counts(connection: BaseDBAsyncClient, ladder: Ladder) -> dict[int, int]:
    rows = await CustomerGroup.filter(id__in=ladder.group_ids).using_db(connection).values_list("id", "member_count")
    return dict(rows)


@retried_on_conflict
async def run_ladder(*, ladder_id: int, actor: Acting, now: datetime | None = None) -> LadderRun:
    """Place every customer on the ladder's rungs as its rules, pins, holds and capacities say (see
    the module's notes), in one transaction on the background connection. Refuses (FormError) a
    group that is not a ladder."""
    await require(actor, Permission.MANAGE_RULES)
    name, now = actor_name(actor), now or now_for_rules()
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        await sized_for_bulk(connection)
        run = await run_in(connection, ladder_id=ladder_id, actor=name, now=now)
    logger.info(
        "Ladder %s: %s up, %s down, %s joined, %s left",
        run.ladder_name,
        run.moved_up,
        run.moved_down,
        run.joined,
        run.left,
    )
    return run


async def run_in(connection: BaseDBAsyncClient, *, ladder_id: int, actor: str, now: datetime) -> LadderRun:
    """run_ladder's work inside the caller's transaction (on the background connection, which took
    one_at_a_time_if_one_group first): making a ladder or reordering its rungs places its customers
    in the same transaction as the change."""
    ladder = await _lock_ladder(connection, ladder_id)
    placed = await _plan_everyone(connection, ladder, now=now)
    shifts = await _shifts(connection, ladder, samples=True)
    run_id = new_run_id()
    await _write(connection, ladder, shifts, actor=actor, now=now, run_id=run_id)
    run = _with_members(_outcome(ladder, placed, shifts, ran_at=now), await _member_counts(connection, ladder))
    run = replace(run, run_id=run_id)
    await _record_runs(connection, ladder, run, now=now)
    await _clear(connection)
    return run


async def matches_of(ladder: Ladder, customer_ids: Sequence[int], *, now: datetime) -> dict[int, set[int]]:
    """Rung position -> which of these customers its rule matches, by the explainer (a few
    indexed reads per customer, as services.rules.runs.reevaluate_customer decides)."""
    rules = [rung for rung in ladder.rungs if rung.by_rule]
    if not rules or not customer_ids:
        return {}
    combined = RuleGroup(match="any", conditions=[rung.parsed for rung in rules])
    found: dict[int, set[int]] = {rung.position: set() for rung in rules}
    for chunk in chunks(sorted(set(customer_ids))):
        facts = await load_facts(customer_ids=chunk, rule=combined, now=now)
        for cid, customer in facts.items():
            for rung in rules:
                if evaluate(rung.parsed, customer, now=now).passed:
                    found[rung.position].add(cid)
    return found


async def settle_customers(
    *, ladder_id: int, customer_ids: Sequence[int], actor: Acting, now: datetime | None = None
) -> LadderRun | None:
    """Bring these customers' places on the ladder up to date (after an order, a change by hand):
    the same placement as run_ladder, for them only, their matches decided by the explainer.
    Planned first on the reader connection: when nothing would change, nothing takes the write
    lock. None when the group is not a ladder, or its rungs changed meanwhile (whoever changed them
    runs the ladder)."""
    now = now or now_for_rules()
    ids = sorted(set(customer_ids))
    ladder = await load_ladder(ladder_id=ladder_id)
    if ladder is None or not ids:
        return None
    matches = await matches_of(ladder, ids, now=now)
    async with in_transaction(READER) as connection:
        await _plan_some(connection, ladder, ids, matches, now=now)
        pending = await _pending(connection, ladder)
        await _clear(connection)
    if not pending:
        return None
    return await _settle(ladder, ids, matches, actor=actor_name(actor), now=now)


@retried_on_conflict
async def _settle(
    ladder: Ladder, ids: Sequence[int], matches: Mapping[int, set[int]], *, actor: str, now: datetime
) -> LadderRun | None:
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        current = await _lock_ladder(connection, ladder.id)
        if _shape(current) != _shape(ladder):
            return None  # rungs, order or rules changed meanwhile: that change runs the ladder for everyone
        placed = await _plan_some(connection, current, ids, matches, now=now)
        shifts = await _shifts(connection, current, samples=False)
        # Its own id too: a settle in the same second as the last run is no part of that run.
        run_id = new_run_id()
        await _write(connection, current, shifts, actor=actor, now=now, run_id=run_id)
        run = _with_members(_outcome(current, placed, shifts, ran_at=now), await _member_counts(connection, current))
        run = replace(run, run_id=run_id)
        await _clear(connection)
    return run


def _shape(ladder: Ladder) -> tuple:
    return (ladder.hold_days, tuple((r.group_id, r.type, r.status, r.rule, r.capacity) for r in ladder.rungs))


async def preview_ladder(
    *, ladder: Ladder, now: datetime | None = None, samples: bool = True, overlap: bool = False
) -> LadderRun:
    """What run_ladder would do to `ladder` as given (a draft rule on a rung, another order of the
    rungs, a group that is not a ladder yet), without changing anything: the same placement, in a
    read-only transaction on the reader connection. With `overlap`, also who is on more than one
    rung now and where each would end up."""
    return await _preview(ladder, now=now or now_for_rules(), samples=samples, overlap=overlap, everyone=False)


async def _preview(ladder: Ladder, *, now: datetime, samples: bool, overlap: bool, everyone: bool) -> LadderRun:
    """preview_ladder's work, the placement planned for the unsettled customers alone or (`everyone`,
    as a run plans it) for every customer: the same answer (tests/unit/test_rung_preview_agreement.py)."""
    async with in_transaction(READER) as connection:
        if everyone:
            placed = await _plan_everyone(connection, ladder, now=now)
        else:
            unsettled = await _unsettled(connection, ladder, now=now)
            if not unsettled:  # a settled ladder (the page's first preview, mostly): nobody moves
                rows = await fetch_rows(
                    connection,
                    f"SELECT group_id, COUNT(*) AS n FROM membership WHERE group_id IN ({_ids(ladder)}) GROUP BY group_id",
                )
                counted = {row["group_id"]: row["n"] for row in rows}
                members = {gid: counted.get(gid, 0) for gid in ladder.group_ids}
                run = _with_members(_outcome(ladder, _Placed(), (), ran_at=now), members)
                return replace(run, overlap=Overlap(customers=0, ends_on=(), sample=()) if overlap else None)
            placed = await _plan_unsettled(connection, ladder, now=now, unsettled=unsettled)
        shifts = await _shifts(connection, ladder, samples=samples)
        found = await _overlap(connection, ladder) if overlap else None
        members = await _placed_counts(connection, ladder, scoped=not everyone)
        await _clear(connection)
    return replace(_with_members(_outcome(ladder, placed, shifts, ran_at=now), members), overlap=found)


@dataclass(frozen=True)
class PlannedPlacement:
    """A ladder's placement as run_ladder would make it, held in scratch tables on `connection`
    (a read-only transaction on the reader connection) while `planned_placement` is open: for
    callers that read the movers against other tables in SQL (services.rules.impact's cost of a
    rung's moves), where a list of ids would not scale to a big shop."""

    connection: BaseDBAsyncClient
    ladder: Ladder

    def rung_moves_sql(self, *, group_id: int) -> str:
        """A SELECT of the moves onto and off rung `group_id`, one row per customer:
        (customer_id, from_pos, to_pos) by rung position (`Ladder.at`), NULL from_pos: new to the
        ladder, NULL to_pos: off it; counted as RungMoves counts them. An arrival comes from the
        highest rung the customer is on; a customer on more than one rung departs only from their
        highest, and leaving this rung for one they are on already is no move at all. No
        parameters: positions are written into the statement, as the placement's own are."""
        rung = self.ladder.rung(group_id)
        if rung is None:
            raise ValueError(f"Group {group_id} is no rung of {self.ladder.name}.")
        p = int(rung.position)
        return (
            f"SELECT t.customer_id, (SELECT MIN(n.pos) FROM {NOW} n WHERE n.customer_id = t.customer_id), t.pos "
            f"FROM {TARGET} t WHERE t.pos = {p} "
            f"AND NOT EXISTS (SELECT 1 FROM {NOW} n WHERE n.customer_id = t.customer_id AND n.pos = {p}) "
            f"UNION ALL SELECT n.customer_id, n.pos, t.pos FROM {NOW} n LEFT JOIN {TARGET} t "
            f"ON t.customer_id = n.customer_id WHERE n.pos = {p} AND (t.pos IS NULL OR t.pos <> {p}) "
            f"AND NOT EXISTS (SELECT 1 FROM {NOW} o WHERE o.customer_id = n.customer_id "
            f"AND (o.pos < {p} OR o.pos = t.pos))"
        )


@asynccontextmanager
async def planned_placement(*, ladder: Ladder, now: datetime | None = None) -> AsyncIterator[PlannedPlacement]:
    """Plan `ladder` as given (a draft rule on a rung: `with_rule`) as preview_ladder does, changing
    nothing, and hold the plan open for SQL on its connection until the block ends."""
    async with _planned(ladder, now=now or now_for_rules(), everyone=False) as plan:
        yield plan


@asynccontextmanager
async def _planned(ladder: Ladder, *, now: datetime, everyone: bool) -> AsyncIterator[PlannedPlacement]:
    """planned_placement's work, for the unsettled customers alone or (`everyone`) every customer:
    the same moves, since a settled customer makes none."""
    async with in_transaction(READER) as connection:
        if everyone:
            await _plan_everyone(connection, ladder, now=now)
        else:
            await _plan_unsettled(connection, ladder, now=now)
        yield PlannedPlacement(connection=connection, ladder=ladder)
        await _clear(connection)


async def _placed_counts(connection: BaseDBAsyncClient, ladder: Ladder, *, scoped: bool = False) -> dict[int, int]:
    """Each rung's members as the placement leaves them (a run counts its rows after writing):
    TARGET holds every customer's one place; `scoped`, every scoped customer's, and the rung's
    members outside the scope stay on it."""
    placed = f"SELECT pos, COUNT(*) AS n FROM {TARGET} GROUP BY pos"
    if scoped:
        case = " ".join(f"WHEN {int(r.group_id)} THEN {int(r.position)}" for r in ladder.rungs)
        placed = (
            f"SELECT pos, SUM(n) AS n FROM ({placed} "
            f"UNION ALL SELECT CASE group_id {case} END, COUNT(*) FROM membership WHERE group_id IN ({_ids(ladder)}) "
            f"GROUP BY group_id UNION ALL SELECT pos, -COUNT(*) FROM {NOW} GROUP BY pos) counted GROUP BY pos"
        )
    rows = await fetch_rows(connection, placed)
    counted = {row["pos"]: int(row["n"]) for row in rows}  # PostgreSQL sums counts as numeric
    return {rung.group_id: counted.get(rung.position, 0) for rung in ladder.rungs}


OVERLAP_SAMPLE = 10


async def _overlap(connection: BaseDBAsyncClient, ladder: Ladder) -> Overlap:
    many = f"(SELECT customer_id FROM {NOW} GROUP BY customer_id HAVING COUNT(*) > 1)"
    ends = await fetch_rows(
        connection,
        f"SELECT t.pos, COUNT(*) AS n FROM {many} o LEFT JOIN {TARGET} t ON t.customer_id = o.customer_id "
        "GROUP BY t.pos ORDER BY t.pos",
    )
    total = sum(row["n"] for row in ends)
    rows = await fetch_rows(
        connection,
        f"SELECT c.id, c.name, t.pos FROM {many} o JOIN customer c ON c.id = o.customer_id "
        f"LEFT JOIN {TARGET} t ON t.customer_id = o.customer_id ORDER BY c.name, c.id LIMIT ?",
        OVERLAP_SAMPLE,
    )
    held: dict[int, list[int]] = {}
    if rows:
        ids = [row["id"] for row in rows]
        for row in await fetch_rows(
            connection,
            f"SELECT customer_id, pos FROM {NOW} WHERE customer_id IN ({', '.join('?' for _ in ids)}) ORDER BY pos",
            *ids,
        ):
            held.setdefault(row["customer_id"], []).append(row["pos"])
    sample = tuple(
        OverlapCustomer(
            id=row["id"],
            name=row["name"],
            rungs=tuple(ladder.at(p).name for p in held.get(row["id"], [])),
            ends_on=ladder.at(row["pos"]).name if row["pos"] else None,
        )
        for row in rows
    )
    ends_on = tuple((ladder.at(row["pos"]).name if row["pos"] else None, row["n"]) for row in ends)
    # Off the ladder last, after the rungs top first.
    ends_on = tuple(sorted(ends_on, key=lambda e: e[0] is None))
    return Overlap(customers=total, ends_on=ends_on, sample=sample)


def with_rule(ladder: Ladder, *, group_id: int, rule: RuleGroup | dict) -> Ladder:
    """The ladder with a draft rule on one of its rungs (RuleError if it does not parse)."""
    parsed = rule if isinstance(rule, RuleGroup) else parse_rule(rule)
    rungs = tuple(
        replace(r, rule=parsed.model_dump(), parsed=parsed) if r.group_id == group_id else r for r in ladder.rungs
    )
    return replace(ladder, rungs=rungs)
