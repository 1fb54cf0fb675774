"""What a rule would do, before it is saved: how many customers match, who they are, who would join
or leave the group, and how many remain after each top-level condition.

Everything here only reads, on the background connection, so a preview over a million customers
never holds up other people's pages.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery

from models.customer import Customer
from models.group import CustomerGroup, GroupType, Membership, MembershipExclusion, MembershipSource
from services.database import background_connection
from services.paging import Page, page_bounds
from services.rule_compiler import condition_q, to_q
from services.rule_explainer import GroupCheck, evaluate, load_facts, now_for_rules
from services.rules import Condition, RuleGroup, parse_rule

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
class RulePreview:
    matching: int
    total_customers: int
    samples: list[MatchRow]
    change: GroupChange | None
    seconds: float

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


# A set this small is read whole and sorted here. ORDER BY name LIMIT n walks the name index until
# n rows pass the rule, which for a rare rule means most of a million customers.
SMALL_SET = 5_000
# A group this small is compared with the rule by its members' ids (primary-key lookups) rather
# than by listing every match.
SMALL_GROUP = 20_000
CHUNK = 5_000  # ids per statement, well under SQLite's limit on parameters


def _by_name(rows: list[tuple]) -> list[tuple]:
    # Python orders str by code point, as SQLite's BINARY collation orders UTF-8: the same order.
    return sorted(rows, key=lambda row: (row[1], row[0]))


async def _first_by_name(query, *, size: int, offset: int, limit: int) -> list[tuple[int, str]]:
    """Rows (id, name) `offset`..`offset + limit` of `query` by name; `size` is its row count."""
    if size <= SMALL_SET:
        return _by_name(await query.values_list("id", "name"))[offset : offset + limit]
    return await query.order_by("name", "id").offset(offset).limit(limit).values_list("id", "name")


async def _matching_rows(
    query, *, size: int, now: datetime, rule: RuleGroup, offset: int, limit: int
) -> list[MatchRow]:
    rows = await _first_by_name(query, size=size, offset=offset, limit=limit)
    facts = await load_facts(customer_ids=[r[0] for r in rows], rule=rule, now=now)
    return [
        MatchRow(i, facts[i].name, facts[i].email, evaluate(rule, facts[i], now=now)) for i, _ in rows if i in facts
    ]


async def _matching_among(matches: Q, ids: list[int], db) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found.update(await Customer.filter(matches, id__in=chunk).using_db(db).values_list("id", flat=True))
    return found


async def _names(ids: set[int], db) -> list[NamedCustomer]:
    rows: list[tuple] = []
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids)[start : start + CHUNK]
        rows += await Customer.filter(id__in=chunk).using_db(db).values_list("id", "name")
    return [NamedCustomer(i, n) for i, n in _by_name(rows)[:CHANGE_SAMPLES]]


async def _change(group: CustomerGroup, matches: Q, *, matching: int) -> GroupChange:
    """Who the rule would add to and take out of the group today.

    A hybrid group keeps the members the owner added by hand (only rule members leave) and leaves
    out those the owner took out by hand."""
    db = background_connection()
    hybrid = group.type == GroupType.HYBRID
    members = dict(await Membership.filter(group_id=group.id).using_db(db).values_list("customer_id", "source"))
    if len(members) > SMALL_GROUP:
        return await _change_of_big_group(group, matches, db)
    excluded = (
        set(await MembershipExclusion.filter(group_id=group.id).using_db(db).values_list("customer_id", flat=True))
        if hybrid
        else set()
    )
    matching_members = await _matching_among(matches, list(members), db)
    matching_outsiders = await _matching_among(matches, list(excluded - members.keys()), db)
    may_leave = {i for i, source in members.items() if not hybrid or source == MembershipSource.RULE}
    leaving = may_leave - matching_members
    joining = matching - len(matching_members) - len(matching_outsiders)
    known = members.keys() | excluded
    if joining <= 0:
        joining_samples = []
    elif matching <= SMALL_SET:
        rows = await Customer.filter(matches).using_db(db).values_list("id", "name")
        joining_samples = [NamedCustomer(i, n) for i, n in _by_name([r for r in rows if r[0] not in known])]
    else:
        # Most matches are joiners here, so the walk along the name index stops early.
        query = Customer.filter(matches).using_db(db).order_by("name", "id")
        rows = await query.limit(CHANGE_SAMPLES + len(known)).values_list("id", "name")
        joining_samples = [NamedCustomer(i, n) for i, n in rows if i not in known]
    return GroupChange(
        joining=joining,
        leaving=len(leaving),
        joining_samples=joining_samples[:CHANGE_SAMPLES],
        leaving_samples=await _names(leaving, db),
    )


async def _change_of_big_group(group: CustomerGroup, matches: Q, db) -> GroupChange:
    members = Membership.filter(group_id=group.id)
    joining = Customer.filter(matches).exclude(id__in=Subquery(members.values("customer_id")))
    if group.type == GroupType.HYBRID:
        joining = joining.exclude(id__in=Subquery(MembershipExclusion.filter(group_id=group.id).values("customer_id")))
        members = members.filter(source=MembershipSource.RULE)
    still_matching = Customer.filter(matches, id__in=Subquery(members.values("customer_id")))
    leaving = Customer.filter(id__in=Subquery(members.values("customer_id"))).exclude(
        id__in=Subquery(still_matching.values("id"))
    )
    joining_count = await joining.using_db(db).count()
    leaving_count = max(0, await members.using_db(db).count() - await still_matching.using_db(db).count())
    samples = [
        [NamedCustomer(i, n) for i, n in await _first_by_name(q.using_db(db), size=n, offset=0, limit=CHANGE_SAMPLES)]
        if n
        else []
        for q, n in ((joining, joining_count), (leaving, leaving_count))
    ]
    return GroupChange(joining_count, leaving_count, samples[0], samples[1])


async def preview_rule(
    *, rule: RuleGroup | dict, group_id: int | None = None, now: datetime | None = None
) -> RulePreview:
    """Count, first matches and, for an existing group, the joins and leaves. Raises RuleError."""
    started = time.perf_counter()
    rule, now = _rule(rule), now or now_for_rules()
    matches = to_q(rule, now=now)
    db = background_connection()
    query = Customer.filter(matches).using_db(db)
    matching = await query.count()
    total = await Customer.all().using_db(db).count()
    samples = (
        await _matching_rows(query, size=matching, now=now, rule=rule, offset=0, limit=SAMPLE_SIZE) if matching else []
    )
    group = await CustomerGroup.get_or_none(id=group_id).using_db(db) if group_id is not None else None
    change = await _change(group, matches, matching=matching) if group is not None else None
    return RulePreview(
        matching=matching, total_customers=total, samples=samples, change=change, seconds=time.perf_counter() - started
    )


async def list_matches(
    *, rule: RuleGroup | dict, page: int = 1, per_page: int = 25, now: datetime | None = None
) -> Page[MatchRow]:
    """Every customer the rule matches, a page at a time, by name."""
    rule, now = _rule(rule), now or now_for_rules()
    offset, limit = page_bounds(page, per_page)
    query = Customer.filter(to_q(rule, now=now)).using_db(background_connection())
    total = await query.count()
    rows = await _matching_rows(query, size=total, now=now, rule=rule, offset=offset, limit=limit)
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
