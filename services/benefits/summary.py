"""A group's effective benefits in the shop's words: the group page's benefits summary (the demo
shop's VIP: "Pricing: 15% discount on all products; Visibility: VIP + Standard products; Payment
Terms: Net 30; Credit Limit: $100,000; Early Pay Discount: 2/10"), the short texts of the
overview's Pricing and Visibility columns, and every setting with where it comes from, for the
wizard's Review step.

The wording is pure (`summarize`, `describe`); the catalog's names come in a `CatalogNames`, read
once per page (`catalog_names`), and `overview_summaries` reads everything the overview needs in a
handful of queries, however many groups there are.
"""

from dataclasses import dataclass, field
from typing import Any

from models.catalog import Category, PriceList, VisibilityGroup
from services import catalog
from services.benefits.sections import (
    PAYMENT_METHOD_LABELS,
    PRICING_TYPE_LABELS,
    SHOP_ACCESS_LABELS,
    VISIBILITY_LABELS,
    EffectiveBenefits,
    PaymentMethod,
    PricingType,
    Scope,
    Setting,
    ShopAccess,
    VisibilityMode,
    effective,
    load_groups,
)
from services.shop import get_shop
from services.wording import count, money


@dataclass(frozen=True, kw_only=True)
class CatalogNames:
    """What the wording needs: the shop's currency, and the catalog's names by id."""

    currency: str
    price_lists: dict[int, str] = field(default_factory=dict)
    visibility_groups: dict[int, str] = field(default_factory=dict)
    standard_ids: frozenset[int] = frozenset()
    categories: dict[int, str] = field(default_factory=dict)

    @property
    def standard_name(self) -> str:
        return " + ".join(_short(self.visibility_groups[i]) for i in sorted(self.standard_ids)) or "Standard"


@dataclass(frozen=True)
class BenefitsSummary:
    pricing: str  # "15% discount on all products"
    pricing_note: str  # "15% from VIP Customers + 5% here", or ""
    minimum_order: str  # "Minimum order $500", or ""
    visibility: str  # "VIP Exclusive + Standard products"
    portal: str  # "Portal login, full shop access, orders, invoices"
    payment_terms: str  # "Net 30"
    credit_limit: str  # "$100,000"
    early_pay: str  # "2/10", or "None"
    pricing_short: str  # "15% off", for the overview
    visibility_short: str  # "VIP Exclusive + Standard"


@dataclass(frozen=True)
class SettingLine:
    label: str
    value: str
    source: str  # "set here", "inherited from VIP Customers", "overridden here", "default"
    origin: str  # the Setting's origin: "here", "inherited" or "default"


@dataclass(frozen=True)
class SectionLines:
    section: str  # "pricing", "visibility", "portal", "payment"
    title: str
    lines: list[SettingLine]


# --- Wording --------------------------------------------------------------------------------------


def percent(value: float) -> str:
    return f"{value:g}%"


