"""What a rule change would cost and whom it collides with, before it is saved: the yearly discount
the customers who would join would have had on their last 12 months' purchases at the group's
pricing, and how many of them already sit in another group that prices the same products.

Everything is counted set-based on the background connection: the joiners are a subquery (the
rule's matches minus today's members and those kept out by hand), summed against orders (or order
lines, when the pricing covers chosen products) in one statement each.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import RawSQL, Subquery
from tortoise.functions import Count, Sum

from models.catalog import Product
from models.customer import Customer, Order, OrderLine, OrderStatus
from models.group import CustomerGroup, GroupStatus, Membership, MembershipExclusion
from services.benefits.sections import (
    Benefits,
    EffectiveBenefits,
    GroupNode,
    PricingType,
    Scope,
    effective,
    load_groups,
    parse_section,
)
from services.rules.clock import months_before
from services.rules.compiler import to_q
from services.rules.explainer import now_for_rules
from services.rules.model import RuleGroup, parse_rule
from services.storage.database import background_connection

DRAFT_ID = 0  # a group being created has no id yet; no stored group has 0
COLLISIONS_SHOWN = 3


@dataclass(frozen=True)
class Collision:
    """Joiners who are already members of another group that prices the same products."""

    group_id: int
    group_name: str
    customers: int


@dataclass(frozen=True)
class RuleImpact:
    joiners: int
    prices: bool  # the group gives special prices at all
    yearly_cost_cents: int | None  # None: the pricing cannot be turned into an amount here
    purchases_cents: int  # the joiners' last 12 months' purchases the cost is reckoned on
    cost_note: str  # how the figure is reckoned, or why there is none
    collisions: list[Collision]  # the largest first; at most COLLISIONS_SHOWN


async def draft_pricing(*, group_id: int | None, parent_id: int | None, own: dict | None) -> EffectiveBenefits:
    """The group's benefits as the wizard would save them: its own pricing as entered (an entry that
    does not parse yet counts as the stored one), inherited through `parent_id`."""
    groups = await load_groups()
    gid = group_id if group_id is not None else DRAFT_ID
    stored = groups[gid].benefits if gid in groups else Benefits(gid)
    try:
        pricing = parse_section("pricing", own) if own is not None else stored.pricing
    except Exception:  # a half-typed discount: the preview goes on with what is saved
        pricing = stored.pricing
    name = groups[gid].name if gid in groups else "This group"
    benefits = Benefits(
        gid, pricing=pricing, visibility=stored.visibility, portal=stored.portal, payment=stored.payment
    )
    groups[gid] = GroupNode(gid, name, parent_id, benefits)
    return effective(gid, groups)


def _pricing(benefits: EffectiveBenefits) -> dict[str, Any]:
    return {name: setting.value for name, setting in benefits.pricing.items()}


def _prices(pricing: Mapping[str, Any]) -> bool:
    kind = pricing.get("type")
    if kind == PricingType.PERCENTAGE:
        return bool(pricing.get("percent"))
    if kind == PricingType.FIXED:
        return bool(pricing.get("fixed_cents"))
    return kind == PricingType.PRICE_LIST and pricing.get("price_list_id") is not None


async def _product_scope(pricing: Mapping[str, Any]) -> set[int] | None:
    """The products the pricing covers; None: all of them."""
    scope = pricing.get("scope") or Scope.ALL
    if scope == Scope.CATEGORIES:
        return set(
            await Product.filter(category_id__in=pricing.get("category_ids") or [])
            .using_db(background_connection())
            .values_list("id", flat=True)
        )
    if scope == Scope.PRODUCTS:
        return set(pricing.get("product_ids") or [])
    return None


def _joiners(rule: RuleGroup, group_id: int | None, now: datetime):
    query = Customer.filter(to_q(rule, now=now))
    if group_id is not None:
        query = query.exclude(id__in=Subquery(Membership.filter(group_id=group_id).values("customer_id"))).exclude(
            id__in=Subquery(MembershipExclusion.filter(group_id=group_id).values("customer_id"))
        )
    return query


async def _cost(
    pricing: Mapping[str, Any], scope: set[int] | None, joiners, *, since: datetime
) -> tuple[int | None, int, str]:
    db = background_connection()
    kind = pricing.get("type")
    ids = Subquery(joiners.values("id"))
    if scope is None and kind == PricingType.PERCENTAGE:
        row = (
            await Order.filter(customer_id__in=ids, status=OrderStatus.COMPLETED, placed_at__gte=since)
            .annotate(total=Sum("total_cents"))
            .using_db(db)
            .values_list("total", flat=True)
        )
        spent = int(row[0] or 0) if row else 0
        return round(spent * pricing["percent"] / 100), spent, "their completed orders of the last 12 months"
    if kind == PricingType.PRICE_LIST:
        return None, 0, "a price list's saving depends on each product's list price: not estimated here"
    lines = OrderLine.filter(
        order__customer_id__in=ids, order__status=OrderStatus.COMPLETED, order__placed_at__gte=since
    )
    if scope is not None:
        skus = Subquery(Product.filter(id__in=sorted(scope) or [0]).values("sku"))
        lines = lines.filter(sku__in=skus)
    totals = (
        # Tortoise refuses arithmetic between an int and a bigint field; the columns are unambiguous.
        await lines.annotate(spent=Sum(RawSQL("quantity * price_cents")), units=Sum("quantity"))
        .using_db(db)
        .values_list("spent", "units")
    )
    spent, units = (int(totals[0][0] or 0), int(totals[0][1] or 0)) if totals else (0, 0)
    where = "the covered products they bought" if scope is not None else "their order lines"
    if kind == PricingType.PERCENTAGE:
        return round(spent * pricing["percent"] / 100), spent, f"{where} in the last 12 months"
    # A fixed amount off each unit, never more than the unit cost.
    return min(spent, units * int(pricing["fixed_cents"])), spent, f"{units:,} units of {where} in the last 12 months"


def _same_products(mine: set[int] | None, theirs: set[int] | None) -> bool:
    return mine is None or theirs is None or bool(mine & theirs)


async def _collisions(
    group_id: int | None, scope: set[int] | None, benefits: dict[int, EffectiveBenefits], joiners
) -> list[Collision]:
    rivals: dict[int, str] = {}
    active = set(
        await CustomerGroup.filter(status=GroupStatus.ACTIVE)
        .using_db(background_connection())
        .values_list("id", flat=True)
    )
    for gid, other in benefits.items():
        if gid in (group_id, DRAFT_ID) or gid not in active:
            continue
        pricing = _pricing(other)
        if _prices(pricing) and _same_products(scope, await _product_scope(pricing)):
            rivals[gid] = other.group_name
    if not rivals:
        return []
    rows = (
        await Membership.filter(group_id__in=list(rivals), customer_id__in=Subquery(joiners.values("id")))
        .annotate(n=Count("id"))
        .group_by("group_id")
        .using_db(background_connection())
        .values_list("group_id", "n")
    )
    found = [Collision(gid, rivals[gid], int(n)) for gid, n in rows if n]
    found.sort(key=lambda c: (-c.customers, c.group_name))
    return found[:COLLISIONS_SHOWN]


async def rule_impact(
    *,
    rule: RuleGroup | dict,
    group_id: int | None,
    benefits: EffectiveBenefits,
    joiners: int,
    now: datetime | None = None,
) -> RuleImpact:
    """The cost and the collisions of the customers the rule would add to the group (`joiners` is
    their number, as the preview counted them); `benefits` is the group's effective pricing
    (draft_pricing gives it for the wizard's entries)."""
    rule = rule if isinstance(rule, RuleGroup) else parse_rule(rule)
    now = now or now_for_rules()
    pricing = _pricing(benefits)
    prices = _prices(pricing)
    if not joiners:
        return RuleImpact(0, prices, 0 if prices else None, 0, "", [])
    query = _joiners(rule, group_id, now)
    scope = await _product_scope(pricing)
    if prices:
        cost, spent, note = await _cost(pricing, scope, query, since=months_before(now, 12))
    else:
        cost, spent, note = None, 0, "this group gives no special prices"
    everyone = {gid: effective(gid, groups) for groups in [await load_groups()] for gid in groups}
    collisions = await _collisions(group_id, scope, everyone, query) if prices else []
    return RuleImpact(joiners, prices, cost, spent, note, collisions)
