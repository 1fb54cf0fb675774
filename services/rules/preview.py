"""What a rule would do, before it is saved: how many customers match, who they are, who would join
or leave the group, and how many remain after each top-level condition. For a rung of a ladder, the
same change in moves ("+37 up from Silver Tier, -5 down to Bronze Tier, +12 new to the ladder"),
from the ladder's own placement (services.rules.ladders.preview_ladder), so it is what saving does.

Everything here only reads, on the background connection, so a preview over a million customers
never holds up other people's pages.
"""

import asyncio
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Criterion, Term
from tortoise.expressions import Q, ResolveContext
from tortoise.functions import Count
from tortoise.query_utils import QueryModifier

from models.customer import Customer
from models.group import (
    CustomerGroup,
    GroupType,
    Membership,
    MembershipAction,
    MembershipEvent,
    MembershipExclusion,
    MembershipSource,
)
from services.counted import count_customers
from services.paging import Page, page_bounds
from services.rules.compiler import _customers_not_in as customers_without_row_in
from services.rules.compiler import by_key, condition_q, to_q
from services.rules.explainer import GroupCheck, evaluate, load_facts, now_for_rules
from services.rules.ladder_setup import get_ladder, rung_of
from services.rules.ladders import (
    CustomerRef,
    LadderRun,
    RungMoves,
    Shift,
    ladder_ids_by_rung,
    load_ladder,
    preview_ladder,
    run_id_at,
    with_rule,
)
from services.rules.model import Condition, RuleGroup, parse_rule, walk
from services.storage.database import background_connection, reader_connection

SAMPLE_SIZE = 10
CHANGE_SAMPLES = 5


@dataclass(frozen=True)
class MatchRow:
    """A matching customer with the rule checked against their values."""

    customer_id: int
    name: str
    email: str
    check: GroupCheck


@dataclass(frozen=True)
class NamedCustomer:
    customer_id: int
    name: str


@dataclass(frozen=True)
class GroupChange:
    """Against a group's members today: who the rule would add and who it would take out."""

    joining: int
    leaving: int
    joining_samples: list[NamedCustomer]
    leaving_samples: list[NamedCustomer]


@dataclass(frozen=True)
class RungPreview:
    """A rung's rule change as its ladder would carry it out: moves, not joins and leaves (`moves`
    for this rung, in words by `words()`; `run` for every rung)."""

    ladder_id: int
    ladder_name: str
    moves: RungMoves
    run: LadderRun

    def words(self) -> str:
        return self.moves.words()


@dataclass(frozen=True)
class RulePreview:
    matching: int
    total_customers: int
    samples: list[MatchRow]
    change: GroupChange | None
    seconds: float
    ladder: RungPreview | None = None  # the group is a rung of a ladder: the change in moves
    # Counted on this many customers and scaled to the shop (estimate_rule): the figures are an
    # estimate, without names, until the exact preview replaces them. None: exact.
    sampled: int | None = None

    @property
    def estimated(self) -> bool:
        return self.sampled is not None

    @property
    def share(self) -> float:
        return self.matching / self.total_customers if self.total_customers else 0.0


@dataclass(frozen=True)
class FunnelStep:
    """How many customers are left (ALL) or gathered (ANY) once this top-level condition is added."""

    label_path: str
    condition: Condition | RuleGroup
    customers: int


def _rule(rule: RuleGroup | dict) -> RuleGroup:
    return rule if isinstance(rule, RuleGroup) else parse_rule(rule)


# A set this small may be read whole and sorted here: ORDER BY name LIMIT n walks the name index
# until n rows pass the rule, which for a rare rule means most of a million customers.
SMALL_SET = 5_000


def _by_name(rows: list[tuple]) -> list[tuple]:
    # Python orders str by code point, as SQLite's BINARY collation orders UTF-8: the same order.
    return sorted(rows, key=lambda row: (row[1], row[0]))


