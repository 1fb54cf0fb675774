"""Whatever happens to a shop with a ladder, every customer is on at most one rung, and it is the
highest whose rule they match, unless they were placed on a rung by hand.

Hypothesis builds a small shop (customers with orders), a ladder of three rungs (automatic, hybrid
or manual, with rules over purchases and order counts that may overlap or not), and a sequence of
what an owner and the shop do: orders recorded, rung rules edited, rungs reordered, customers placed
on a rung by hand and taken off again, a customer blocked, a full run. After every step the shop is
checked against an answer computed here, independently of the ladder's service: the customers'
facts (services.rules.explainer) against each rung's saved rule, the rungs' order as saved, and the
memberships and exclusions the owner's hand changes left.

pytest-asyncio runs every example on the test's own event loop after the fixtures are set up once:
one database serves every example, and each example empties it first.
"""

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from tortoise.functions import Count

from models.audit import AuditEntry
from models.customer import Customer, CustomerStatus, Order
from models.group import CustomerGroup, GroupType, Membership, MembershipEvent, MembershipExclusion, MembershipSource
from models.webhook import WebhookEvent
from services.errors import FormError
from services.groups.group import create_group, get_group, update_group
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.orders import record_order
from services.rules.explainer import evaluate, load_facts, now_for_rules
from services.rules.ladder_setup import ladder_preview, make_ladder, reorder_rungs
from services.rules.ladders import LadderRun
from services.rules.model import RuleGroup, parse_rule
from services.rules.runs import reevaluate_customer, run_all_rules
from services.staff.actor import SystemActor

OWNER = SystemActor("olivia")
DOLLARS = (1_000, 3_000, 5_000, 8_000, 12_000, 20_000)
CUSTOMERS = 6
JOINED = datetime(2024, 1, 1, tzinfo=UTC)


# --- What Hypothesis draws --------------------------------------------------------------------


def _condition() -> st.SearchStrategy[dict]:
    amount = st.sampled_from(DOLLARS).map(lambda d: d * 100)
    return st.one_of(
        st.builds(lambda v: {"field": "total_purchases", "op": "gte", "value": v}, amount),
        st.builds(lambda v: {"field": "total_purchases", "op": "lt", "value": v}, amount),
        st.builds(lambda n: {"field": "order_count", "op": "gte", "value": n}, st.integers(1, 3)),
    )


RULES = st.lists(_condition(), min_size=1, max_size=2).map(lambda items: {"match": "all", "conditions": items})
KINDS = st.sampled_from(
    [GroupType.AUTOMATIC, GroupType.AUTOMATIC, GroupType.HYBRID, GroupType.HYBRID, GroupType.MANUAL]
)
ORDERS = st.lists(st.sampled_from([50_000, 200_000, 400_000, 700_000, 1_500_000]), max_size=3)


@dataclass(frozen=True)
class Step:
    kind: str
    customer: int = 0
    rung: int = 0
    rule: dict | None = None
    cents: int = 0
    order: tuple[int, ...] = ()


STEPS = st.one_of(
    st.builds(
        Step, kind=st.just("order"), customer=st.integers(0, CUSTOMERS - 1), cents=st.sampled_from([300_000, 900_000])
    ),
    st.builds(Step, kind=st.just("rule"), rung=st.integers(0, 2), rule=RULES),
    st.builds(Step, kind=st.just("reorder"), order=st.permutations([0, 1, 2]).map(tuple)),
    st.builds(Step, kind=st.just("place"), customer=st.integers(0, CUSTOMERS - 1), rung=st.integers(0, 2)),
    st.builds(Step, kind=st.just("take_off"), customer=st.integers(0, CUSTOMERS - 1), rung=st.integers(0, 2)),
    st.builds(Step, kind=st.just("block"), customer=st.integers(0, CUSTOMERS - 1)),
    st.builds(Step, kind=st.just("run_all")),
)


