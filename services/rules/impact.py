"""What a rule change would cost and whom it collides with, before it is saved: the yearly discount
the customers who would join would have had on their last 12 months' purchases at the group's
pricing, and how many of them already sit in another group that prices the same products.

Everything is counted set-based on the background connection: the joiners are a subquery (the
rule's matches minus today's members and those kept out by hand), summed against orders (or order
lines, when the pricing covers chosen products) in one statement each.

A rung of a ladder is reckoned from its ladder's placement instead (`_rung_impact`): its rule's
matches are not its arrivals (a customer a higher rung takes never arrives), and a customer moving
up from a rung that gave them 5% off to one giving 10% costs the difference, not the full 10%; one
moving down or off the ladder is a saving.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
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
from services.benefits.summary import catalog_names, pricing_text
from services.rules.clock import months_before
from services.rules.compiler import _customers_not_in as customers_without_row_in
from services.rules.compiler import to_q
from services.rules.explainer import now_for_rules
from services.rules.ladders import Direction, Ladder, ladder_ids_by_rung, load_ladder, planned_placement, with_rule
from services.rules.model import RuleGroup, parse_rule
from services.storage.database import background_connection
from services.storage.sql import fetch_rows, placeholders

DRAFT_ID = 0  # a group being created has no id yet; no stored group has 0
COLLISIONS_SHOWN = 3


@dataclass(frozen=True)
class Collision:
    """Joiners who are already members of another group that prices the same products."""

    group_id: int
    group_name: str
    customers: int


def _price_change(before: str, after: str) -> str:
    """ "5% → 10% off", "10% off", "no longer 5% off"."""
    if before and after:
        if before.endswith("% off") and after.endswith("% off"):
            return f"{before.removesuffix(' off')} → {after}"
        return f"{before} → {after}"
    return after or f"no longer {before}"


@dataclass(frozen=True)
class MoveCost:
    """Customers going one way onto or off the rung previewed, and what that does to their discount:
    a move between rungs costs the difference between the two rungs' pricing."""

    direction: Direction  # "join": new to the ladder; "leave": off it
    arriving: bool  # onto the rung previewed; otherwise off it
    other: str | None  # the rung they come from or go to
    customers: int
    before: str  # their discount before, in the overview's words ("5% off"); "" for none
    after: str
    cost_cents: int | None  # a year's discounts more (negative: less); None: not estimated
    purchases_cents: int  # their completed orders of the last 12 months

    def words(self) -> str:
        """ "8 move up from Silver Tier (5% → 10% off)", "3 new to the ladder (10% off)"."""
        n = f"{self.customers:,}"
        if self.direction == "join":
            way = f"{n} new to the ladder"
        elif self.direction == "leave":
            way = f"{n} off the ladder"
        else:
            verb = "moves" if self.customers == 1 else "move"
            way = f"{n} {verb} {self.direction} {'from' if self.arriving else 'to'} {self.other}"
        return f"{way} ({_price_change(self.before, self.after)})"