async def _first_by_name(query, *, size: int, shop: int | None, offset: int, limit: int) -> list[tuple[int, str]]:
    """Rows (id, name) `offset`..`offset + limit` of `query` by name; `size` is its row count and
    `shop` the customers it is drawn from, when known."""
    # Reading the set whole costs `size` rows; the name index, about shop / size rows per row wanted.
    if size <= SMALL_SET and (shop is None or size * size < shop * (offset + limit)):
        return _by_name(await query.values_list("id", "name"))[offset : offset + limit]
    return await query.order_by("name", "id").offset(offset).limit(limit).values_list("id", "name")


# Rule fields read from an indexed column of the customer, compared by range.
_INDEXED = {
    "total_purchases": "lifetime_cents",
    "order_count": "order_count",
    "average_order_value": "average_order_cents",
    "days_since_last_order": "last_order_at",
    "days_since_first_order": "first_order_at",
    "account_age_months": "created_at",
}
# A condition passed by more than this share of customers is cheaper checked on each row of a scan
# than looked up by its index (each index entry costs a lookup of its row).
WIDE = 0.2


# Customers read to decide which counts scan past an index: a share near WIDE is decided either
# way at little cost, so a small sample does (building a statement of 5,000 ids takes 15 ms).
WIDE_SAMPLE = 500


async def _wide_columns(rule: RuleGroup, *, now: datetime, db) -> frozenset[str]:
    """The indexed columns of `rule`'s conditions that pass for more than WIDE of a sample of
    customers: on SQLite, counts scan past their indexes.

    SQLite's planner, without statistics on a column's values, uses the index of any range it is
    given: "last order within 365 days" (77% of a million customers) was 776,000 lookups by index,
    3.3 s against 0.4 s for a scan. A rule on one column alone keeps its index, which then holds all
    the count needs (no row lookups). PostgreSQL keeps statistics and chooses itself."""
    leaves = [c for _, c in walk(rule) if isinstance(c, Condition)]
    ranged = [c for c in leaves if c.field in _INDEXED]
    if not ranged or len({c.field for c in leaves}) < 2 or db.capabilities.dialect != "sqlite":
        return frozenset()
    among = await _sample(db, size=WIDE_SAMPLE)
    if among is None:
        return frozenset()
    wide = set()
    for leaf in ranged:
        passing = await Customer.filter(condition_q(leaf, now=now), among).using_db(db).count()
        if passing > WIDE * WIDE_SAMPLE:
            wide.add(_INDEXED[leaf.field])
    return frozenset(wide)


async def _count(matches: Q, *, db, wide: frozenset[str] = frozenset()) -> int:
    """How many customers `matches` passes, the `wide` columns compared without their index (SQLite's
    unary + on a column keeps the planner off its index)."""
    query = Customer.filter(matches).using_db(db).count()
    if not wide:
        return await query
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    # The count reads the customer table alone: its columns appear unqualified.
    columns = "|".join(re.escape(c) for c in sorted(wide))
    sql = re.sub(rf'(?<![.\w"+])("(?:{columns})")(?=\s*(?:<|>|=|IS|BETWEEN))', r"+\1", sql)
    _, rows = await db.execute_query(sql, params)
    return rows[0][0] if rows else 0


async def _matching_rows(
    query, *, size: int, shop: int | None, now: datetime, rule: RuleGroup, offset: int, limit: int
) -> list[MatchRow]:
    rows = await _first_by_name(query, size=size, shop=shop, offset=offset, limit=limit)
    facts = await load_facts(customer_ids=[r[0] for r in rows], rule=rule, now=now)
    return [
        MatchRow(i, facts[i].name, facts[i].email, evaluate(rule, facts[i], now=now)) for i, _ in rows if i in facts
    ]


