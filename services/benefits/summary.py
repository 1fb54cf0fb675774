"""A group's effective benefits in the shop's words: the group page's benefits summary (the demo
shop's VIP: "Pricing: 15% discount on all products; Visibility: VIP + Standard products; Payment
Terms: Net 30; Credit Limit: $100,000; Early Pay Discount: 2/10"), the short texts of the
overview's Pricing and Visibility columns, and every setting with where it comes from, for the
wizard's Review step.

`SETTINGS` is the one place a benefit setting's value is worded, with its label: the Review, the
hierarchy page's effective table, a customer's benefits on the price check and the overlaps report
all read it, so a setting reads the same on each ("Payment terms: Net 45").

The wording is pure (`summarize`, `describe`); the catalog's names come in a `CatalogNames`, read
once per page (`catalog_names`), and `overview_summaries` reads everything the overview needs in a
handful of queries, however many groups there are.
"""

from collections.abc import Callable, Iterable, Mapping
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
    PricingType,
    Scope,
    Setting,
    ShopAccess,
    VisibilityMode,
    effective,
    load_groups,
)
from services.rules.words import Wording
from services.shop import get_shop
from services.wording import count, money


@dataclass(frozen=True, kw_only=True)
class CatalogNames:
    """What the wording needs: the shop's currency, and the catalog's names by id (products only
    where a page read them)."""

    currency: str
    price_lists: dict[int, str] = field(default_factory=dict)
    visibility_groups: dict[int, str] = field(default_factory=dict)
    standard_ids: frozenset[int] = frozenset()
    categories: dict[int, str] = field(default_factory=dict)
    products: dict[int, str] = field(default_factory=dict)

    @property
    def standard_name(self) -> str:
        return " + ".join(_short(self.visibility_groups[i]) for i in sorted(self.standard_ids)) or "Standard"

    @property
    def standard_visibility(self) -> frozenset[int]:
        """The standard visibility groups' ids: shown to every customer anyway."""
        return self.standard_ids

    @property
    def wording(self) -> Wording:
        return Wording(currency=self.currency)

    def extra_visibility(self, ids: Iterable[int] | None) -> list[str]:
        """The names of the visibility groups besides the standard ones."""
        return [self.visibility_groups.get(i, "?") for i in ids or [] if i not in self.standard_ids]


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


Values = Mapping[str, Any]  # one section's effective values, by setting name
Words = Callable[[Any, Values, CatalogNames], str]  # a value, its section's other values, the names


# --- Wording --------------------------------------------------------------------------------------

DELETED_PRICE_LIST = "a deleted price list"


def percent(value: float) -> str:
    return f"{value:g}%"


