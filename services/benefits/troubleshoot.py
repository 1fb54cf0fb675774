""" "Why isn't this customer getting the discount?": the troubleshooting checklist, run for one
customer and one product.

The checks, in the order the owner sees them: group assignment, group status, pricing rule and
scope, product exclusions, order date vs promotion, minimum order. Each passes, fails, or does not
apply (nothing left to check). The verdict names the first failing check; when all pass, the price
the customer gets and from which group.

Prices, scope, visibility and minimums are decided by services.benefits.pricing (quote) on the customer's
groups after inheritance (services.benefits.sections.effective), and which promotions reach the customer by
services.promotions; this module only reads and explains them.
"""

from dataclasses import dataclass
from datetime import date, datetime

from models.catalog import PriceListItem, Product
from models.customer import Customer
from models.group import GroupStatus, Membership
from services.benefits.price_check import group_pricing_text
from services.benefits.pricing import BASE, CartLine, LinePrice, MinimumCheck, in_scope, quote
from services.benefits.sections import EffectiveBenefits, PricingType, Scope, effective, load_groups
from services.benefits.summary import CatalogNames, catalog_names
from services.calendar import order_day
from services.errors import NotFoundError
from services.promotions import ApplicablePromotion, applicable_promotions
from services.wording import long_date, money

GROUP_ASSIGNMENT = "Group assignment"
GROUP_STATUS = "Group status"
PRICING_SCOPE = "Pricing rule and scope"
PRODUCT_EXCLUSIONS = "Product exclusions"
ORDER_DATE = "Order date vs promotion"
MINIMUM_ORDER = "Minimum order"


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: does not apply (nothing left to check)
    text: str


@dataclass(frozen=True)
class Checklist:
    customer_name: str
    product_name: str
    quantity: int
    steps: list[Check]
    verdict: str
    price: LinePrice  # what the customer pays for the line, with its trace

    @property
    def first_failure(self) -> Check | None:
        return next((step for step in self.steps if step.passed is False), None)


@dataclass(frozen=True)
class _Group:
    benefits: EffectiveBenefits
    active: bool
    primary: bool
    pricing: str | None  # the pricing in words; None: no special pricing

    @property
    def name(self) -> str:
        return self.benefits.group_name


def _names(groups: list[_Group]) -> str:
    """ "A", "A and B", "A, B and C"."""
    names = [g.name for g in groups]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


async def why_no_discount(
    *, customer_id: int, product_id: int, quantity: int = 1, at: date | datetime | None = None
) -> Checklist:
    """Run the troubleshooting checklist for one line of `quantity` units of the product, ordered
    on `at` (today if not given)."""
    customer = await Customer.get_or_none(id=customer_id).values("id", "name")
    if customer is None:
        raise NotFoundError(f"There is no customer with id {customer_id}.")
    product = await Product.get_or_none(id=product_id).values(
        "id", "name", "category_id", "category__name", "visibility_group__name", "visibility_group__is_standard"
    )
    if product is None:
        raise NotFoundError(f"There is no product with id {product_id}.")
    quantity = max(1, quantity)
    who, what = customer["name"], product["name"]

    # Every membership, inactive groups included: an inactive group is one of the answers.
    memberships = (
        await Membership.filter(customer_id=customer_id)
        .order_by("-is_primary", "group__name")
        .values_list("group_id", "group__status", "is_primary")
    )
    tree = await load_groups()
    benefits = [effective(gid, tree) for gid, _, _ in memberships]
    names = await catalog_names()
    groups = [
        _Group(b, status == GroupStatus.ACTIVE, primary, group_pricing_text(b, names))
        for b, (_, status, primary) in zip(benefits, memberships, strict=True)
    ]
    priced = await quote(customer_id=customer_id, lines=[CartLine(product_id, quantity)], at=at)
    line, minimums = priced.lines[0], {m.group_name: m for m in priced.minimums}

    pricing_groups = [g for g in groups if g.pricing]
    active = [g for g in pricing_groups if g.active]
    covering, uncovered = await _coverage(active, product, quantity, names)
    day = order_day(at)
    promotions = await applicable_promotions(
        group_ids=[gid for gid, status, _ in memberships if status == GroupStatus.ACTIVE], on=day
    )

    steps = [
        _assignment(who, groups, pricing_groups),
        _status(pricing_groups, active),
        _scope(what, active, covering, uncovered),
        _exclusions(who, what, product, line),
        _order_date(who, day, promotions, line, currency=names.currency),
        _minimum(what, quantity, line, covering, minimums, currency=names.currency),
    ]
    return Checklist(
        customer_name=who,
        product_name=what,
        quantity=quantity,
        steps=steps,
        verdict=_verdict(who, what, steps, line, currency=names.currency),
        price=line,
    )