async def _joining_samples(group: CustomerGroup, matches: Q, *, matching: int, db) -> list[NamedCustomer]:
    """The first joiners by name: matches that are neither members nor taken out by hand."""
    with by_key():
        not_excluded = customers_without_row_in(MembershipExclusion.filter(group_id=group.id), "")
    joining = Customer.filter(matches, _not_member(group, prefix=""), not_excluded).using_db(db)
    if matching <= SMALL_SET:
        return [NamedCustomer(i, n) for i, n in _by_name(await joining.values_list("id", "name"))[:CHANGE_SAMPLES]]
    # Many matches: walk them by name (the name index) a batch at a time and drop those already in.
    found: list[NamedCustomer] = []
    for batch in range(5):
        rows = (
            await Customer.filter(matches)
            .using_db(db)
            .order_by("name", "id")
            .offset(batch * 50)
            .limit(50)
            .values_list("id", "name")
        )
        ids = [i for i, _ in rows]
        known = set(
            await Membership.filter(group_id=group.id, customer_id__in=ids)
            .using_db(db)
            .values_list("customer_id", flat=True)
        ) | set(
            await MembershipExclusion.filter(group_id=group.id, customer_id__in=ids)
            .using_db(db)
            .values_list("customer_id", flat=True)
        )
        found += [NamedCustomer(i, n) for i, n in rows if i not in known]
        if len(found) >= CHANGE_SAMPLES or len(rows) < 50:
            return found[:CHANGE_SAMPLES]
    return [
        NamedCustomer(i, n)
        for i, n in await joining.order_by("name", "id").limit(CHANGE_SAMPLES).values_list("id", "name")
    ]


@dataclass(frozen=True)
class _MemberCounts:
    may_leave: int  # members the rule may take out: all, or a hybrid group's rule members
    may_leave_matching: int  # of those, the ones the rule matches (they stay)
    matching: int  # members the rule matches, whatever their source
    excluded_matching: int  # customers taken out by hand whom the rule matches


def _not_member(group: CustomerGroup, *, prefix: str) -> Q:
    """Customers who are not members of the group, checked by key (NOT EXISTS: PostgreSQL scans a
    NOT IN (SELECT ...) once per row when it outgrows work_mem)."""
    with by_key():
        return condition_q(
            Condition(field="member_of", op="not_in", value=[group.id]), now=now_for_rules(), prefix=prefix
        )


async def _members_matching(
    group: CustomerGroup, rule: RuleGroup, *, now: datetime, db=None, among: Q | None = None
) -> _MemberCounts:
    """The group's members, and which of them the rule matches, looked up from the group's side;
    only the customers `among`, when given."""
    db = db or background_connection()
    with by_key():  # each member is checked by key, not against the whole shop's tags
        on_members = to_q(rule, now=now, prefix="customer__")
    members = Membership.filter(group_id=group.id)
    excluded_matching = 0
    if group.type == GroupType.HYBRID:
        excluded = MembershipExclusion.filter(group_id=group.id)
        excluded = excluded if among is None else excluded.filter(among)
        excluded_matching = (
            await excluded.filter(on_members, _not_member(group, prefix="customer__")).using_db(db).count()
        )
    if among is not None:
        # A sample's members, a few thousand, each looked up by key and counted here. Asked for
        # their source, SQLite read the whole group from the (group_id, source) index instead.
        sampled = members.filter(among).using_db(db)
        ids = set(await sampled.values_list("customer_id", flat=True))
        if group.type == GroupType.HYBRID:
            ids = set(await sampled.filter(source=MembershipSource.RULE).values_list("customer_id", flat=True))
        kept = set(await sampled.filter(on_members).values_list("customer_id", flat=True))
        return _MemberCounts(len(ids), len(kept & ids), len(kept), excluded_matching)
    if group.type != GroupType.HYBRID:
        # Every member may leave: the group's kept member count, and the members the rule matches.
        matching = await members.filter(on_members).using_db(db).count()
        return _MemberCounts(group.member_count, matching, matching, 0)
    # By source from the index on (group_id, source, customer_id).
    per_source = members.annotate(n=Count("id")).group_by("source")
    by_source = dict(await per_source.using_db(db).values_list("source", "n"))
    matching = dict(await per_source.filter(on_members).using_db(db).values_list("source", "n"))
    rule_source = MembershipSource.RULE.value
    return _MemberCounts(
        by_source.get(rule_source, 0), matching.get(rule_source, 0), sum(matching.values()), excluded_matching
    )


