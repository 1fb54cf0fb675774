"""What a group gives its members: pricing, product visibility, portal access and payment terms,
and how a child group inherits them from its parent.

Each section is a pydantic model whose settings are all optional: a setting left empty is "not
set here". A child's section with `inherit` on starts from its parent's effective section and
overrides what it sets itself; with `inherit` off it starts from the shop's defaults. Visibility
is additive: a child sees what its parent sees, plus its own. A child's `additional_percent`
adds to the percentage it inherits (the demo shop's VIP 15% + VIP Platinum's additional 5% = 20%).

Every effective setting says where it comes from (set here, inherited from a named ancestor, or
the shop's default), so pages and the price check can explain it.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from tortoise.transactions import in_transaction

from models.benefits import GroupBenefits
from models.catalog import Category, PriceList, Product, VisibilityGroup
from models.group import CustomerGroup
from services.errors import FormError, NotFoundError
from services.staff.actor import Acting, Permission, require
from services.staff.audit import record
from services.storage.conflicts import retried_on_conflict

NET_TERMS = (15, 30, 45, 60, 90)
SECTIONS = ("pricing", "visibility", "portal", "payment")


class PricingType(StrEnum):
    NONE = "none"
    PRICE_LIST = "price_list"
    PERCENTAGE = "percentage"
    FIXED = "fixed"


class Scope(StrEnum):
    ALL = "all"
    CATEGORIES = "categories"
    PRODUCTS = "products"


class VisibilityMode(StrEnum):
    ALL = "all"
    GROUPS = "groups"
    CUSTOM = "custom"


class ShopAccess(StrEnum):
    NONE = "none"
    LIMITED = "limited"
    FULL = "full"


class PaymentMethod(StrEnum):
    CREDIT_CARD = "credit_card"
    ACH = "ach"
    WIRE = "wire"
    NET_TERMS = "net_terms"
    CASH_CHECK = "cash_check"


PRICING_TYPE_LABELS = {
    PricingType.NONE: "No special pricing",
    PricingType.PRICE_LIST: "Price List assignment",
    PricingType.PERCENTAGE: "Percentage discount",
    PricingType.FIXED: "Fixed price adjustment",
}
SCOPE_LABELS = {Scope.ALL: "All products", Scope.CATEGORIES: "Chosen categories", Scope.PRODUCTS: "Chosen products"}
VISIBILITY_LABELS = {
    VisibilityMode.ALL: "All products visible",
    VisibilityMode.GROUPS: "Specific visibility groups",
    VisibilityMode.CUSTOM: "Custom product selection",
}
SHOP_ACCESS_LABELS = {ShopAccess.NONE: "None", ShopAccess.LIMITED: "Limited", ShopAccess.FULL: "Full"}
PAYMENT_METHOD_LABELS = {
    PaymentMethod.CREDIT_CARD: "Credit Card",
    PaymentMethod.ACH: "ACH/Bank Transfer",
    PaymentMethod.WIRE: "Wire Transfer",
    PaymentMethod.NET_TERMS: "Net Terms",
    PaymentMethod.CASH_CHECK: "Cash/Check",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    inherit: bool = True  # only meaningful for a group with a parent


class PricingSettings(_Section):
    type: PricingType | None = None
    percent: float | None = Field(default=None, gt=0, le=100)
    additional_percent: float | None = Field(default=None, gt=0, le=100)  # on top of the inherited percent
    fixed_cents: int | None = Field(default=None, gt=0)  # taken off each unit's base price
    price_list_id: int | None = None
    scope: Scope | None = None
    category_ids: list[int] | None = None
    product_ids: list[int] | None = None
    stack_with_promotions: bool | None = None
    min_order_cents: int | None = Field(default=None, ge=0)
    min_order_quantity: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _complete(self) -> "PricingSettings":
        problems = {}
        if self.type == PricingType.PERCENTAGE and self.percent is None and self.additional_percent is None:
            problems["percent"] = "Enter the discount in percent (e.g. 15)."
        if self.type == PricingType.FIXED and self.fixed_cents is None:
            problems["fixed_cents"] = "Enter the amount taken off each unit."
        if self.type == PricingType.PRICE_LIST and self.price_list_id is None:
            problems["price_list_id"] = "Choose a price list."
        if self.scope == Scope.CATEGORIES and not self.category_ids:
            problems["category_ids"] = "Choose at least one category."
        if self.scope == Scope.PRODUCTS and not self.product_ids:
            problems["product_ids"] = "Choose at least one product."
        if problems:
            raise _SectionError(problems)
        return self


class VisibilitySettings(_Section):
    mode: VisibilityMode | None = None
    visibility_group_ids: list[int] | None = None
    product_ids: list[int] | None = None

    @model_validator(mode="after")
    def _complete(self) -> "VisibilitySettings":
        if self.mode == VisibilityMode.GROUPS and not self.visibility_group_ids:
            raise _SectionError({"visibility_group_ids": "Choose at least one visibility group."})
        if self.mode == VisibilityMode.CUSTOM and not self.product_ids:
            raise _SectionError({"product_ids": "Choose at least one product."})
        return self


class PortalSettings(_Section):
    login: bool | None = None
    shop_access: ShopAccess | None = None
    quote_requests: bool | None = None
    order_placement: bool | None = None
    invoice_access: bool | None = None


class PaymentSettings(_Section):
    methods: list[PaymentMethod] | None = None
    net_days: int | None = None
    credit_limit_cents: int | None = Field(default=None, ge=0)
    auto_approve_under_cents: int | None = Field(default=None, ge=0)
    require_po: bool | None = None
    early_discount_percent: float | None = Field(default=None, gt=0, le=100)
    early_discount_days: int | None = Field(default=None, gt=0, le=365)

    @model_validator(mode="after")
    def _complete(self) -> "PaymentSettings":
        problems = {}
        if self.net_days is not None and self.net_days not in NET_TERMS:
            problems["net_days"] = "Choose Net 15, 30, 45, 60 or 90."
        if (self.early_discount_percent is None) != (self.early_discount_days is None):
            problems["early_discount_days"] = "Enter both the early-payment discount and its days, or neither."
        if self.methods is not None and not self.methods:
            problems["methods"] = "Allow at least one payment method."
        if problems:
            raise _SectionError(problems)
        return self


class _SectionError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


SECTION_MODELS: dict[str, type[_Section]] = {
    "pricing": PricingSettings,
    "visibility": VisibilitySettings,
    "portal": PortalSettings,
    "payment": PaymentSettings,
}

# What a group gives when nothing is set anywhere up its line: standard products, standard terms.
DEFAULTS: dict[str, dict[str, Any]] = {
    "pricing": {
        "type": PricingType.NONE,
        "percent": None,
        "fixed_cents": None,
        "price_list_id": None,
        "scope": Scope.ALL,
        "category_ids": [],
        "product_ids": [],
        "stack_with_promotions": True,
        "min_order_cents": 0,
        "min_order_quantity": 0,
    },
    "visibility": {"mode": None, "visibility_group_ids": [], "product_ids": []},
    "portal": {
        "login": True,
        "shop_access": ShopAccess.FULL,
        "quote_requests": False,
        "order_placement": True,
        "invoice_access": True,
    },
    "payment": {
        "methods": [PaymentMethod.CREDIT_CARD],
        "net_days": None,
        "credit_limit_cents": 0,
        "auto_approve_under_cents": None,
        "require_po": False,
        "early_discount_percent": None,
        "early_discount_days": None,
    },
}


@dataclass(frozen=True)
class Benefits:
    """One group's own settings, as the owner entered them."""

    group_id: int
    pricing: PricingSettings = field(default_factory=PricingSettings)
    visibility: VisibilitySettings = field(default_factory=VisibilitySettings)
    portal: PortalSettings = field(default_factory=PortalSettings)
    payment: PaymentSettings = field(default_factory=PaymentSettings)


