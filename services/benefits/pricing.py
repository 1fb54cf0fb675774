"""What a customer pays, and why: their effective benefits across all their groups and ancestors.

- A line's price is the most favourable of its candidates: the base price, and for each of the
  customer's groups (after inheritance) its price list (the tier for the line's quantity), its
  percentage discount or its fixed adjustment, where the product is in the group's scope and the
  cart meets the group's minimum order. Never below zero. Every candidate is kept in the trace
  with why it won or lost.
- Visibility and portal access are the union over the groups; payment terms come from the
  primary group (through its ancestors).

Everything is read in a handful of queries (memberships, groups, benefits, the cart's products,
their price list rows) and decided in Python, so a 50-line cart costs the same few reads as one.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from models.catalog import PriceList, PriceListItem, Product, VisibilityGroup
from models.customer import Customer
from models.group import GroupStatus, Membership
from models.promotion import PromotionType
from services.benefits.sections import (
    DEFAULTS,
    EffectiveBenefits,
    GroupNode,
    PricingType,
    Scope,
    ShopAccess,
    VisibilityMode,
    effective,
    load_groups,
)
from services.calendar import order_day
from services.errors import FormError, NotFoundError
from services.promotions import ApplicablePromotion, applicable_promotions
from services.shop import get_shop
from services.wording import long_date, money

BASE = "Base price"


@dataclass(frozen=True)
class CartLine:
    product_id: int
    quantity: int = 1


@dataclass(frozen=True)
class Candidate:
    """One price a line could get, from one source."""

    source: str  # "Base price", "VIP Customers: 15% discount", "VIP Price List (10+ units)"
    group_id: int | None
    group_name: str | None
    unit_cents: int | None  # None: did not apply
    verdict: str  # why it won, lost or did not apply
    won: bool = False
    note: str = ""  # where the setting comes from, e.g. "15% from VIP Customers + 5% here"


@dataclass(frozen=True)
class LinePrice:
    product_id: int
    sku: str
    name: str
    quantity: int
    base_unit_cents: int
    unit_cents: int
    total_cents: int
    winner: Candidate
    candidates: tuple[Candidate, ...]
    visible: bool  # whether the customer may see (and so order) the product
    free_units: int = 0  # given free by a buy-get-free promotion
    free_note: str = ""  # "Buy 2 get 1 free (Spring BOGO): 1 unit free"


@dataclass(frozen=True)
class MinimumCheck:
    group_name: str
    met: bool
    text: str  # "Minimum order $500: met ($620)"


@dataclass(frozen=True)
class PromotionNote:
    """A promotion that reaches the customer, and what it does for this order."""

    name: str
    applied: bool
    text: str  # "10% additional on every line" / "Not valid on March 15, 2026 (April 1 - 30, 2026)."


@dataclass(frozen=True)
class Quote:
    customer_id: int
    customer_name: str
    groups: tuple[str, ...]  # the customer's active groups, primary first
    lines: tuple[LinePrice, ...]
    base_total_cents: int
    total_cents: int
    minimums: tuple[MinimumCheck, ...]
    promotions: tuple["PromotionNote", ...] = ()  # every promotion that reaches the customer

    @property
    def savings_cents(self) -> int:
        return self.base_total_cents - self.total_cents


@dataclass(frozen=True)
class CustomerBenefits:
    """A customer's benefits across all their groups."""

    customer_id: int
    primary_group: str | None
    groups: tuple[EffectiveBenefits, ...]  # primary first
    sees_all_products: bool
    visibility_group_names: tuple[str, ...]  # besides the standard products
    extra_product_count: int  # products granted one by one
    portal: dict[str, object]  # union over the groups
    payment: EffectiveBenefits | None  # the primary group's, through its ancestors


@dataclass(frozen=True)
class _Memberships:
    group_ids: tuple[int, ...]  # active groups, primary first
    primary_id: int | None