async def _nothing() -> list:
    return []


def _may_leave(group: CustomerGroup) -> list[str]:
    return [MembershipSource.RULE.value] if group.type == GroupType.HYBRID else [s.value for s in MembershipSource]


def _joining_leaving(group: CustomerGroup, counts: _MemberCounts, *, matching: int) -> tuple[int, int]:
    leaving = counts.may_leave - counts.may_leave_matching
    return max(0, matching - counts.matching - counts.excluded_matching), leaving


async def _leaving_by_name(
    group: CustomerGroup, rule: RuleGroup, *, now: datetime, may_leave: list[str], db
) -> list[NamedCustomer]:
    """The first leavers by name, for many leavers: customers walked by the name index, each checked
    by key for a membership that may leave and for the rule (NOT EXISTS among the members it keeps,
    so a customer whose value is empty leaves too), until five pass. Leavers are then at least
    SMALL_SET of the shop: sorting ~300,000 of them by name for five names took longer than
    counting them."""
    with by_key():
        member = ~customers_without_row_in(Membership.filter(group_id=group.id, source__in=may_leave), "")
        kept = customers_without_row_in(
            Membership.filter(group_id=group.id).filter(to_q(rule, now=now, prefix="customer__")), ""
        )
    rows = (
        await Customer.filter(member, kept)
        .using_db(db)
        .order_by("name", "id")
        .limit(CHANGE_SAMPLES)
        .values_list("id", "name")
    )
    return [NamedCustomer(i, n) for i, n in rows]


async def _change(
    group: CustomerGroup, rule: RuleGroup, counts: _MemberCounts, *, matching: int, now: datetime
) -> GroupChange:
    """Who the rule would add to and take out of the group today, counted from the group's side:
    its members are looked up against the rule by key, so a rule matching most of a million
    customers costs no more than one matching a few.

    A hybrid group keeps the members the owner added by hand (only rule members leave) and leaves
    out those the owner took out by hand."""
    db = background_connection()
    with by_key():  # these read a few customers, or the group's members, each checked by key
        on_members, keyed = to_q(rule, now=now, prefix="customer__"), to_q(rule, now=now)
    members = Membership.filter(group_id=group.id)
    may_leave = _may_leave(group)
    joining, leaving = _joining_leaving(group, counts, matching=matching)

    leaving_samples: list[NamedCustomer] = []
    if leaving > SMALL_SET:
        leaving_samples = await _leaving_by_name(group, rule, now=now, may_leave=may_leave, db=db)
    elif leaving:
        # Few leavers: the members with no row among the members the rule keeps (NOT EXISTS, read
        # once), sorted here.
        still = customers_without_row_in(members.filter(on_members), "customer__")
        leavers = members.filter(still, source__in=may_leave).using_db(db)
        query = leavers.values_list("customer_id", "customer__name")
        leaving_samples = [NamedCustomer(i, n) for i, n in _by_name(await query)[:CHANGE_SAMPLES]]
    joining_samples = await _joining_samples(group, keyed, matching=matching, db=db) if joining else []
    return GroupChange(joining, leaving, joining_samples, leaving_samples)