Origin = Literal["here", "inherited", "default"]


@dataclass(frozen=True)
class Setting:
    """One effective setting and where it comes from."""

    value: Any
    origin: Origin
    group_id: int | None = None  # the group that set it (None: the shop's default)
    group_name: str | None = None
    note: str = ""  # e.g. "15% from VIP Customers + 5% here"

    def source_text(self, *, for_group_id: int) -> str:
        if self.origin == "default":
            return "default"
        if self.group_id == for_group_id:
            return "set here" if self.origin == "here" else "overridden here"
        return f"inherited from {self.group_name}"


@dataclass(frozen=True)
class EffectiveBenefits:
    """A group's benefits after inheritance: each section's settings with their origins."""

    group_id: int
    group_name: str
    chain: tuple[str, ...]  # names from the top-level ancestor down to this group
    pricing: dict[str, Setting]
    visibility: dict[str, Setting]
    portal: dict[str, Setting]
    payment: dict[str, Setting]

    def value(self, section: str, name: str) -> Any:
        return getattr(self, section)[name].value


# --- Reading and saving -----------------------------------------------------------------------


def parse_section(section: str, raw: dict | None) -> _Section:
    """A stored or entered section; raises FormError with "<section>.<field>" keys."""
    try:
        return SECTION_MODELS[section].model_validate(raw or {})
    except ValidationError as error:
        problems: dict[str, str] = {}
        for item in error.errors():
            cause = item.get("ctx", {}).get("error")
            if isinstance(cause, _SectionError):
                problems.update({f"{section}.{key}": text for key, text in cause.problems.items()})
                continue
            name = ".".join(str(part) for part in item["loc"]) or "form"
            problems.setdefault(f"{section}.{name}", _friendly(item))
        raise FormError(problems) from None