@dataclass(frozen=True)
class RuleImpact:
    joiners: int  # for a rung: its arrivals (moved onto it, or new to the ladder)
    prices: bool  # the group gives special prices at all (a rung: it or a rung customers move from or to)
    yearly_cost_cents: int | None  # None: the pricing cannot be turned into an amount here; a rung: net
    purchases_cents: int  # the joiners' last 12 months' purchases the cost is reckoned on
    cost_note: str  # how the figure is reckoned, or why there is none
    collisions: list[Collision]  # the largest first; at most COLLISIONS_SHOWN
    moves: tuple[MoveCost, ...] = ()  # a rung: each way customers go onto or off it whose discount changes

    def moves_words(self) -> str:
        """ "8 move up from Silver Tier (5% → 10% off), 2 move down to Silver Tier (10% → 5% off)"."""
        return ", ".join(move.words() for move in self.moves)


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
        # NOT EXISTS, not NOT IN (SELECT ...): see services/rules/compiler.py.
        query = query.filter(
            customers_without_row_in(Membership.filter(group_id=group_id), ""),
            customers_without_row_in(MembershipExclusion.filter(group_id=group_id), ""),
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


async def _rivals(
    left_out: set[int | None], scope: set[int] | None, benefits: dict[int, EffectiveBenefits]
) -> dict[int, str]:
    """The active groups, but `left_out`, that price some of the same products: id -> name."""
    rivals: dict[int, str] = {}
    active = set(
        await CustomerGroup.filter(status=GroupStatus.ACTIVE)
        .using_db(background_connection())
        .values_list("id", flat=True)
    )
    for gid, other in benefits.items():
        if gid in left_out or gid == DRAFT_ID or gid not in active:
            continue
        pricing = _pricing(other)
        if _prices(pricing) and _same_products(scope, await _product_scope(pricing)):
            rivals[gid] = other.group_name
    return rivals


def _largest(rivals: dict[int, str], rows) -> list[Collision]:
    found = [Collision(gid, rivals[gid], int(n)) for gid, n in rows if n]
    found.sort(key=lambda c: (-c.customers, c.group_name))
    return found[:COLLISIONS_SHOWN]


async def _collisions(
    group_id: int | None, scope: set[int] | None, benefits: dict[int, EffectiveBenefits], joiners
) -> list[Collision]:
    rivals = await _rivals({group_id}, scope, benefits)
    if not rivals:
        return []
    rows = (
        await Membership.filter(group_id__in=list(rivals), customer_id__in=Subquery(joiners.values("id")))
        .annotate(n=Count("id"))
        .group_by("group_id")
        .using_db(background_connection())
        .values_list("group_id", "n")
    )
    return _largest(rivals, rows)


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
    (draft_pricing gives it for the wizard's entries). For a rung of a ladder: of the customers
    its ladder would move onto and off it (`joiners` is then counted here), see `_rung_impact`."""
    rule = rule if isinstance(rule, RuleGroup) else parse_rule(rule)
    now = now or now_for_rules()
    ladder_id = (await ladder_ids_by_rung()).get(group_id) if group_id is not None else None
    ladder = await load_ladder(ladder_id=ladder_id) if ladder_id is not None else None
    if ladder is not None and group_id is not None:
        return await _rung_impact(with_rule(ladder, group_id=group_id, rule=rule), group_id, benefits, now=now)
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


# --- A rung of a ladder -----------------------------------------------------------------------

Move = tuple[int | None, int | None]  # (rung left, rung arrived at) by position; None: off the ladder


def _scope_filter(pricing: Mapping[str, Any]) -> tuple[str, tuple]:
    """The order lines a pricing covers, as SQL on `l` (an order_line) and its parameters."""
    scope = pricing.get("scope") or Scope.ALL
    if scope == Scope.CATEGORIES:
        ids = tuple(sorted(pricing.get("category_ids") or [])) or (0,)
        return f" AND l.sku IN (SELECT sku FROM product WHERE category_id IN ({placeholders(ids)}))", ids
    if scope == Scope.PRODUCTS:
        ids = tuple(sorted(pricing.get("product_ids") or [])) or (0,)
        return f" AND l.sku IN (SELECT sku FROM product WHERE id IN ({placeholders(ids)}))", ids
    return "", ()


class _MoveSpend:
    """The movers' last 12 months, by move: their orders, and their order lines under each pricing's
    scope (read once per scope), all on the connection holding the placement."""

    def __init__(self, connection: BaseDBAsyncClient, moves: str, since: datetime) -> None:
        self.connection, self.since = connection, since
        self.moves = f"WITH m(customer_id, from_pos, to_pos) AS ({moves}) "
        self.lines_by_scope: dict[tuple, dict[Move, tuple[int, int]]] = {}

    async def orders(self) -> dict[Move, tuple[int, int]]:
        """Move -> (customers, their completed orders' total)."""
        rows = await fetch_rows(
            self.connection,
            f"{self.moves}SELECT m.from_pos, m.to_pos, COUNT(DISTINCT m.customer_id) AS n, "
            'COALESCE(SUM(o.total_cents), 0) AS spent FROM m LEFT JOIN "order" o ON o.customer_id = m.customer_id '
            "AND o.status = ? AND o.placed_at >= ? GROUP BY m.from_pos, m.to_pos",
            OrderStatus.COMPLETED.value,
            self.since,
        )
        return {(r["from_pos"], r["to_pos"]): (int(r["n"]), int(r["spent"])) for r in rows}

    async def lines(self, pricing: Mapping[str, Any]) -> dict[Move, tuple[int, int]]:
        """Move -> (what the lines the pricing covers cost, their units)."""
        where, params = _scope_filter(pricing)
        key = (where, params)
        if key not in self.lines_by_scope:
            rows = await fetch_rows(
                self.connection,
                f"{self.moves}SELECT m.from_pos, m.to_pos, COALESCE(SUM(l.quantity * l.price_cents), 0) AS spent, "
                'COALESCE(SUM(l.quantity), 0) AS units FROM m JOIN "order" o ON o.customer_id = m.customer_id '
                f"JOIN order_line l ON l.order_id = o.id WHERE o.status = ? AND o.placed_at >= ?{where} "
                "GROUP BY m.from_pos, m.to_pos",
                OrderStatus.COMPLETED.value,
                self.since,
                *params,
            )
            self.lines_by_scope[key] = {(r["from_pos"], r["to_pos"]): (int(r["spent"]), int(r["units"])) for r in rows}
        return self.lines_by_scope[key]

    async def discount(self, pricing: Mapping[str, Any] | None, move: Move, orders: int) -> int | None:
        """What `pricing` takes off the move's customers' year (as _cost reckons it); None: not
        estimated (a price list)."""
        if pricing is None or not _prices(pricing):
            return 0
        kind = pricing.get("type")
        if kind == PricingType.PRICE_LIST:
            return None
        if kind == PricingType.PERCENTAGE and (pricing.get("scope") or Scope.ALL) == Scope.ALL:
            return round(orders * pricing["percent"] / 100)
        spent, units = (await self.lines(pricing)).get(move, (0, 0))
        if kind == PricingType.PERCENTAGE:
            return round(spent * pricing["percent"] / 100)
        return min(spent, units * int(pricing["fixed_cents"]))


def _direction(move: Move) -> Direction:
    start, end = move
    if start is None:
        return "join"
    if end is None:
        return "leave"
    return "up" if end < start else "down"


def _on_orders_alone(pricing: Mapping[str, Any] | None) -> bool:
    if pricing is None or not _prices(pricing):
        return True
    return pricing.get("type") == PricingType.PERCENTAGE and (pricing.get("scope") or Scope.ALL) == Scope.ALL


async def _rung_impact(ladder: Ladder, group_id: int, benefits: EffectiveBenefits, *, now: datetime) -> RuleImpact:
    """What the rule change on rung `group_id` (already in `ladder`) does to the discounts of the
    customers its ladder would move onto or off it, and which other pricing groups the arrivals are
    in. The ladder's placement is planned here (planned_placement) and read by move in SQL;
    `benefits` is the rung's (draft) pricing, the other rungs' are their own.

    The rule preview of the same draft (services.rules.preview.preview_rung_rule) plans the ladder
    too, a second time for one preview: its plan lives in a read-only transaction that ends before
    the cost is asked for (the page asks for the cost with the rung's draft pricing after showing
    the preview), so sharing it would mean reckoning the cost inside preview_rule, with the pricing
    passed to it, or holding a reader transaction open between the two calls. Left as is."""
    here = ladder.rung(group_id)
    assert here is not None
    groups = await load_groups()
    by_position = {
        r.position: benefits if r.group_id == group_id else effective(r.group_id, groups) for r in ladder.rungs
    }
    pricings = {position: _pricing(b) for position, b in by_position.items()}
    names = await catalog_names()
    shorts = {position: pricing_text(b.pricing, names)[1] for position, b in by_position.items()}
    words = {position: "" if short == "Standard" else short for position, short in shorts.items()}
    mine = pricings[here.position]
    scope = await _product_scope(mine)
    everyone = {gid: effective(gid, groups) for gid in groups}
    rivals = await _rivals({ladder.id, *ladder.group_ids}, scope, everyone) if _prices(mine) else {}

    found: list[tuple[Move, MoveCost]] = []
    async with planned_placement(ladder=ladder, now=now) as plan:
        connection = plan.connection
        spend = _MoveSpend(connection, plan.rung_moves_sql(group_id=group_id), months_before(now, 12))
        for move, (customers, purchases) in (await spend.orders()).items():
            start, end = move
            before = await spend.discount(pricings.get(start), move, purchases) if start else 0
            after = await spend.discount(pricings.get(end), move, purchases) if end else 0
            arriving = end == here.position
            other = start if arriving else end
            item = MoveCost(
                direction=_direction(move),
                arriving=arriving,
                other=ladder.at(other).name if other else None,
                customers=customers,
                before=words[start] if start else "",
                after=words[end] if end else "",
                cost_cents=None if before is None or after is None else after - before,
                purchases_cents=purchases,
            )
            found.append((move, item))
        rows = []
        if rivals:
            rows = await fetch_rows(
                connection,
                f"{spend.moves}SELECT mb.group_id, COUNT(*) AS n FROM membership mb JOIN m ON "
                f"m.customer_id = mb.customer_id WHERE m.to_pos = ? AND mb.group_id IN ({placeholders(rivals)}) "
                "GROUP BY mb.group_id",
                here.position,
                *rivals,
            )

    # As RungMoves words them: arrivals first, up before down before new, then departures.
    way = {"up": 0, "down": 1, "join": 2, "leave": 2}
    found.sort(key=lambda item: (not item[1].arriving, way[item[1].direction], [p or 0 for p in item[0]]))
    # A move between rungs that price alike changes no one's discount: the cost line leaves it out.
    priced = [(move, m) for move, m in found if m.before != m.after or m.cost_cents]
    costs = [m.cost_cents for _, m in priced]
    if None in costs:
        cost, note = None, "a price list's saving depends on each product's list price: not estimated here"
    else:
        used = [pricings[p] for move, _ in priced for p in move if p is not None]
        plain = all(_on_orders_alone(pricing) for pricing in used)
        note = (
            "their completed orders of the last 12 months"
            if plain
            else "what each rung's discount covers, bought in the last 12 months"
        )
        cost = sum(c for c in costs if c is not None)
    return RuleImpact(
        joiners=sum(m.customers for _, m in found if m.arriving),
        prices=_prices(mine) or bool(priced),
        yearly_cost_cents=cost,
        purchases_cents=sum(m.purchases_cents for _, m in priced),
        cost_note=note,
        collisions=_largest(rivals, [(r["group_id"], r["n"]) for r in rows]),
        moves=tuple(m for _, m in priced),
    )