async def preview_rule(
    *, rule: RuleGroup | dict, group_id: int | None = None, now: datetime | None = None
) -> RulePreview:
    """Count, first matches and, for an existing group, the joins and leaves. Raises RuleError."""
    started = time.perf_counter()
    rule, now = _rule(rule), now or now_for_rules()
    matches = to_q(rule, now=now)
    db, reader = background_connection(), reader_connection()
    group = await CustomerGroup.get_or_none(id=group_id).using_db(db) if group_id is not None else None
    wide = await _wide_columns(rule, now=now, db=reader)
    # The count and the group's side of the change each read a good part of a big shop: on two
    # connections they run side by side.
    matching, total, members = await asyncio.gather(
        _count(matches, db=reader, wide=wide),
        count_customers(),  # kept: not a count of the whole shop on the reader in the count's way
        _members_matching(group, rule, now=now) if group is not None else asyncio.sleep(0),
    )
    with by_key():  # the first matches by name: few customers read, each checked by key
        query = Customer.filter(to_q(rule, now=now)).using_db(reader)
    samples, change = await asyncio.gather(
        _matching_rows(query, size=matching, shop=total, now=now, rule=rule, offset=0, limit=SAMPLE_SIZE)
        if matching
        else _nothing(),
        _change(group, rule, members, matching=matching, now=now) if group is not None else asyncio.sleep(0),
    )
    ladder = await preview_rung_rule(group_id=group_id, rule=rule, now=now) if group is not None else None
    return RulePreview(
        matching=matching,
        total_customers=total,
        samples=samples,
        change=change,
        seconds=time.perf_counter() - started,
        ladder=ladder,
    )


# Customers an estimate reads: its share is within about 1.4 points of the exact one 19 times in 20
# (1.96 * sqrt(0.25 / 5,000)), e.g. "about 230,000" where 225,000 match a million.
ESTIMATE_SAMPLE = 5_000


@dataclass(frozen=True)
class _Stride:
    """Every `step`-th customer id from `first` to `last`: an estimate's sample."""

    first: int
    last: int
    step: int


class _IdsOnStride(Criterion):
    """<customer id> IN (the stride's ids, made by the database): a statement of 5,000 ids in
    parameters took Tortoise 15 ms to build, longer than the database took to answer it."""

    def __init__(self, column: Term, stride: _Stride) -> None:
        super().__init__()
        self.column, self.stride = column, stride

    def get_sql(self, ctx: SqlContext) -> str:
        column = self.column.get_sql(ctx.copy(with_namespace=True, with_alias=False))
        first, last, step = (int(v) for v in (self.stride.first, self.stride.last, self.stride.step))  # ours, not typed
        ids = f"SELECT {first} UNION ALL SELECT n + {step} FROM stride WHERE n + {step} <= {last}"
        return f"{column} IN (WITH RECURSIVE stride(n) AS ({ids}) SELECT n FROM stride)"


class _OnStride(Q):
    """The customers (or rows of a model pointing at them) whose id is on the stride."""

    __slots__ = ("stride",)

    def __init__(self, stride: _Stride) -> None:
        super().__init__()
        self.stride = stride

    def __bool__(self) -> bool:
        return True

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        meta = resolve_context.model._meta
        column = meta.db_pk_column if meta.db_table == Customer._meta.db_table else "customer_id"
        return QueryModifier(where_criterion=_IdsOnStride(resolve_context.table[column], self.stride))