def _friendly(item: dict) -> str:
    kind = item["type"]
    limit = item.get("ctx", {})
    if kind == "greater_than":
        return f"Enter a number greater than {limit.get('gt'):g}."
    if kind == "greater_than_equal":
        return f"Enter a number of at least {limit.get('ge'):g}."
    if kind == "less_than_equal":
        return f"Enter a number of at most {limit.get('le'):g}."
    if kind in ("int_parsing", "int_from_float", "float_parsing"):
        return "Enter a number."
    return item["msg"].removeprefix("Value error, ")


def _stored(benefits: GroupBenefits | None, group_id: int) -> Benefits:
    if benefits is None:
        return Benefits(group_id=group_id)
    return Benefits(
        group_id=group_id,
        pricing=PricingSettings.model_validate(benefits.pricing or {}),
        visibility=VisibilitySettings.model_validate(benefits.visibility or {}),
        portal=PortalSettings.model_validate(benefits.portal or {}),
        payment=PaymentSettings.model_validate(benefits.payment or {}),
    )


async def get_benefits(*, group_id: int) -> Benefits:
    """The group's own settings (empty sections when it has none)."""
    if not await CustomerGroup.exists(id=group_id):
        raise NotFoundError(f"There is no group with id {group_id}.")
    return _stored(await GroupBenefits.get_or_none(group_id=group_id), group_id)


@retried_on_conflict
async def save_benefits(*, group_id: int, sections: dict[str, dict | BaseModel], actor: Acting) -> Benefits:
    """Validate and store the given sections of a group's benefits (others stay as they are).
    Every problem is reported at once, keyed "<section>.<field>"; ids must name existing
    catalog entries."""
    await require(actor, Permission.MANAGE_BENEFITS)
    errors: dict[str, str] = {}
    parsed: dict[str, _Section] = {}
    for section, raw in sections.items():
        if section not in SECTION_MODELS:
            raise ValueError(f"Unknown benefits section {section!r}")
        data = raw.model_dump() if isinstance(raw, BaseModel) else raw
        try:
            parsed[section] = parse_section(section, data)
        except FormError as error:
            errors.update(error.errors)
    errors.update(await _missing_references(parsed))
    if errors:
        raise FormError(errors)
    values = {section: model.model_dump(mode="json", exclude_none=True) for section, model in parsed.items()}
    async with in_transaction("default") as connection:
        group_name = await CustomerGroup.filter(id=group_id).first().values_list("name", flat=True)
        if group_name is None:
            raise NotFoundError("This group was deleted meanwhile.")
        stored, _ = await GroupBenefits.get_or_create(group_id=group_id)
        before = {section: getattr(stored, section) for section in values}
        for section, value in values.items():
            setattr(stored, section, value)
        stored.updated_at = datetime.now(UTC)
        await stored.save()
        await record(
            actor=actor,
            action="benefits.updated",
            subject_type="benefits",
            subject_id=group_id,
            subject_name=group_name,
            before=before,
            after=values,
            connection=connection,
        )
    return await get_benefits(group_id=group_id)


async def _missing_references(parsed: dict[str, _Section]) -> dict[str, str]:
    problems: dict[str, str] = {}
    checks = []
    pricing = parsed.get("pricing")
    if isinstance(pricing, PricingSettings):
        checks += [
            ("pricing.price_list_id", PriceList, [pricing.price_list_id] if pricing.price_list_id else []),
            ("pricing.category_ids", Category, pricing.category_ids or []),
            ("pricing.product_ids", Product, pricing.product_ids or []),
        ]
    visibility = parsed.get("visibility")
    if isinstance(visibility, VisibilitySettings):
        checks += [
            ("visibility.visibility_group_ids", VisibilityGroup, visibility.visibility_group_ids or []),
            ("visibility.product_ids", Product, visibility.product_ids or []),
        ]
    for key, model, ids in checks:
        if ids and await model.filter(id__in=ids).count() < len(set(ids)):
            problems[key] = "Some of the chosen entries no longer exist; choose again."
    return problems