def _short(name: str) -> str:
    """ "VIP Exclusive Products" -> "VIP Exclusive" (the summary adds "products" once)."""
    for suffix in (" Products", " products"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _value(settings: dict[str, Setting], name: str) -> Any:
    return settings[name].value


def _scope_text(pricing: dict[str, Setting], names: CatalogNames) -> str:
    scope = _value(pricing, "scope")
    if scope == Scope.CATEGORIES:
        chosen = [names.categories.get(i, "?") for i in _value(pricing, "category_ids") or []]
        if len(chosen) <= 2:
            return "on " + " and ".join(chosen) if chosen else "on chosen categories"
        return f"on {len(chosen)} categories"
    if scope == Scope.PRODUCTS:
        return f"on {count(len(_value(pricing, 'product_ids') or []), 'chosen product')}"
    return "on all products"


def pricing_text(pricing: dict[str, Setting], names: CatalogNames) -> tuple[str, str]:
    """(long, short): ("15% discount on all products", "15% off")."""
    kind = _value(pricing, "type")
    scope = _scope_text(pricing, names)
    narrowed = "" if _value(pricing, "scope") in (None, Scope.ALL) else f" ({scope.removeprefix('on ')})"
    if kind == PricingType.PERCENTAGE and _value(pricing, "percent"):
        amount = percent(_value(pricing, "percent"))
        return f"{amount} discount {scope}", f"{amount} off{narrowed}"
    if kind == PricingType.FIXED and _value(pricing, "fixed_cents"):
        amount = money(_value(pricing, "fixed_cents"), currency=names.currency)
        return f"{amount} off each unit {scope}", f"{amount} off per unit{narrowed}"
    if kind == PricingType.PRICE_LIST and _value(pricing, "price_list_id"):
        name = names.price_lists.get(_value(pricing, "price_list_id"), "a removed price list")
        return f"Price list: {name}" + ("" if narrowed == "" else f" {scope}"), f"Price list: {name}{narrowed}"
    return "No special pricing", "Standard"


def visibility_text(visibility: dict[str, Setting], names: CatalogNames) -> tuple[str, str]:
    """(long, short): ("VIP Exclusive + Standard products", "VIP Exclusive + Standard")."""
    if _value(visibility, "mode") == VisibilityMode.ALL:
        return "All products", "All products"
    extra = sorted(
        _short(names.visibility_groups.get(i, "?"))
        for i in _value(visibility, "visibility_group_ids") or []
        if i not in names.standard_ids
    )
    short = " + ".join([*extra, names.standard_name])
    singles = len(_value(visibility, "product_ids") or [])
    long = f"{short} products"
    if singles:
        long += f" + {count(singles, 'chosen product')}"
        short += f" + {singles}"
    return long, short


def portal_text(portal: dict[str, Setting]) -> str:
    if not _value(portal, "login"):
        return "No portal login"
    access = _value(portal, "shop_access") or ShopAccess.NONE
    parts = ["Portal login", f"{SHOP_ACCESS_LABELS[ShopAccess(access)].lower()} shop access"]
    if _value(portal, "quote_requests"):
        parts.append("quotes")
    if _value(portal, "order_placement"):
        parts.append("orders")
    if _value(portal, "invoice_access"):
        parts.append("invoices")
    return ", ".join(parts)


def net_terms(days: int | None) -> str:
    return f"Net {days}" if days else "Due on order"


def early_pay_text(payment: dict[str, Setting], *, with_terms: bool = False) -> str:
    """ "2/10" (or "2/10 Net 30"): 2% off when paid within 10 days."""
    discount, days = _value(payment, "early_discount_percent"), _value(payment, "early_discount_days")
    if not discount or not days:
        return "None"
    text = f"{discount:g}/{days}"
    net = _value(payment, "net_days")
    return f"{text} Net {net}" if with_terms and net else text


def summarize(benefits: EffectiveBenefits, names: CatalogNames) -> BenefitsSummary:
    """The group page's benefits summary and the overview's short texts."""
    pricing, short_pricing = pricing_text(benefits.pricing, names)
    visibility, short_visibility = visibility_text(benefits.visibility, names)
    payment = benefits.payment
    limit = _value(payment, "credit_limit_cents")
    return BenefitsSummary(
        pricing=pricing,
        pricing_note=benefits.pricing["percent"].note
        if _value(benefits.pricing, "type") == PricingType.PERCENTAGE
        else "",
        minimum_order=_minimum_text(benefits.pricing, names),
        visibility=visibility,
        portal=portal_text(benefits.portal),
        payment_terms=net_terms(_value(payment, "net_days")),
        credit_limit=money(limit, currency=names.currency) if limit else "None",
        early_pay=early_pay_text(payment),
        pricing_short=short_pricing,
        visibility_short=short_visibility,
    )


def _minimum_text(pricing: dict[str, Setting], names: CatalogNames) -> str:
    if _value(pricing, "type") in (None, PricingType.NONE):
        return ""
    parts = []
    if amount := _value(pricing, "min_order_cents"):
        parts.append(f"Minimum order {money(amount, currency=names.currency)}")
    if units := _value(pricing, "min_order_quantity"):
        parts.append(f"at least {units} units" if parts else f"Minimum order {units} units")
    return ", ".join(parts)


def _yes(value: Any) -> str:
    return "Yes" if value else "No"


def _enabled(value: Any) -> str:
    return "Enabled" if value else "Disabled"


def describe(benefits: EffectiveBenefits, names: CatalogNames) -> list[SectionLines]:
    """Every effective setting, worded, with where it comes from (for the wizard's Review)."""
    gid = benefits.group_id

    def money_text(cents: int) -> str:
        return money(cents, currency=names.currency)

    def line(label: str, settings: dict[str, Setting], name: str, text: str) -> SettingLine:
        setting = settings[name]
        return SettingLine(label, text, setting.source_text(for_group_id=gid), setting.origin)

    p = benefits.pricing
    kind = _value(p, "type") or PricingType.NONE
    pricing = [line("Pricing method", p, "type", PRICING_TYPE_LABELS[PricingType(kind)])]
    if kind != PricingType.NONE:
        if kind == PricingType.PERCENTAGE:
            amount = percent(_value(p, "percent") or 0)
            note = p["percent"].note
            pricing.append(line("Discount", p, "percent", f"{amount} ({note})" if note else amount))
        elif kind == PricingType.FIXED:
            pricing.append(line("Amount off each unit", p, "fixed_cents", money_text(_value(p, "fixed_cents") or 0)))
        else:
            name = names.price_lists.get(_value(p, "price_list_id"), "—")
            pricing.append(line("Price list", p, "price_list_id", name))
        applies = _scope_text(p, names).removeprefix("on ")
        pricing.append(line("Apply to", p, "scope", applies[:1].upper() + applies[1:]))
        pricing.append(
            line("Stack with promotions", p, "stack_with_promotions", _yes(_value(p, "stack_with_promotions")))
        )
        minimum = _value(p, "min_order_cents")
        pricing.append(line("Minimum order amount", p, "min_order_cents", money_text(minimum) if minimum else "None"))
        units = _value(p, "min_order_quantity")
        pricing.append(line("Minimum quantity", p, "min_order_quantity", str(units) if units else "None"))

    v = benefits.visibility
    mode = _value(v, "mode")
    access = VISIBILITY_LABELS[VisibilityMode(mode)] if mode else "Standard products only"
    visibility = [line("Product access", v, "mode", access)]
    long_visibility, _ = visibility_text(v, names)
    visibility.append(line("Visible", v, "visibility_group_ids", long_visibility))

    o = benefits.portal
    shop_access = SHOP_ACCESS_LABELS[ShopAccess(_value(o, "shop_access") or ShopAccess.NONE)]
    portal = [
        line("Portal login", o, "login", _enabled(_value(o, "login"))),
        line("Shop access", o, "shop_access", shop_access),
        line("Quote requests", o, "quote_requests", _enabled(_value(o, "quote_requests"))),
        line("Order placement", o, "order_placement", _enabled(_value(o, "order_placement"))),
        line("Invoice access", o, "invoice_access", _enabled(_value(o, "invoice_access"))),
    ]

    m = benefits.payment
    methods = ", ".join(PAYMENT_METHOD_LABELS[PaymentMethod(x)] for x in _value(m, "methods") or []) or "None"
    limit = _value(m, "credit_limit_cents")
    auto = _value(m, "auto_approve_under_cents")
    payment = [
        line("Payment methods", m, "methods", methods),
        line("Terms", m, "net_days", net_terms(_value(m, "net_days"))),
        line("Credit limit", m, "credit_limit_cents", money_text(limit) if limit else "None"),
        line("Auto-approve orders under", m, "auto_approve_under_cents", money_text(auto) if auto else "Never"),
        line("Require PO", m, "require_po", _yes(_value(m, "require_po"))),
        line("Early payment discount", m, "early_discount_percent", early_pay_text(m, with_terms=True)),
    ]
    return [
        SectionLines("pricing", "Pricing", pricing),
        SectionLines("visibility", "Product visibility", visibility),
        SectionLines("portal", "Portal access", portal),
        SectionLines("payment", "Payment terms", payment),
    ]


# --- Reads ----------------------------------------------------------------------------------------


async def catalog_names() -> CatalogNames:
    """The shop's currency, and price lists', visibility groups' and categories' names: a few small reads."""
    groups = await VisibilityGroup.all().values_list("id", "name", "is_standard")
    return CatalogNames(
        currency=(await get_shop()).currency,
        price_lists=dict(await PriceList.all().values_list("id", "name")),
        visibility_groups={i: name for i, name, _ in groups},
        standard_ids=frozenset(i for i, _, standard in groups if standard),
        categories=dict(await Category.all().values_list("id", "name")),
    )


async def group_summary(*, group_id: int) -> tuple[EffectiveBenefits, BenefitsSummary]:
    """One group's effective benefits and their summary."""
    benefits = effective(group_id, await load_groups())
    return benefits, summarize(benefits, await catalog_names())


async def overview_summaries() -> dict[int, tuple[str, str]]:
    """Every group's (pricing, visibility) short texts for the overview: a fixed handful of reads
    (groups, benefits, catalog names), whatever the number of groups."""
    groups = await load_groups()
    names = await catalog_names()
    result = {}
    for group_id in groups:
        summary = summarize(effective(group_id, groups), names)
        result[group_id] = (summary.pricing_short, summary.visibility_short)
    return result


# --- Catalog pickers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogChoices:
    categories: dict[int, str]
    products: dict[int, str]  # "SKU · Name"
    price_lists: dict[int, str]
    visibility_groups: dict[int, str]  # the standard one first
    standard_ids: frozenset[int]


async def catalog_choices() -> CatalogChoices:
    """What the wizard's benefit pickers offer, each by name."""
    standard = await catalog.standard_visibility_group_id()
    return CatalogChoices(
        categories=dict(await catalog.category_choices()),
        products=dict(await catalog.product_choices()),
        price_lists=dict(await catalog.price_list_choices()),
        visibility_groups=dict(await catalog.visibility_group_choices()),
        standard_ids=frozenset([standard] if standard is not None else []),
    )