def _assignment(who: str, groups: list[_Group], pricing_groups: list[_Group]) -> Check:
    if not groups:
        return Check(GROUP_ASSIGNMENT, False, f"{who} is not in any group, so they pay base prices.")
    listed = ", ".join(g.name + (" (primary)" if g.primary else "") for g in groups)
    if not pricing_groups:
        return Check(
            GROUP_ASSIGNMENT,
            False,
            f"{who} is in {listed}, but none of these groups gives special pricing.",
        )
    return Check(
        GROUP_ASSIGNMENT,
        True,
        f"{who} is in {listed}. Special pricing from {_names(pricing_groups)}.",
    )


def _status(pricing_groups: list[_Group], active: list[_Group]) -> Check:
    if not pricing_groups:
        return Check(GROUP_STATUS, None, "No group with special pricing to check.")
    inactive = [g for g in pricing_groups if not g.active]
    if not active:
        verb = "is" if len(inactive) == 1 else "are"
        return Check(
            GROUP_STATUS,
            False,
            f"{_names(inactive)} {verb} inactive, so their pricing does not apply. Activate the group to restore it.",
        )
    text = f"{_names(active)} {'is' if len(active) == 1 else 'are'} active."
    if inactive:
        text += f" {_names(inactive)} {'is' if len(inactive) == 1 else 'are'} inactive and gives nothing."
    return Check(GROUP_STATUS, True, text)


async def _coverage(
    active: list[_Group], product: dict, quantity: int, names: CatalogNames
) -> tuple[list[_Group], list[tuple[_Group, str]]]:
    """The active pricing groups whose pricing covers the product, and why the others do not."""
    covering, uncovered = [], []
    for group in active:
        pricing = group.benefits.pricing
        if not in_scope(pricing, product):
            uncovered.append((group, _out_of_scope(group, product, names)))
        elif pricing["type"].value == PricingType.PRICE_LIST and not await _on_list(pricing, product, quantity):
            list_name = names.price_lists.get(pricing["price_list_id"].value, "its price list")
            uncovered.append(
                (group, f"{group.name}'s {list_name} has no price for {product['name']} at {quantity} unit(s)")
            )
        else:
            covering.append(group)
    return covering, uncovered


def _out_of_scope(group: _Group, product: dict, names: CatalogNames) -> str:
    pricing = group.benefits.pricing
    if pricing["scope"].value == Scope.CATEGORIES:
        chosen = ", ".join(sorted(names.categories.get(c, "?") for c in pricing["category_ids"].value))
        return f"{group.name}'s pricing covers {chosen} only; {product['name']} is in {product['category__name']}"
    return f"{group.name}'s pricing covers chosen products only, and {product['name']} is not one of them"


async def _on_list(pricing: dict, product: dict, quantity: int) -> bool:
    return await PriceListItem.exists(
        price_list_id=pricing["price_list_id"].value, product_id=product["id"], min_quantity__lte=quantity
    )


def _scope(what: str, active: list[_Group], covering: list[_Group], uncovered: list[tuple[_Group, str]]) -> Check:
    if not active:
        return Check(PRICING_SCOPE, None, "No active group with special pricing to check.")
    reasons = "; ".join(reason for _, reason in uncovered)
    if not covering:
        return Check(PRICING_SCOPE, False, f"No group's pricing covers {what}: {reasons}.")
    text = "; ".join(f"{g.name}: {g.pricing}" for g in covering) + "."
    if uncovered:
        text += f" Not covered: {reasons}."
    return Check(PRICING_SCOPE, True, text)


def _exclusions(who: str, what: str, product: dict, line: LinePrice) -> Check:
    visibility = product["visibility_group__name"]
    if line.visible:
        where = "standard products" if product["visibility_group__is_standard"] else visibility
        return Check(PRODUCT_EXCLUSIONS, True, f"{who} can see {what} ({where}).")
    return Check(
        PRODUCT_EXCLUSIONS,
        False,
        f"{what} is in {visibility}, which none of {who}'s groups shows, so they cannot order it. "
        "Add that visibility group to one of their groups.",
    )


