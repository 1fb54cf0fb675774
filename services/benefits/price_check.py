"""What the price check page and a customer's benefits card read: customers and products to pick
from (searched on the server, a page at a time), and a customer's effective benefits in the shop's
words ("VIP Platinum: 20% discount on all products (15% from VIP Customers + 5% here)").

The numbers come from services.benefits.pricing and services.benefits.sections, the wording of a group's benefits
from services.benefits.summary; this module only puts them together for one customer. It also words
what the promotions did for a quoted order (`promotion_outcomes`) and where each candidate of a
line's trace comes from (`candidate_origin`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from models.customer import Customer
from models.promotion import Promotion, PromotionType
from services.benefits.pricing import BASE, Candidate, CustomerBenefits, LinePrice, Quote, customer_benefits
from services.benefits.sections import EffectiveBenefits, PricingType
from services.benefits.summary import (
    CatalogNames,
    catalog_names,
    setting_label,
    setting_names,
    summarize,
    value_text,
    values_of,
    visible_products,
)
from services.catalog import get_product, list_products
from services.customers import get_customer, list_customers
from services.shop import get_shop
from services.wording import money

CHOICES = 20  # options a picker shows at once; typing narrows them


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class ProductChoice:
    id: int
    sku: str
    name: str
    base_price_cents: int
    currency: str  # the shop's, for the label's price

    @property
    def label(self) -> str:
        return (
            f"{self.name} · {self.sku} · {money(self.base_price_cents, currency=self.currency, cents_shown='always')}"
        )


@dataclass(frozen=True)
class GroupPricing:
    group_id: int
    group_name: str
    is_primary: bool
    text: str  # "20% discount on all products (15% from VIP Customers + 5% here)"


@dataclass(frozen=True)
class BenefitsSummary:
    """A customer's benefits across all their active groups, in the shop's words."""

    customer_id: int
    customer_name: str
    groups: tuple[str, ...]  # active groups, primary first
    pricing: tuple[GroupPricing, ...]  # the groups that give special pricing
    visibility: str  # "All products" / "VIP Exclusive + Standard products + 3 extra products"
    portal: tuple[tuple[str, str], ...]  # (label, value), the widest access any group gives
    payment_group: str | None  # the primary group, whose terms apply
    payment: tuple[tuple[str, str], ...]  # (label, value)


def _customer_label(name: str, groups: list[str]) -> str:
    return f"{name} ({', '.join(groups)})" if groups else f"{name} (no group)"


async def customer_choices(*, search: str = "", limit: int = CHOICES) -> list[Choice]:
    """The first customers whose name, company or email contains `search`, labelled with their groups."""
    page = await list_customers(search=search, per_page=limit)
    return [Choice(row.id, _customer_label(row.name, row.groups)) for row in page.rows]


async def customer_choice(*, customer_id: int) -> Choice:
    """One customer as a picker shows them (for a page opened with ?customer=<id>)."""
    customer = await get_customer(customer_id=customer_id)
    return Choice(customer.id, _customer_label(customer.name, [m.group_name for m in customer.memberships]))


async def find_products(*, search: str = "", limit: int = CHOICES) -> list[ProductChoice]:
    """The first products (by name) whose name or SKU contains `search`."""
    page = await list_products(search=search, per_page=limit)
    currency = (await get_shop()).currency
    return [ProductChoice(p.id, p.sku, p.name, p.base_price_cents, currency) for p in page.rows]


async def get_product_choice(*, product_id: int) -> ProductChoice:
    """One product as a picker shows it (raises NotFoundError)."""
    product = await get_product(product_id=product_id)
    currency = (await get_shop()).currency
    return ProductChoice(product.id, product.sku, product.name, product.base_price_cents, currency)


# --- Benefits in words (the group pages' wording, services.benefits.summary) ----------------------


def group_pricing_text(group: EffectiveBenefits, names: CatalogNames) -> str | None:
    """ "20% discount on all products (15% from VIP Customers + 5% here)", with the minimum order
    if any; None when the group gives no special pricing."""
    if group.pricing["type"].value in (None, PricingType.NONE):
        return None
    summary = summarize(group, names)
    text = summary.pricing + (f" ({summary.pricing_note})" if summary.pricing_note else "")
    if summary.minimum_order:
        text += "; " + summary.minimum_order[:1].lower() + summary.minimum_order[1:]
    return text


def _visibility_text(benefits: CustomerBenefits, names: CatalogNames) -> str:
    if benefits.sees_all_products:
        return "All products"
    return visible_products(benefits.visibility_group_names, names.standard_name, benefits.extra_product_count)


def _portal(portal: dict, names: CatalogNames) -> tuple[tuple[str, str], ...]:
    """The widest portal access any of the customer's groups gives, setting by setting."""
    return tuple(
        (setting_label("portal", name), value_text("portal", name, portal, names)) for name in setting_names("portal")
    )


# Payment settings a customer's card leaves out while they give nothing.
_SHOWN_WHEN_SET = {"credit_limit_cents", "auto_approve_under_cents", "require_po", "early_discount_percent"}


def payment_terms(group: EffectiveBenefits, names: CatalogNames) -> tuple[tuple[str, str], ...]:
    """The group's payment terms in words: methods, terms, credit limit, auto-approval, PO, early
    payment (the last four only where the group gives them)."""
    values = values_of(group.payment)
    return tuple(
        (setting_label("payment", name), value_text("payment", name, values, names))
        for name in setting_names("payment")
        if values[name] or name not in _SHOWN_WHEN_SET
    )