@dataclass(frozen=True)
class Shop:
    orders: tuple[tuple[int, ...], ...]  # per customer, completed order totals in cents
    kinds: tuple[GroupType, ...]  # per rung, as first made (top first)
    rules: tuple[dict, ...]
    order: tuple[int, ...]  # the ladder's first order of the rungs
    steps: tuple[Step, ...]


SHOPS = st.builds(
    Shop,
    orders=st.lists(ORDERS, min_size=CUSTOMERS, max_size=CUSTOMERS).map(lambda x: tuple(map(tuple, x))),
    kinds=st.lists(KINDS, min_size=3, max_size=3).map(tuple),
    rules=st.lists(RULES, min_size=3, max_size=3).map(tuple),
    order=st.permutations([0, 1, 2]).map(tuple),
    steps=st.lists(STEPS, max_size=8).map(tuple),
)


# --- Building the shop ------------------------------------------------------------------------


async def _empty() -> None:
    for model in (WebhookEvent, AuditEntry, MembershipEvent, MembershipExclusion, Membership, CustomerGroup, Customer):
        await model.all().delete()


async def _build(shop: Shop) -> tuple[list[int], list[int], int]:
    """The customers, the rungs (as drawn) and the ladder's group, made a ladder in the drawn order."""
    customers = []
    for i, totals in enumerate(shop.orders):
        placed = [JOINED + timedelta(days=30 * (n + 1)) for n in range(len(totals))]
        customer = await Customer.create(
            name=f"Customer {i}",
            email=f"customer{i}@example.com",
            created_at=JOINED,
            lifetime_cents=sum(totals),
            order_count=len(totals),
            average_order_cents=sum(totals) // len(totals) if totals else None,
            first_order_at=placed[0] if totals else None,
            last_order_at=placed[-1] if totals else None,
        )
        await Order.bulk_create(
            [Order(customer=customer, placed_at=p, total_cents=t) for p, t in zip(placed, totals, strict=True)]
        )
        customers.append(customer.id)
    parent = (await create_group(data={"name": "Tiers", "code": "TIERS"}, actor=OWNER)).id
    rungs = []
    for i, (kind, rule) in enumerate(zip(shop.kinds, shop.rules, strict=True)):
        data = {"name": f"Rung {i}", "code": f"RUNG-{i}", "type": kind, "parent_id": parent}
        if kind != GroupType.MANUAL:
            data["rule"] = rule
        rungs.append((await create_group(data=data, actor=OWNER)).id)
    order = [rungs[i] for i in shop.order]
    # The rungs were plain groups until now, whose rules may overlap: the preview's figures are
    # what making the ladder does, with customers on more than one rung too.
    preview = (await ladder_preview(parent_id=parent, rung_order=order, actor=OWNER)).run
    made = await make_ladder(parent_id=parent, rung_order=order, actor=OWNER)
    await _same_figures(preview, made)
    return customers, rungs, parent


def _figures(run: LadderRun) -> tuple:
    rungs = [(r.group_id, r.members, r.arrived, r.departed) for r in run.rungs]
    return rungs, sorted((s.from_group_id or 0, s.to_group_id or 0, s.direction, s.customers) for s in run.shifts)


async def _same_figures(preview: LadderRun | None, made: LadderRun) -> None:
    assert preview is not None
    assert _figures(preview) == _figures(made), "the preview's rungs and moves are what the change did"
    counted = dict(
        await Membership.filter(group_id__in=[r.group_id for r in made.rungs])
        .group_by("group_id")
        .annotate(n=Count("id"))
        .values_list("group_id", "n")
    )
    assert {r.group_id: r.members for r in made.rungs} == {r.group_id: counted.get(r.group_id, 0) for r in made.rungs}