async def _sample(db, *, size: int) -> _OnStride | None:
    """About `size` customers spread evenly over the customers' ids; None when there are no more
    than that, so the estimate reads every customer and is exact."""
    first = await Customer.all().using_db(db).order_by("id").limit(1).values_list("id", flat=True)
    last = await Customer.all().using_db(db).order_by("-id").limit(1).values_list("id", flat=True)
    if not first or last[0] - first[0] < size:
        return None
    # An even stride, not a random draw: the same rule gives the same estimate each time it is typed.
    return _OnStride(_Stride(first[0], last[0], (last[0] - first[0] + 1) // size))


async def estimate_rule(
    *, rule: RuleGroup | dict, group_id: int | None = None, now: datetime | None = None, sample: int = ESTIMATE_SAMPLE
) -> RulePreview:
    """The preview's figures counted on about `sample` customers spread over the shop and scaled to
    it: what the rule builder shows ("about 230,000") while a big shop's exact preview is counted.
    No names (they come with the exact figures). On a shop of at most `sample` customers it reads
    them all, and the figures are the exact ones. Raises RuleError."""
    started = time.perf_counter()
    rule, now = _rule(rule), now or now_for_rules()
    # The page's own connection: the exact preview holds the other two while this runs beside it,
    # and these few thousand lookups by key take a page read's time.
    db = Customer._meta.db
    group = await CustomerGroup.get_or_none(id=group_id).using_db(db) if group_id is not None else None
    among = await _sample(db, size=sample)
    customers = Customer.all() if among is None else Customer.filter(among)
    total = await count_customers()
    read = total if among is None else await customers.using_db(db).count()
    with by_key():  # a few thousand customers, each checked by key
        matches = to_q(rule, now=now)
    matched = await customers.filter(matches).using_db(db).count()
    scale = total / read if read else 0.0
    change = None
    if group is not None:
        counts = await _members_matching(group, rule, now=now, db=db, among=among)
        joining, leaving = _joining_leaving(group, counts, matching=matched)
        change = GroupChange(round(joining * scale), round(leaving * scale), [], [])
    return RulePreview(
        matching=round(matched * scale),
        total_customers=total,
        samples=[],
        change=change,
        seconds=time.perf_counter() - started,
        sampled=read,
    )


async def preview_rung_rule(
    *, group_id: int, rule: RuleGroup | dict, now: datetime | None = None
) -> RungPreview | None:
    """What saving `rule` on rung `group_id` would move: up from and down to which rungs, new to the
    ladder and off it, with a few names each. None when the group is not a rung of a ladder.
    Raises RuleError for a rule that does not parse."""
    ladder_id = (await ladder_ids_by_rung()).get(group_id)
    ladder = await load_ladder(ladder_id=ladder_id) if ladder_id is not None else None
    if ladder is None:
        return None
    run = await preview_ladder(ladder=with_rule(ladder, group_id=group_id, rule=_rule(rule)), now=now)
    return RungPreview(ladder_id=ladder.id, ladder_name=ladder.name, moves=run.moves_of(group_id), run=run)


async def last_rung_moves(*, group_id: int) -> RungMoves | None:
    """The moves the ladder's last run made on rung `group_id` (what saving its rule did, for the
    message after the save), each with the first few customers by name; None when the group is no
    rung of a ladder."""
    place = await rung_of(group_id=group_id)
    if place is None:
        return None
    ladder = await get_ladder(group_id=place.ladder_id)
    name = next((r.name for r in ladder.rungs if r.group_id == group_id), "")
    run = LadderRun(ladder.group_id, ladder.name, ladder.last_run_at or now_for_rules(), (), ladder.last_moves)
    moves = replace(run.moves_of(group_id), name=name)
    if ladder.last_run_at is None:
        return moves
    # Only this run's events: a run in the same second (an Undo right after the save) records its
    # own at the same moment.
    run_id = await run_id_at(group_ids=[r.group_id for r in ladder.rungs], at=ladder.last_run_at)

    async def named(shift: Shift) -> Shift:
        """The shift with its first customers by name, from the run's events (a move is recorded on
        the rung moved to, naming the rung left; a leave on the rung left)."""
        events = MembershipEvent.filter(at=ladder.last_run_at)
        if run_id is not None:
            events = events.filter(run_id=run_id)
        if shift.direction in ("up", "down"):
            action = MembershipAction.MOVED_UP if shift.direction == "up" else MembershipAction.MOVED_DOWN
            events = events.filter(group_id=shift.to_group_id, other_group_id=shift.from_group_id, action=action)
        elif shift.direction == "join":
            events = events.filter(group_id=shift.to_group_id, action=MembershipAction.JOINED)
        else:
            events = events.filter(
                group_id=shift.from_group_id, other_group_id=shift.to_group_id, action=MembershipAction.LEFT
            )
        rows = (
            await events.order_by("customer__name", "customer_id")
            .limit(CHANGE_SAMPLES)
            .values_list("customer_id", "customer__name")
        )
        return replace(shift, sample=tuple(CustomerRef(i, n) for i, n in rows))

    async def each(shifts: tuple[Shift, ...]) -> tuple[Shift, ...]:
        return tuple([await named(shift) for shift in shifts])

    return replace(
        moves,
        up_from=await each(moves.up_from),
        down_from=await each(moves.down_from),
        new=await named(moves.new) if moves.new else None,
        up_to=await each(moves.up_to),
        down_to=await each(moves.down_to),
        off=await named(moves.off) if moves.off else None,
        only_on=await each(moves.only_on),
    )


async def list_matches(
    *, rule: RuleGroup | dict, page: int = 1, per_page: int = 25, now: datetime | None = None
) -> Page[MatchRow]:
    """Every customer the rule matches, a page at a time, by name."""
    rule, now = _rule(rule), now or now_for_rules()
    offset, limit = page_bounds(page, per_page)
    query = Customer.filter(to_q(rule, now=now)).using_db(background_connection())
    total = await query.count()
    rows = await _matching_rows(query, size=total, shop=None, now=now, rule=rule, offset=offset, limit=limit)
    return Page(rows=rows, total=total, page=page, per_page=limit)


async def rule_funnel(
    *, rule: RuleGroup | dict, now: datetime | None = None, matching: int | None = None
) -> list[FunnelStep]:
    """For ALL: customers left after each top-level condition; for ANY: customers gathered so far.
    `matching`, the rule's own count when known (the preview's), is the last step's."""
    rule, now = _rule(rule), now or now_for_rules()
    connections = [background_connection(), reader_connection()]
    wide = await _wide_columns(rule, now=now, db=connections[1])
    steps: list[Q] = []
    parts: list[Q] = []
    for item in rule.conditions:
        parts.append(to_q(item, now=now) if isinstance(item, RuleGroup) else condition_q(item, now=now))
        steps.append(Q(*parts, join_type="OR" if rule.match == "any" else "AND"))
    known = [matching] if matching is not None and steps else []
    # Each step is a count of its own over the shop: two at a time, on two connections.
    counted = await asyncio.gather(
        *[_count(q, db=connections[i % 2], wide=wide) for i, q in enumerate(steps[: len(steps) - len(known)])]
    )
    return [
        FunnelStep(str(index), item, customers)
        for index, (item, customers) in enumerate(zip(rule.conditions, [*counted, *known], strict=True))
    ]


async def explain_member(*, group_id: int, customer_id: int, now: datetime | None = None) -> GroupCheck | None:
    """Why a customer is (or is not) matched by the group's saved rule; None for a group without one."""
    group = await CustomerGroup.get_or_none(id=group_id)
    if group is None or not group.rule:
        return None
    rule, now = parse_rule(group.rule), now or now_for_rules()
    facts = await load_facts(customer_ids=[customer_id], rule=rule, now=now)
    return evaluate(rule, facts[customer_id], now=now) if customer_id in facts else None


@dataclass(frozen=True)
class RuleExplanation:
    group_id: int
    group_name: str
    group_type: GroupType
    is_member: bool
    source: MembershipSource | None
    check: GroupCheck


async def explain_customer(*, customer_id: int, now: datetime | None = None) -> list[RuleExplanation]:
    """For every rule-based group, member or not: does this customer match its rule, and why."""
    now = now or now_for_rules()
    groups = await CustomerGroup.filter(type__in=[GroupType.AUTOMATIC, GroupType.HYBRID]).order_by("name")
    memberships: dict[int, Any] = dict(
        await Membership.filter(customer_id=customer_id).values_list("group_id", "source")
    )
    rules = [(g, parse_rule(g.rule)) for g in groups if g.rule]
    if not rules:
        return []
    combined = RuleGroup(match="any", conditions=[r for _, r in rules])
    facts = (await load_facts(customer_ids=[customer_id], rule=combined, now=now)).get(customer_id)
    if facts is None:
        return []
    return [
        RuleExplanation(
            group_id=g.id,
            group_name=g.name,
            group_type=g.type,
            is_member=g.id in memberships,
            source=MembershipSource(memberships[g.id]) if g.id in memberships else None,
            check=evaluate(rule, facts, now=now),
        )
        for g, rule in rules
    ]