async def _memberships(customer_id: int) -> _Memberships:
    rows = (
        await Membership.filter(customer_id=customer_id, group__status=GroupStatus.ACTIVE)
        .order_by("-is_primary", "group__name")
        .values_list("group_id", "is_primary")
    )
    primary = next((gid for gid, is_primary in rows if is_primary), None)
    return _Memberships(tuple(gid for gid, _ in rows), primary)


def in_scope(pricing: dict, product: dict) -> bool:
    """Whether a group's effective pricing covers the product; the troubleshooting checklist asks the same."""
    scope = pricing["scope"].value
    if scope == Scope.CATEGORIES:
        return product["category_id"] in pricing["category_ids"].value
    if scope == Scope.PRODUCTS:
        return product["id"] in pricing["product_ids"].value
    return True


def _discounted(base: int, percent: float) -> int:
    """The base price less `percent`, in whole cents, rounded to the nearest cent."""
    basis_points = round(percent * 100)
    return max(0, (base * (10_000 - basis_points) + 5_000) // 10_000)


def _tier(items: list[tuple[int, int]], quantity: int) -> tuple[int, int] | None:
    """The (min_quantity, price) tier for `quantity`: the largest minimum the line reaches."""
    reached = [item for item in items if item[0] <= quantity]
    return max(reached) if reached else None


def _group_candidate(
    group: EffectiveBenefits,
    product: dict,
    quantity: int,
    tiers: dict[tuple[int, int], list[tuple[int, int]]],
    list_names: dict[int, str],
    unmet: dict[int, str],
    *,
    currency: str,
) -> Candidate | None:
    pricing = group.pricing
    kind = pricing["type"].value
    if kind in (None, PricingType.NONE):
        return None
    base = product["base_price_cents"]
    name = group.group_name
    origin = pricing["type"]
    note = "" if origin.group_id == group.group_id else f"inherited from {origin.group_name}"
    if kind == PricingType.PERCENTAGE:
        percent = pricing["percent"].value
        source, unit = f"{name}: {percent:g}% discount", _discounted(base, percent)
        note = pricing["percent"].note or note
    elif kind == PricingType.FIXED:
        fixed = pricing["fixed_cents"].value
        off = money(fixed, currency=currency, cents_shown="always")
        source, unit = f"{name}: {off} off each unit", max(0, base - fixed)
    else:
        list_id = pricing["price_list_id"].value
        tier = _tier(tiers.get((list_id, product["id"]), []), quantity)
        list_name = list_names.get(list_id, "price list")
        if tier is None:
            return Candidate(f"{name}: {list_name}", group.group_id, name, None, "Not on this price list.", note=note)
        minimum, unit = tier
        source = f"{name}: {list_name}" + (f" ({minimum}+ units)" if minimum > 1 else "")
        unit = max(0, unit)
    if not in_scope(pricing, product):
        return Candidate(source, group.group_id, name, None, "Product is not in this group's pricing scope.", note=note)
    if group.group_id in unmet:
        return Candidate(source, group.group_id, name, None, unmet[group.group_id], note=note)
    return Candidate(source, group.group_id, name, unit, "", note=note)


async def quote(*, customer_id: int, lines: Sequence[CartLine], at: date | datetime | None = None) -> Quote:
    """Each line's price for this customer, with the trace of every candidate, the cart's
    minimum-order checks and the promotions that reach them. `at` is the order date (today if
    not given): a promotion counts only within its dates."""
    customer = await Customer.get_or_none(id=customer_id).values("id", "name")
    if customer is None:
        raise NotFoundError(f"There is no customer with id {customer_id}.")
    if not lines:
        raise FormError({"lines": "Add at least one product to the cart."})
    if any(line.quantity < 1 for line in lines):
        raise FormError({"lines": "Each line needs a quantity of at least 1."})
    memberships = await _memberships(customer_id)
    groups = await load_groups()
    mine = [effective(gid, groups) for gid in memberships.group_ids]
    product_ids = sorted({line.product_id for line in lines})
    products = {
        p["id"]: p
        for p in await Product.filter(id__in=product_ids).values(
            "id", "sku", "name", "category_id", "visibility_group_id", "base_price_cents"
        )
    }
    if missing := [pid for pid in product_ids if pid not in products]:
        raise FormError({"lines": f"{len(missing)} of the products no longer exist."})
    list_ids = {g.pricing["price_list_id"].value for g in mine if g.pricing["type"].value == PricingType.PRICE_LIST}
    tiers: dict[tuple[int, int], list[tuple[int, int]]] = {}
    list_names: dict[int, str] = {}
    if list_ids:
        list_names = dict(await PriceList.filter(id__in=list(list_ids)).values_list("id", "name"))
        for list_id, product_id, minimum, price in await PriceListItem.filter(
            price_list_id__in=list(list_ids), product_id__in=product_ids
        ).values_list("price_list_id", "product_id", "min_quantity", "price_cents"):
            tiers.setdefault((list_id, product_id), []).append((minimum, price))

    currency = (await get_shop()).currency  # the trace's texts name amounts
    base_total = sum(products[line.product_id]["base_price_cents"] * line.quantity for line in lines)
    quantity_total = sum(line.quantity for line in lines)
    minimums, unmet = _minimums(mine, base_total, quantity_total, currency=currency)
    visible = await _visible(mine, [products[pid] for pid in product_ids])
    day = order_day(at)
    promotions = await applicable_promotions(group_ids=list(memberships.group_ids), on=day)
    notes = [_promotion_note(p, day, base_total, currency=currency) for p in promotions]
    usable = [p for p, n in zip(promotions, notes, strict=True) if n.applied]

    priced = []
    for line in lines:
        product = products[line.product_id]
        base = product["base_price_cents"]
        options = [Candidate(BASE, None, None, base, "")]
        for group in mine:
            candidate = _group_candidate(group, product, line.quantity, tiers, list_names, unmet, currency=currency)
            if candidate is not None:
                options.append(candidate)
        options += _promotion_candidates(promotions, usable, options, mine, base, day, base_total, currency=currency)
        line_price = _decide(product, line.quantity, options, visible[product["id"]], currency=currency)
        priced.append(_free_units(line_price, usable))
    return Quote(
        customer_id=customer_id,
        customer_name=customer["name"],
        groups=tuple(g.group_name for g in mine),
        lines=tuple(priced),
        base_total_cents=base_total,
        total_cents=sum(line.total_cents for line in priced),
        minimums=tuple(minimums),
        promotions=tuple(notes),
    )


def _percent_text(promotion: ApplicablePromotion) -> str:
    return f"{promotion.name}: {promotion.percent:g}% additional"


def _promotion_note(promotion: ApplicablePromotion, day: date, base_total: int, *, currency: str) -> PromotionNote:
    if not promotion.valid_on_date:
        return PromotionNote(promotion.name, False, f"Not valid on {long_date(day)} (runs {promotion.validity}).")
    if base_total < promotion.minimum_purchase_cents:
        minimum = money(promotion.minimum_purchase_cents, currency=currency, cents_shown="always")
        in_cart = money(base_total, currency=currency, cents_shown="always")
        return PromotionNote(promotion.name, False, f"Needs a purchase of at least {minimum} ({in_cart} in the cart).")
    if promotion.type == PromotionType.ADDITIONAL_DISCOUNT:
        stacking = (
            "stacks with group discounts that allow it"
            if promotion.stack_with_group_discount
            else ("does not stack: the better of it and the group price applies")
        )
        return PromotionNote(promotion.name, True, f"{promotion.percent:g}% additional; {stacking}.")
    if promotion.type == PromotionType.FREE_SHIPPING:
        return PromotionNote(promotion.name, True, "Free shipping on this order.")
    if promotion.type == PromotionType.FREE_ITEM:
        return PromotionNote(promotion.name, True, f"{promotion.free_item_quantity} free item(s) with this order.")
    return PromotionNote(
        promotion.name, True, f"Buy {promotion.buy_quantity} get {promotion.get_quantity} free on each line."
    )


def _promotion_candidates(
    promotions: list[ApplicablePromotion],
    usable: list[ApplicablePromotion],
    options: list[Candidate],
    mine: list[EffectiveBenefits],
    base: int,
    day: date,
    base_total: int,
    *,
    currency: str,
) -> list[Candidate]:
    """A percentage promotion's prices for one line: on its own (off the base price), and stacked
    on each group price when both the promotion and that group's pricing allow stacking. The
    lowest of all candidates wins, so without stacking the customer gets the better of the two."""
    stacks = {g.group_id: bool(g.pricing["stack_with_promotions"].value) for g in mine}
    found = []
    for promotion in promotions:
        if promotion.type != PromotionType.ADDITIONAL_DISCOUNT:
            continue
        if promotion not in usable:
            note = _promotion_note(promotion, day, base_total, currency=currency)
            found.append(Candidate(_percent_text(promotion), None, None, None, note.text))
            continue
        group_prices = [c for c in options if c.group_id is not None and c.unit_cents is not None]
        refused = [c.group_name for c in group_prices if not stacks.get(c.group_id)]
        if not promotion.stack_with_group_discount:
            why = "This promotion does not stack with group discounts." if group_prices else ""
        elif refused:
            why = f"{', '.join(dict.fromkeys(refused))} pricing does not stack with promotions."
        else:
            why = ""
        found.append(
            Candidate(_percent_text(promotion), None, None, _discounted(base, promotion.percent), "", note=why)
        )
        if not promotion.stack_with_group_discount:
            continue
        for candidate in group_prices:
            if stacks.get(candidate.group_id):
                found.append(
                    Candidate(
                        f"{candidate.source} + {promotion.percent:g}% {promotion.name}",
                        candidate.group_id,
                        candidate.group_name,
                        _discounted(candidate.unit_cents, promotion.percent),
                        "",
                        note="Stacked: the promotion and the group's pricing both allow it.",
                    )
                )
    return found


def _free_units(line: LinePrice, usable: list[ApplicablePromotion]) -> LinePrice:
    """A buy-get-free promotion: of every buy+get units on the line, `get` are free."""
    best = None
    for promotion in usable:
        if promotion.type != PromotionType.BOGO or not promotion.buy_quantity or not promotion.get_quantity:
            continue
        bundle = promotion.buy_quantity + promotion.get_quantity
        free = (line.quantity // bundle) * promotion.get_quantity
        if free and (best is None or free > best[0]):
            best = (free, promotion)
    if best is None:
        return line
    free, promotion = best
    note = f"Buy {promotion.buy_quantity} get {promotion.get_quantity} free ({promotion.name}): {free} free"
    return LinePrice(
        **{
            **line.__dict__,
            "free_units": free,
            "free_note": note,
            "total_cents": line.unit_cents * (line.quantity - free),
        }
    )


def _minimums(
    mine: list[EffectiveBenefits], base_total: int, quantity: int, *, currency: str
) -> tuple[list[MinimumCheck], dict]:
    checks, unmet = [], {}
    for group in mine:
        if group.pricing["type"].value in (None, PricingType.NONE):
            continue
        amount = group.pricing["min_order_cents"].value or 0
        units = group.pricing["min_order_quantity"].value or 0
        if not amount and not units:
            continue
        parts, met = [], True
        if amount:
            met &= base_total >= amount
            minimum = money(amount, currency=currency, cents_shown="always")
            in_cart = money(base_total, currency=currency, cents_shown="always")
            parts.append(f"minimum order {minimum} ({in_cart} in the cart)")
        if units:
            met &= quantity >= units
            parts.append(f"minimum quantity {units} ({quantity} in the cart)")
        text = f"{group.group_name}: " + " and ".join(parts) + (": met" if met else ": not met")
        checks.append(MinimumCheck(group.group_name, met, text))
        if not met:
            unmet[group.group_id] = "The cart does not reach this group's minimum order."
    return checks, unmet


def _decide(product: dict, quantity: int, options: list[Candidate], visible: bool, *, currency: str) -> LinePrice:
    applicable = [c for c in options if c.unit_cents is not None]
    # Most favourable wins; on a tie the first found (the base price, then the primary group) keeps it.
    best = min(applicable, key=lambda c: c.unit_cents)
    trace = []
    for candidate in options:
        if candidate is best:
            verdict = "Lowest price: applied." if len(applicable) > 1 else "The only price that applies."
            trace.append(_with(candidate, verdict=verdict, won=True))
        elif candidate.unit_cents is None:
            trace.append(candidate)
        elif candidate.unit_cents == best.unit_cents:
            trace.append(_with(candidate, verdict="Same price as the one applied."))
        else:
            best_price = money(best.unit_cents, currency=currency, cents_shown="always")
            trace.append(_with(candidate, verdict=f"Higher than {best_price}."))
    winner = next(c for c in trace if c.won)
    return LinePrice(
        product_id=product["id"],
        sku=product["sku"],
        name=product["name"],
        quantity=quantity,
        base_unit_cents=product["base_price_cents"],
        unit_cents=winner.unit_cents,
        total_cents=winner.unit_cents * quantity,
        winner=winner,
        candidates=tuple(trace),
        visible=visible,
    )


def _with(candidate: Candidate, **changes) -> Candidate:
    return Candidate(**{**candidate.__dict__, **changes})


async def _visible(mine: list[EffectiveBenefits], products: list[dict]) -> dict[int, bool]:
    everything, groups, singles = _visibility_union(mine)
    standard = set(await VisibilityGroup.filter(is_standard=True).values_list("id", flat=True))
    return {
        p["id"]: everything or p["visibility_group_id"] in standard | groups or p["id"] in singles for p in products
    }


def _visibility_union(mine: list[EffectiveBenefits]) -> tuple[bool, set[int], set[int]]:
    everything = any(g.visibility["mode"].value == VisibilityMode.ALL for g in mine)
    groups = {vid for g in mine for vid in g.visibility["visibility_group_ids"].value}
    singles = {pid for g in mine for pid in g.visibility["product_ids"].value}
    return everything, groups, singles


SHOP_ACCESS_ORDER = [ShopAccess.NONE, ShopAccess.LIMITED, ShopAccess.FULL]


def portal_union(mine: list[EffectiveBenefits]) -> dict[str, object]:
    """The widest portal access any of the groups gives (the shop's default without groups)."""
    if not mine:
        return dict(DEFAULTS["portal"])
    return {
        "login": any(g.portal["login"].value for g in mine),
        "shop_access": max((g.portal["shop_access"].value for g in mine), key=SHOP_ACCESS_ORDER.index),
        "quote_requests": any(g.portal["quote_requests"].value for g in mine),
        "order_placement": any(g.portal["order_placement"].value for g in mine),
        "invoice_access": any(g.portal["invoice_access"].value for g in mine),
    }


async def customer_benefits(*, customer_id: int, groups: dict[int, GroupNode] | None = None) -> CustomerBenefits:
    """A customer's effective benefits across all their active groups and ancestors."""
    if not await Customer.exists(id=customer_id):
        raise NotFoundError(f"There is no customer with id {customer_id}.")
    memberships = await _memberships(customer_id)
    groups = groups if groups is not None else await load_groups()
    mine = [effective(gid, groups) for gid in memberships.group_ids]
    everything, visibility_ids, singles = _visibility_union(mine)
    names = (
        await VisibilityGroup.filter(id__in=list(visibility_ids), is_standard=False)
        .order_by("name")
        .values_list("name", flat=True)
        if visibility_ids
        else []
    )
    primary = next((g for g in mine if g.group_id == memberships.primary_id), None)
    return CustomerBenefits(
        customer_id=customer_id,
        primary_group=primary.group_name if primary else None,
        groups=tuple(mine),
        sees_all_products=everything,
        visibility_group_names=tuple(names),
        extra_product_count=len(singles),
        portal=portal_union(mine),
        payment=primary,
    )