async def _do(step: Step, customers: list[int], rungs: list[int], parent: int) -> None:
    customer, rung = customers[step.customer], rungs[step.rung]
    match step.kind:
        case "order":
            await record_order(customer_id=customer, total_cents=step.cents, placed_at=JOINED + timedelta(days=400))
        case "rule":
            group = await get_group(group_id=rung)
            if group.type == GroupType.MANUAL:
                return
            data = group.as_input()
            data.rule = step.rule
            await update_group(group_id=rung, version=group.version, data=data, actor=OWNER)
        case "reorder":
            order = [rungs[i] for i in step.order]
            preview = (await ladder_preview(parent_id=parent, rung_order=order, actor=OWNER)).run
            await _same_figures(preview, await reorder_rungs(ladder_id=parent, rung_order=order, actor=OWNER))
        case "place":
            with suppress(FormError):  # an automatic rung takes nobody by hand
                await add_members(group_id=rung, customer_ids=[customer], mode=AddMode.ADD, actor=OWNER)
        case "take_off":
            if await Membership.exists(group_id=rung, customer_id=customer):
                with suppress(FormError):  # nor gives anybody back
                    await remove_members(group_id=rung, customer_ids=[customer], mode=RemoveMode.REMOVE, actor=OWNER)
        case "block":
            await Customer.filter(id=customer).update(status=CustomerStatus.BLOCKED)
            await reevaluate_customer(customer_id=customer, actor=OWNER)
        case "run_all":
            await run_all_rules(actor=OWNER)


# --- The independent answer -------------------------------------------------------------------


EVERY_STAT = {"field": "total_purchases", "op": "gt", "value": 0}


async def _check(customers: list[int], parent: int) -> None:
    """Every customer on at most one rung; a customer not placed by hand on the highest rung whose
    rule they match (a blocked one: on none, or on a rung whose rule still matches them)."""
    now = now_for_rules()
    groups = await CustomerGroup.filter(parent_id=parent).order_by("rung").values("id", "name", "type", "rule")
    rules = {g["id"]: parse_rule(g["rule"]) for g in groups if g["type"] != GroupType.MANUAL and g["rule"]}
    # The facts every rung's rule reads (with no rule left on any rung, the stats and status alone).
    read = list(rules.values()) or [parse_rule({"match": "all", "conditions": [EVERY_STAT]})]
    facts = await load_facts(customer_ids=customers, rule=RuleGroup(match="any", conditions=read), now=now)
    held = {}
    for cid, gid, source in await Membership.filter(group_id__in=[g["id"] for g in groups]).values_list(
        "customer_id", "group_id", "source"
    ):
        held.setdefault(cid, []).append((gid, source))
    excluded = set(await MembershipExclusion.filter(group_id__in=list(rules)).values_list("customer_id", "group_id"))
    kinds = {g["id"]: g["type"] for g in groups}
    for cid in customers:
        on = held.get(cid, [])
        note(f"customer {cid}: {facts[cid].lifetime_cents} cents, {facts[cid].order_count} orders, on {on}")
        assert len(on) <= 1, f"customer {cid} is on {len(on)} rungs: {on}"
        pinned = bool(on) and (
            kinds[on[0][0]] == GroupType.MANUAL or on[0][1] in (MembershipSource.MANUAL, MembershipSource.BOTH)
        )
        if pinned:
            continue
        matching = [
            g["id"]
            for g in groups
            if g["id"] in rules
            and (cid, g["id"]) not in excluded
            and evaluate(rules[g["id"]], facts[cid], now=now).passed
        ]
        if facts[cid].status == CustomerStatus.BLOCKED:
            assert not on or on[0][0] in matching, f"blocked customer {cid} on a rung whose rule does not match"
            continue
        expected = matching[0] if matching else None
        assert (on[0][0] if on else None) == expected, f"customer {cid}: on {on}, the highest rung matched {expected}"


@pytest.fixture
async def shop_db(db) -> None:
    """The test's database: every example empties it first."""


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    # The database fixture is set up once for all examples on purpose: each example empties it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shop=SHOPS)
async def test_every_customer_is_on_the_highest_rung_they_qualify_for_whatever_happens(shop_db, shop: Shop):
    await _empty()
    customers, rungs, parent = await _build(shop)
    note(f"rungs {rungs}, ladder order {[rungs[i] for i in shop.order]}")
    await _check(customers, parent)
    for step in shop.steps:
        note(f"step: {step}")
        await _do(step, customers, rungs, parent)
        await _check(customers, parent)
