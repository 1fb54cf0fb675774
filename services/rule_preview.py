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


async def _matching_rows(query, *, now: datetime, rule: RuleGroup, offset: int, limit: int) -> list[MatchRow]:
    rows = await query.order_by("name", "id").offset(offset).limit(limit).values_list("id", "name", "email")
    facts = await load_facts(customer_ids=[r[0] for r in rows], rule=rule, now=now)
    return [MatchRow(i, name, email, evaluate(rule, facts[i], now=now)) for i, name, email in rows if i in facts]


async def _change(group_id: int, matches: Q) -> GroupChange | None:
    group = await CustomerGroup.get_or_none(id=group_id).using_db(background_connection())
    if group is None:
        return None
    db = background_connection()
    members = Membership.filter(group_id=group_id)
    matching_ids = Subquery(Customer.filter(matches).values("id"))
    joining = Customer.filter(matches).exclude(id__in=Subquery(members.values("customer_id")))
    # A hybrid group keeps the members the owner added by hand, and leaves out those taken out by hand.
    if group.type == GroupType.HYBRID:
        joining = joining.exclude(id__in=Subquery(MembershipExclusion.filter(group_id=group_id).values("customer_id")))
        leaving_members = members.filter(source=MembershipSource.RULE)
    else:
        leaving_members = members
    leaving = Customer.filter(
        id__in=Subquery(leaving_members.exclude(customer_id__in=matching_ids).values("customer_id"))
    )
    joining_count = await joining.using_db(db).count()
    # Leavers counted from the group's side: its rule members less those the rule still matches,
    # found by primary key. Counting `leaving` would first list every matching id for the NOT IN
    # (over a second when a rule matches most of a million customers).
    still_matching = Customer.filter(matches, id__in=Subquery(leaving_members.values("customer_id")))
    members_by_rule = await leaving_members.using_db(db).count()
    leaving_count = max(0, members_by_rule - await still_matching.using_db(db).count())  # a run may land between
    # Samples only for a side that has someone on it: ORDER BY name LIMIT walks the name index
    # until enough rows pass, which for an empty side means every customer.
    return GroupChange(
        joining=joining_count,
        leaving=leaving_count,
        joining_samples=await _named_samples(joining, db) if joining_count else [],
        leaving_samples=await _named_samples(leaving, db) if leaving_count else [],
    )


async def _named_samples(query, db) -> list[NamedCustomer]:
    return [
        NamedCustomer(i, n) for i, n in await query.using_db(db).order_by("name").limit(5).values_list("id", "name")
    ]


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
    samples = await _matching_rows(query, now=now, rule=rule, offset=0, limit=SAMPLE_SIZE) if matching else []
    change = await _change(group_id, matches) if group_id is not None else None
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
    rows = await _matching_rows(query, now=now, rule=rule, offset=offset, limit=limit)
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