def _order_date(who: str, day: date, promotions: list[ApplicablePromotion], line: LinePrice, *, currency: str) -> Check:
    """The promotions that reach the customer: valid on the order date or not (with their dates),
    and whether the line reaches each valid one's minimum purchase. Passes when one applies; when
    none does, fails only if that leaves the customer at the base price (a spring sale long over
    is no problem for a customer who gets their group's price; the text still says why)."""
    if not promotions:
        return Check(ORDER_DATE, None, "No active promotion reaches this customer's groups, so no dates to check.")
    amount = line.base_unit_cents * line.quantity
    usable, refused = [], []
    for promotion in promotions:
        if not promotion.valid_on_date:
            refused.append(f"{promotion.name} is not valid on {long_date(day)} (runs {promotion.validity})")
        elif amount < promotion.minimum_purchase_cents:
            minimum = money(promotion.minimum_purchase_cents, currency=currency, cents_shown="always")
            comes_to = money(amount, currency=currency, cents_shown="always")
            refused.append(
                f"{promotion.name} needs a minimum purchase of {minimum}, "
                f"and {line.quantity} × {line.name} at base price comes to {comes_to}"
            )
        else:
            usable.append(f"{promotion.name} is valid on {long_date(day)} (runs {promotion.validity})")
    text = "; ".join(usable + refused) + "."
    if usable:
        return Check(ORDER_DATE, True, text)
    winner = line.winner
    if winner.source == BASE and winner.group_id is None:
        base_price = money(line.base_unit_cents, currency=currency, cents_shown="always")
        return Check(ORDER_DATE, False, f"{text} So {who} pays the base price of {base_price}.")
    unit_price = money(line.unit_cents, currency=currency, cents_shown="always")
    return Check(
        ORDER_DATE,
        None,
        f"{text} Without a promotion, {who} gets {line.name} at {unit_price} "
        f"from {_origin(winner.source, winner.group_name)}.",
    )


def _minimum(
    what: str,
    quantity: int,
    line: LinePrice,
    covering: list[_Group],
    minimums: dict[str, MinimumCheck],
    *,
    currency: str,
) -> Check:
    if not covering:
        return Check(MINIMUM_ORDER, None, "No group's pricing covers this product, so no minimum to check.")
    comes_to = money(line.base_unit_cents * quantity, currency=currency, cents_shown="always")
    order = f"{quantity} × {what} at base price comes to {comes_to}"
    with_minimum = [g for g in covering if g.name in minimums]
    unmet = [g for g in with_minimum if not minimums[g.name].met]
    needs = "; ".join(f"{g.name} needs {_minimum_text(g, currency=currency)}" for g in unmet)
    if unmet and len(unmet) == len(covering):
        return Check(MINIMUM_ORDER, False, f"{needs}, and {order}.")
    if unmet:
        return Check(MINIMUM_ORDER, True, f"Enough for {_names([g for g in covering if g not in unmet])}. {needs}.")
    if with_minimum:
        met = "; ".join(f"{g.name} needs {_minimum_text(g, currency=currency)}" for g in with_minimum)
        return Check(MINIMUM_ORDER, True, f"Met: {met}, and {order}.")
    return Check(MINIMUM_ORDER, True, "No minimum order applies.")


def _minimum_text(group: _Group, *, currency: str) -> str:
    pricing = group.benefits.pricing
    parts = []
    if amount := pricing["min_order_cents"].value:
        parts.append(f"a minimum order of {money(amount, currency=currency, cents_shown='always')}")
    if units := pricing["min_order_quantity"].value:
        parts.append(f"at least {units} units")
    return " and ".join(parts)


def _verdict(who: str, what: str, steps: list[Check], line: LinePrice, *, currency: str) -> str:
    failed = next((step for step in steps if step.passed is False), None)
    if failed is not None:
        return f"{failed.name} is the problem: {failed.text}"
    winner = line.winner
    base_price = money(line.base_unit_cents, currency=currency, cents_shown="always")
    if winner.source == BASE and winner.group_id is None:
        return (
            f"Every check passes, but no group's price for {what} is below its base price of "
            f"{base_price}, so {who} pays the base price."
        )
    unit_price = money(line.unit_cents, currency=currency, cents_shown="always")
    return (
        f"Every check passes: {who} gets {what} at {unit_price} instead of "
        f"{base_price}, from {_origin(winner.source, winner.group_name)}."
    )


def _origin(source: str, group_name: str | None) -> str:
    """ "VIP Platinum (20% discount)", "VIP Customers (15% discount + 10% VIP Spring Sale)",
    "VIP Spring Sale (10% additional)": who gives the price, and how."""
    who, _, how = source.partition(": ")
    return f"{group_name or who} ({how})" if how else source