async def benefits_summary(*, customer_id: int) -> BenefitsSummary:
    """The customer's effective benefits in words (raises NotFoundError for an unknown customer)."""
    benefits = await customer_benefits(customer_id=customer_id)
    name = await Customer.get(id=customer_id).values_list("name", flat=True)
    names = await catalog_names()
    pricing = tuple(
        GroupPricing(g.group_id, g.group_name, g.group_name == benefits.primary_group, text)
        for g in benefits.groups
        if (text := group_pricing_text(g, names)) is not None
    )
    return BenefitsSummary(
        customer_id=customer_id,
        customer_name=name,
        groups=tuple(g.group_name for g in benefits.groups),
        pricing=pricing,
        visibility=_visibility_text(benefits, names),
        portal=_portal(benefits.portal, names),
        payment_group=benefits.primary_group,
        payment=payment_terms(benefits.payment, names) if benefits.payment else (),
    )


# --- Promotions on a quoted order ------------------------------------------------------------------

Outcome = Literal["applied", "not_used", "not_applied"]


@dataclass(frozen=True)
class PromotionOutcome:
    """What one promotion that reaches the customer did for the sample order."""

    name: str
    type: PromotionType
    outcome: Outcome  # applied; valid but nothing gained (a better price, too few units); not applied
    text: str  # "10% additional, stacked on VIP Customers: 15% discount."

    @property
    def applied(self) -> bool:
        return self.outcome == "applied"


def _stacked_on(candidate: Candidate, name: str) -> str | None:
    """The group price a stacked candidate builds on ("VIP Customers: 15% discount"), or None."""
    if candidate.group_id is None:
        return None
    head, _, tail = candidate.source.rpartition(" + ")
    return head if head and tail.endswith(f"% {name}") else None


def _alone(candidate: Candidate, name: str) -> bool:
    return candidate.group_id is None and candidate.source.startswith(f"{name}: ")


def is_promotion(candidate: Candidate, names: Sequence[str]) -> bool:
    """Whether a trace candidate comes from a promotion (alone or stacked on a group price)."""
    return any(_alone(candidate, name) or _stacked_on(candidate, name) for name in names)


def candidate_origin(candidate: Candidate, names: Sequence[str]) -> str:
    """Where a trace candidate's price comes from, for the trace's last column; `names` are the
    promotions that reach the customer (Quote.promotions)."""
    if candidate.source == BASE and candidate.group_id is None:
        return "the product's list price"
    for name in names:
        if _alone(candidate, name):
            return candidate.note or f"Promotion {name}, off the base price."
        if _stacked_on(candidate, name):
            return candidate.note or f"Promotion {name} on top of the group price."
    if candidate.group_id is None:
        return candidate.note or "promotion"
    return candidate.note or f"set on {candidate.group_name}"


def _lines(n: int, total: int) -> str:
    return "every line" if n == total else f"{n} of {total} lines"


def _discount_outcome(name: str, percent: float, lines: Sequence[LinePrice]) -> tuple[Outcome, str]:
    stacked = [base for line in lines if (base := _stacked_on(line.winner, name))]
    alone = [line for line in lines if _alone(line.winner, name)]
    if stacked or alone:
        parts = []
        if stacked:
            on = ", ".join(dict.fromkeys(stacked))
            parts.append(f"stacked on {on} ({_lines(len(stacked), len(lines))})")
        if alone:
            parts.append(f"off the base price ({_lines(len(alone), len(lines))})")
        return "applied", f"{percent:g}% additional, " + "; ".join(parts) + "."
    line = lines[0]
    candidate = next((c for c in line.candidates if _alone(c, name)), None)
    why = f" {candidate.note}" if candidate and candidate.note else ""
    return "not_used", f"Valid, but {line.winner.source} gives a lower price.{why}"


async def promotion_outcomes(*, result: Quote) -> tuple[PromotionOutcome, ...]:
    """Every promotion that reaches the customer and what it does for this order: applied (and
    how), valid but not used (the group price is better, too few units for buy-get-free), or not
    applied (not valid on the order date, below its minimum purchase)."""
    if not result.promotions:
        return ()
    rows = {
        row["name"]: row
        for row in await Promotion.filter(name__in=[n.name for n in result.promotions]).values(
            "name", "type", "percent", "free_item__name", "free_item_quantity", "buy_quantity", "get_quantity"
        )
    }
    found = []
    for note in result.promotions:
        row = rows.get(note.name)
        kind = PromotionType(row["type"]) if row else PromotionType.ADDITIONAL_DISCOUNT
        if not note.applied or row is None:
            found.append(PromotionOutcome(note.name, kind, "not_applied" if not note.applied else "applied", note.text))
            continue
        if kind == PromotionType.ADDITIONAL_DISCOUNT:
            outcome, text = _discount_outcome(note.name, row["percent"] or 0, result.lines)
        elif kind == PromotionType.FREE_SHIPPING:
            outcome, text = "applied", "Free shipping on this order."
        elif kind == PromotionType.FREE_ITEM:
            item = row["free_item__name"] or "the free item (no longer in the catalog)"
            outcome, text = "applied", f"Free with this order: {row['free_item_quantity']} × {item}."
        else:
            outcome, text = _bogo_outcome(row["buy_quantity"], row["get_quantity"], result.lines)
        found.append(PromotionOutcome(note.name, kind, outcome, text))
    return tuple(found)


def _bogo_outcome(buy: int | None, get: int | None, lines: Sequence[LinePrice]) -> tuple[Outcome, str]:
    deal = f"Buy {buy} get {get} free"
    free = [line for line in lines if line.free_units]
    if free:
        units = "; ".join(f"{line.free_units} × {line.name} free" for line in free)
        return "applied", f"{deal}: {units}."
    return "not_used", f"{deal} on each line: no line has {(buy or 0) + (get or 0)} units yet."