# --- Inheritance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupNode:
    id: int
    name: str
    parent_id: int | None
    benefits: Benefits


async def load_groups() -> dict[int, GroupNode]:
    """Every group with its own settings: a shop has tens of groups, so two reads serve all."""
    stored = {b.group_id: b for b in await GroupBenefits.all()}
    return {
        gid: GroupNode(gid, name, parent_id, _stored(stored.get(gid), gid))
        for gid, name, parent_id in await CustomerGroup.all().values_list("id", "name", "parent_id")
    }


def chain_of(group_id: int, groups: dict[int, GroupNode]) -> list[GroupNode]:
    """The group's line from its top-level ancestor down to itself (a broken cycle stops)."""
    line, seen, current = [], set(), group_id
    while current is not None and current in groups and current not in seen:
        seen.add(current)
        line.append(groups[current])
        current = groups[current].parent_id
    return list(reversed(line))


def effective(group_id: int, groups: dict[int, GroupNode]) -> EffectiveBenefits:
    """The group's benefits after inheritance, with each setting's origin."""
    line = chain_of(group_id, groups)
    if not line:
        raise NotFoundError(f"There is no group with id {group_id}.")
    target = line[-1]
    sections = {}
    for section in SECTIONS:
        settings = {name: Setting(value, "default") for name, value in DEFAULTS[section].items()}
        for position, node in enumerate(line):
            own: _Section = getattr(node.benefits, section)
            if position and not own.inherit:
                settings = {name: Setting(value, "default") for name, value in DEFAULTS[section].items()}
            origin: Origin = "here" if node is target else "inherited"
            _apply(section, settings, own, node, origin)
        sections[section] = settings
    return EffectiveBenefits(
        group_id=target.id,
        group_name=target.name,
        chain=tuple(node.name for node in line),
        **sections,
    )


def _apply(section: str, settings: dict[str, Setting], own: _Section, node: GroupNode, origin: Origin) -> None:
    values = own.model_dump(exclude={"inherit"})
    if section == "visibility":
        # Additive: the parent's visibility groups and products stay; this group's are added.
        for name in ("visibility_group_ids", "product_ids"):
            if values.get(name):
                merged = sorted(set(settings[name].value) | set(values[name]))
                settings[name] = Setting(merged, origin, node.id, node.name)
        mode = values.get("mode")
        if mode is not None and (settings["mode"].value != VisibilityMode.ALL or mode == VisibilityMode.ALL):
            settings["mode"] = Setting(mode, origin, node.id, node.name)
        return
    for name, value in values.items():
        if value is None or name == "additional_percent":
            continue
        settings[name] = Setting(value, origin, node.id, node.name)
    extra = values.get("additional_percent")
    if section == "pricing" and extra is not None:
        inherited = settings["percent"]
        base = inherited.value or 0
        note = f"{_pct(base)} from {inherited.group_name} + {_pct(extra)} here" if base else f"{_pct(extra)} here"
        settings["percent"] = Setting(round(base + extra, 4), origin, node.id, node.name, note)
        if settings["type"].value in (PricingType.NONE, None):
            settings["type"] = Setting(PricingType.PERCENTAGE, origin, node.id, node.name)


def _pct(value: float) -> str:
    return f"{value:g}%"


async def effective_benefits(*, group_id: int) -> EffectiveBenefits:
    return effective(group_id, await load_groups())


async def check_benefits(*, sections: dict[str, dict | BaseModel]) -> None:
    """Raise the FormError `save_benefits` would raise for these sections, without writing: the
    wizard checks a group's benefits before it creates or updates the group itself."""
    errors: dict[str, str] = {}
    parsed: dict[str, _Section] = {}
    for section, raw in sections.items():
        if section not in SECTION_MODELS:
            raise ValueError(f"Unknown benefits section {section!r}")
        try:
            parsed[section] = parse_section(section, raw.model_dump() if isinstance(raw, BaseModel) else raw)
        except FormError as error:
            errors.update(error.errors)
    errors.update(await _missing_references(parsed))
    if errors:
        raise FormError(errors)