def _short(name: str) -> str:
    """ "VIP Exclusive Products" -> "VIP Exclusive" (the summary adds "products" once)."""
    for suffix in (" Products", " products"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def values_of(settings: Mapping[str, Setting]) -> dict[str, Any]:
    """A section's effective values by setting name, without where they come from."""
    return {name: setting.value for name, setting in settings.items()}


def _scope_text(pricing: Values, names: CatalogNames) -> str:
    scope = pricing["scope"]
    if scope == Scope.CATEGORIES:
        chosen = [names.categories.get(i, "?") for i in pricing["category_ids"] or []]
        if len(chosen) <= 2:
            return "on " + " and ".join(chosen) if chosen else "on chosen categories"
        return f"on {len(chosen)} categories"
    if scope == Scope.PRODUCTS:
        return f"on {count(len(pricing['product_ids'] or []), 'chosen product')}"
    return "on all products"


def pricing_text(pricing: dict[str, Setting], names: CatalogNames) -> tuple[str, str]:
    """(long, short): ("15% discount on all products", "15% off")."""
    p = values_of(pricing)
    kind = p["type"]
    scope = _scope_text(p, names)
    narrowed = "" if p["scope"] in (None, Scope.ALL) else f" ({scope.removeprefix('on ')})"
    if kind == PricingType.PERCENTAGE and p["percent"]:
        amount = percent(p["percent"])
        return f"{amount} discount {scope}", f"{amount} off{narrowed}"
    if kind == PricingType.FIXED and p["fixed_cents"]:
        amount = money(p["fixed_cents"], currency=names.currency)
        return f"{amount} off each unit {scope}", f"{amount} off per unit{narrowed}"
    if kind == PricingType.PRICE_LIST and p["price_list_id"]:
        name = names.price_lists.get(p["price_list_id"], DELETED_PRICE_LIST)
        return f"Price list: {name}" + ("" if narrowed == "" else f" {scope}"), f"Price list: {name}{narrowed}"
    return "No special pricing", "Standard"


def _visible_groups(extra: Iterable[str], standard: str) -> str:
    """ "VIP Exclusive + Standard" """
    return " + ".join([*sorted(_short(name) for name in extra), standard])


def visible_products(extra: Iterable[str], standard: str, singles: int = 0) -> str:
    """What a customer sees: "VIP Exclusive + Standard products + 3 extra products"."""
    text = _visible_groups(extra, standard) + " products"
    return text + (f" + {count(singles, 'extra product')}" if singles else "")


def visibility_text(visibility: dict[str, Setting], names: CatalogNames) -> tuple[str, str]:
    """(long, short): ("VIP Exclusive + Standard products", "VIP Exclusive + Standard")."""
    v = values_of(visibility)
    if v["mode"] == VisibilityMode.ALL:
        return "All products", "All products"
    extra = names.extra_visibility(v["visibility_group_ids"])
    singles = len(v["product_ids"] or [])
    short = _visible_groups(extra, names.standard_name) + (f" + {singles}" if singles else "")
    return visible_products(extra, names.standard_name, singles), short


PORTAL_PARTS = {"quote_requests": "quotes", "order_placement": "orders", "invoice_access": "invoices"}


def portal_text(portal: dict[str, Setting]) -> str:
    o = values_of(portal)
    if not o["login"]:
        return "No portal login"
    access = o["shop_access"] or ShopAccess.NONE
    parts = ["Portal login", f"{SHOP_ACCESS_LABELS[ShopAccess(access)].lower()} shop access"]
    parts += [word for name, word in PORTAL_PARTS.items() if o[name]]
    return ", ".join(parts)


def net_terms(days: int | None) -> str:
    return f"Net {days}" if days else "Pay on order (no net terms)"


def early_pay_text(payment: dict[str, Setting]) -> str:
    """ "2/10": 2% off when paid within 10 days."""
    discount, days = payment["early_discount_percent"].value, payment["early_discount_days"].value
    return f"{discount:g}/{days}" if discount and days else "None"


def summarize(benefits: EffectiveBenefits, names: CatalogNames) -> BenefitsSummary:
    """The group page's benefits summary and the overview's short texts."""
    pricing, short_pricing = pricing_text(benefits.pricing, names)
    visibility, short_visibility = visibility_text(benefits.visibility, names)
    return BenefitsSummary(
        pricing=pricing,
        pricing_note=benefits.pricing["percent"].note
        if benefits.value("pricing", "type") == PricingType.PERCENTAGE
        else "",
        minimum_order=_minimum_text(values_of(benefits.pricing), names),
        visibility=visibility,
        portal=portal_text(benefits.portal),
        payment_terms=setting_text("payment", "net_days", benefits.payment, names),
        credit_limit=setting_text("payment", "credit_limit_cents", benefits.payment, names),
        early_pay=early_pay_text(benefits.payment),
        pricing_short=short_pricing,
        visibility_short=short_visibility,
    )


def _minimum_text(pricing: Values, names: CatalogNames) -> str:
    if pricing["type"] in (None, PricingType.NONE):
        return ""
    parts = []
    if amount := pricing["min_order_cents"]:
        parts.append(f"Minimum order {money(amount, currency=names.currency)}")
    if units := pricing["min_order_quantity"]:
        parts.append(f"at least {count(units, 'unit')}" if parts else f"Minimum order {count(units, 'unit')}")
    return ", ".join(parts)


# --- One setting's value in words ------------------------------------------------------------------
# SETTINGS words every benefit setting, for the wizard's Review (`describe`), the hierarchy page's
# effective table (services.benefits.hierarchy), a customer's benefits on the price check
# (services.benefits.price_check) and the overlaps report: a setting reads the same on all of them.


@dataclass(frozen=True)
class SettingWords:
    label: str  # "Credit limit"
    words: Words  # 25_000_000 -> "$250,000"


def _choice(labels: Mapping[Any, str], *, empty: str) -> Words:
    """A choice read through `labels`; `empty` when nothing is chosen."""
    return lambda value, _values, _names: labels.get(value, empty) if value else empty


def _money(*, empty: str, zero_is_empty: bool = True) -> Words:
    """An amount in the shop's currency. Some amounts read as `empty` at 0 (no credit limit),
    others as their value (an amount off of 0 is still an amount)."""

    def words(value: Any, _values: Values, names: CatalogNames) -> str:
        unset = not value if zero_is_empty else value is None
        return empty if unset else money(value, currency=names.currency)

    return words


def _listed(ids: list[int], names: Mapping[int, str], *, empty: str, limit: int = 4) -> str:
    if not ids:
        return empty
    shown = [names.get(i, f"#{i}") for i in ids[:limit]]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(shown) + more


def _products(*, empty: str) -> Words:
    """Products chosen one by one, by name where the names were read, else counted."""

    def words(value: Any, _values: Values, names: CatalogNames) -> str:
        if value and not all(i in names.products for i in value):
            return count(len(value), "chosen product")
        return _listed(value, names.products, empty=empty)

    return words


def _switch(on: str, off: str) -> Words:
    return lambda value, _values, _names: on if value else off


def _percent(value: Any, _values: Values, _names: CatalogNames) -> str:
    return percent(value) if value is not None else "—"


def _price_list(value: Any, _values: Values, names: CatalogNames) -> str:
    return names.price_lists.get(value, DELETED_PRICE_LIST) if value else "—"


def _scope(_value: Any, values: Values, names: CatalogNames) -> str:
    applies = _scope_text(values, names).removeprefix("on ")
    return applies[:1].upper() + applies[1:]


def _categories(value: Any, _values: Values, names: CatalogNames) -> str:
    return _listed(value, names.categories, empty="—")


def _units(value: Any, _values: Values, _names: CatalogNames) -> str:
    return count(value, "unit") if value else "None"


def _methods(value: Any, _values: Values, _names: CatalogNames) -> str:
    return ", ".join(PAYMENT_METHOD_LABELS.get(m, str(m)) for m in value or []) or "None"


def _net_days(value: Any, _values: Values, _names: CatalogNames) -> str:
    return net_terms(value)


def _early_discount(value: Any, values: Values, _names: CatalogNames) -> str:
    # The days belong to the discount ("2/10"): they have no row of their own.
    days = values["early_discount_days"]
    return f"{value:g}/{days} ({value:g}% if paid within {days} days)" if value and days else "None"


def _visibility_groups(value: Any, _values: Values, names: CatalogNames) -> str:
    return visible_products(names.extra_visibility(value), names.standard_name)


_YES_NO = _switch("Yes", "No")
_ENABLED = _switch("Enabled", "Disabled")

# Every setting in the order the pages list them. Early-payment days are worded with the discount
# ("2/10"), not on a line of their own; a child's additional percent is in the Discount's note.
SETTINGS: dict[tuple[str, str], SettingWords] = {
    ("pricing", "type"): SettingWords("Pricing method", _choice(PRICING_TYPE_LABELS, empty="No special pricing")),
    ("pricing", "percent"): SettingWords("Discount", _percent),
    ("pricing", "fixed_cents"): SettingWords("Amount off each unit", _money(empty="—", zero_is_empty=False)),
    ("pricing", "price_list_id"): SettingWords("Price list", _price_list),
    ("pricing", "scope"): SettingWords("Applies to", _scope),
    ("pricing", "category_ids"): SettingWords("Categories", _categories),
    ("pricing", "product_ids"): SettingWords("Products", _products(empty="None")),
    ("pricing", "stack_with_promotions"): SettingWords("Stacks with promotions", _YES_NO),
    ("pricing", "min_order_cents"): SettingWords("Minimum order amount", _money(empty="None")),
    ("pricing", "min_order_quantity"): SettingWords("Minimum order quantity", _units),
    ("payment", "methods"): SettingWords("Payment methods", _methods),
    ("payment", "net_days"): SettingWords("Payment terms", _net_days),
    ("payment", "credit_limit_cents"): SettingWords("Credit limit", _money(empty="None")),
    ("payment", "auto_approve_under_cents"): SettingWords("Auto-approve orders under", _money(empty="Never")),
    ("payment", "require_po"): SettingWords("Require PO", _YES_NO),
    ("payment", "early_discount_percent"): SettingWords("Early payment discount", _early_discount),
    ("visibility", "mode"): SettingWords("Product access", _choice(VISIBILITY_LABELS, empty="Standard products only")),
    ("visibility", "visibility_group_ids"): SettingWords("Visibility groups", _visibility_groups),
    ("visibility", "product_ids"): SettingWords("Extra products", _products(empty="None")),
    ("portal", "login"): SettingWords("Portal login", _ENABLED),
    ("portal", "shop_access"): SettingWords("Shop access", _choice(SHOP_ACCESS_LABELS, empty="None")),
    ("portal", "quote_requests"): SettingWords("Quote requests", _ENABLED),
    ("portal", "order_placement"): SettingWords("Order placement", _ENABLED),
    ("portal", "invoice_access"): SettingWords("Invoice access", _ENABLED),
}


def setting_names(section: str) -> list[str]:
    """The section's settings in the order the pages list them."""
    return [name for s, name in SETTINGS if s == section]


def setting_label(section: str, name: str) -> str:
    return SETTINGS[(section, name)].label


def value_text(section: str, name: str, values: Values, names: CatalogNames) -> str:
    """One setting's value as the shop owner reads it, from its section's values."""
    return SETTINGS[(section, name)].words(values[name], values, names)


def setting_text(section: str, name: str, settings: Mapping[str, Setting], names: CatalogNames) -> str:
    """One effective setting's value as the shop owner reads it."""
    return value_text(section, name, values_of(settings), names)


# --- The wizard's Review ----------------------------------------------------------------------------

REVIEW_SECTIONS = {
    "pricing": "Pricing",
    "visibility": "Product visibility",
    "portal": "Portal access",
    "payment": "Payment terms",
}
# The amount each pricing method uses; the Review shows only the chosen method's.
PRICE_SETTING = {
    PricingType.PERCENTAGE: "percent",
    PricingType.FIXED: "fixed_cents",
    PricingType.PRICE_LIST: "price_list_id",
}


def _reviewed(section: str, name: str, values: Values) -> bool:
    """Whether the Review lists a setting: pricing's details only with a pricing method, and only
    the amount that method uses (the scope names the chosen categories or products); products
    made visible one by one only if there are any."""
    if section == "visibility" and name == "product_ids":
        return bool(values[name])
    if section != "pricing" or name == "type":
        return True
    kind = values["type"] or PricingType.NONE
    if kind == PricingType.NONE or name in ("category_ids", "product_ids"):
        return False
    return name not in PRICE_SETTING.values() or name == PRICE_SETTING.get(kind)


def describe(benefits: EffectiveBenefits, names: CatalogNames) -> list[SectionLines]:
    """Every effective setting, worded, with where it comes from (for the wizard's Review)."""
    out = []
    for section, title in REVIEW_SECTIONS.items():
        settings = getattr(benefits, section)
        values = values_of(settings)
        lines = []
        for name in setting_names(section):
            if not _reviewed(section, name, values):
                continue
            setting = settings[name]
            text = value_text(section, name, values, names)
            lines.append(
                SettingLine(
                    setting_label(section, name),
                    f"{text} ({setting.note})" if setting.note else text,
                    setting.source_text(for_group_id=benefits.group_id),
                    setting.origin,
                )
            )
        out.append(SectionLines(section, title, lines))
    return out


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
