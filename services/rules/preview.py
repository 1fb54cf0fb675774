"""What a rule would do, before it is saved: how many customers match, who they are, who would join
or leave the group, and how many remain after each top-level condition. For a rung of a ladder, the
same change in moves ("+37 up from Silver Tier, -5 down to Bronze Tier, +12 new to the ladder"),
from the ladder's own placement (services.rules.ladders.preview_ladder), so it is what saving does.

Everything here only reads, on the background connection, so a preview over a million customers
never holds up other people's pages.
"""

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

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
from services.paging import Page, page_bounds
from services.rules.compiler import condition_q, to_q
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
from services.rules.model import Condition, RuleGroup, parse_rule
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
    members = Subquery(Membership.filter(group_id=group.id).values("customer_id"))
    excluded = Subquery(MembershipExclusion.filter(group_id=group.id).values("customer_id"))
    joining = Customer.filter(matches).exclude(id__in=members).exclude(id__in=excluded).using_db(db)
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
    members: dict[str, int]  # members by source
    matching: dict[str, int]  # members the rule matches, by source
    excluded_matching: int  # customers taken out by hand whom the rule matches


async def _members_matching(group: CustomerGroup, rule: RuleGroup, *, now: datetime) -> _MemberCounts:
    """The group's members, and which of them the rule matches, looked up from the group's side."""
    db = background_connection()
    on_members = to_q(rule, now=now, prefix="customer__")
    members = Membership.filter(group_id=group.id)
    per_source = members.annotate(n=Count("id")).group_by("source")
    excluded_matching = 0
    if group.type == GroupType.HYBRID:
        excluded_matching = (
            await MembershipExclusion.filter(group_id=group.id)
            .filter(on_members)
            .exclude(customer_id__in=Subquery(members.values("customer_id")))
            .using_db(db)
            .count()
        )
    return _MemberCounts(
        members=dict(await per_source.using_db(db).values_list("source", "n")),
        matching=dict(await per_source.filter(on_members).using_db(db).values_list("source", "n")),
        excluded_matching=excluded_matching,
    )


async def _nothing() -> list:
    return []


async def _change(
    group: CustomerGroup, rule: RuleGroup, counts: _MemberCounts, *, matching: int, now: datetime
) -> GroupChange:
    """Who the rule would add to and take out of the group today, counted from the group's side:
    its members are looked up against the rule by key, so a rule matching most of a million
    customers costs no more than one matching a few.

    A hybrid group keeps the members the owner added by hand (only rule members leave) and leaves
    out those the owner took out by hand."""
    db = background_connection()
    hybrid = group.type == GroupType.HYBRID
    on_members = to_q(rule, now=now, prefix="customer__")
    members = Membership.filter(group_id=group.id)
    may_leave = [MembershipSource.RULE.value] if hybrid else [s.value for s in MembershipSource]
    leaving = sum(counts.members.get(s, 0) - counts.matching.get(s, 0) for s in may_leave)
    joining = max(0, matching - sum(counts.matching.values()) - counts.excluded_matching)

    leaving_samples: list[NamedCustomer] = []
    if leaving:
        still = Subquery(members.filter(on_members).values("customer_id"))
        leavers = members.filter(source__in=may_leave).exclude(customer_id__in=still).using_db(db)
        query = leavers.values_list("customer_id", "customer__name")
        if leaving > SMALL_SET:
            query = (
                leavers.order_by("customer__name").limit(CHANGE_SAMPLES).values_list("customer_id", "customer__name")
            )
        leaving_samples = [NamedCustomer(i, n) for i, n in _by_name(await query)[:CHANGE_SAMPLES]]
    joining_samples = await _joining_samples(group, to_q(rule, now=now), matching=matching, db=db) if joining else []
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
    # The count and the group's side of the change each read a good part of a big shop: on two
    # connections they run side by side.
    matching, total, members = await asyncio.gather(
        Customer.filter(matches).using_db(reader).count(),
        Customer.all().using_db(reader).count(),
        _members_matching(group, rule, now=now) if group is not None else asyncio.sleep(0),
    )
    query = Customer.filter(matches).using_db(reader)
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


async def rule_funnel(*, rule: RuleGroup | dict, now: datetime | None = None) -> list[FunnelStep]:
    """For ALL: customers left after each top-level condition; for ANY: customers gathered so far."""
    rule, now = _rule(rule), now or now_for_rules()
    db = background_connection()
    steps: list[FunnelStep] = []
    parts: list[Q] = []
    for index, item in enumerate(rule.conditions):
        parts.append(to_q(item, now=now) if isinstance(item, RuleGroup) else condition_q(item, now=now))
        combined = Q(*parts, join_type="OR" if rule.match == "any" else "AND")
        steps.append(FunnelStep(str(index), item, await Customer.filter(combined).using_db(db).count()))
    return steps


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
