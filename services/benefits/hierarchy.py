"""The group hierarchy: the tree of all groups, moving a group under another, which benefit
sections a child inherits, and each setting's effective value with where it comes from.

The demo shop's example: VIP Platinum sits under VIP Customers, inherits its 15% and adds 5% (20% in
all), and overrides the credit limit ($250,000 instead of $100,000) and the terms (Net 45 instead
of Net 30). The effective table says exactly that, in those words.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from models.catalog import Category, PriceList, Product, VisibilityGroup
from models.group import CustomerGroup, GroupStatus, GroupType
from services.benefits.sections import (
    PAYMENT_METHOD_LABELS,
    PRICING_TYPE_LABELS,
    SCOPE_LABELS,
    SECTIONS,
    SHOP_ACCESS_LABELS,
    VISIBILITY_LABELS,
    EffectiveBenefits,
    GroupNode,
    Setting,
    effective,
    get_benefits,
    load_groups,
    save_benefits,
)
from services.errors import FormError, NotFoundError
from services.groups.group import get_group, update_group
from services.rules.words import Wording
from services.shop import get_shop
from services.staff.actor import Acting, Permission, require

SECTION_LABELS = {
    "pricing": "Pricing",
    "payment": "Payment terms",
    "visibility": "Visibility",
    "portal": "Portal access",
}
# The order the seed's "Inheritance Settings" lists them in.
INHERITANCE_ORDER = ("pricing", "payment", "visibility", "portal")
INHERITANCE_HINTS = {
    "pricing": "override available",
    "payment": "override available",
    "visibility": "additive",
    "portal": "override available",
}

# Each setting's label, in the order the table shows them. Early-payment days are shown with the
# discount ("2/10"), not on a row of their own.
SETTING_LABELS: dict[str, dict[str, str]] = {
    "pricing": {
        "type": "Pricing method",
        "percent": "Discount",
        "fixed_cents": "Amount off each unit",
        "price_list_id": "Price list",
        "scope": "Applies to",
        "category_ids": "Categories",
        "product_ids": "Products",
        "stack_with_promotions": "Stacks with promotions",
        "min_order_cents": "Minimum order amount",
        "min_order_quantity": "Minimum order quantity",
    },
    "payment": {
        "methods": "Payment options",
        "net_days": "Payment terms",
        "credit_limit_cents": "Credit limit",
        "auto_approve_under_cents": "Auto-approve orders under",
        "require_po": "Require PO",
        "early_discount_percent": "Early payment discount",
    },
    "visibility": {
        "mode": "Product access",
        "visibility_group_ids": "Visibility groups",
        "product_ids": "Extra products",
    },
    "portal": {
        "login": "Portal login",
        "shop_access": "Shop access",
        "quote_requests": "Quote requests",
        "order_placement": "Order placement",
        "invoice_access": "Invoice access",
    },
}


@dataclass
class TreeNode:
    id: int
    name: str
    code: str
    type: GroupType
    status: GroupStatus
    members: int
    is_default: bool
    parent_id: int | None
    inherits: dict[str, bool]  # per benefit section; a top-level group has nothing to inherit
    children: list["TreeNode"] = field(default_factory=list)


@dataclass(frozen=True)
class EffectiveRow:
    """One setting of a group after inheritance, in words."""

    section: str
    section_label: str
    setting: str
    label: str  # "Credit limit"
    value: str  # "$250,000"
    source: str  # "overridden here", "set here", "inherited from VIP Customers", "default"
    note: str  # "15% from VIP Customers + 5% here", "VIP Customers: $100,000"
    origin: str  # "here", "inherited", "default"
    source_group_id: int | None  # the group the value comes from (None: the shop's default)
    parent_value: str | None = None  # what the parent gives, where this group overrides it

    @property
    def sentence(self) -> str:
        """ "Credit limit: $250,000 — overridden here" """
        detail = f" ({self.note})" if self.note else ""
        return f"{self.label}: {self.value}{detail} — {self.source}"


@dataclass(frozen=True)
class Override:
    section: str
    text: str  # "Credit limit: $250,000 (vs $100,000)"


@dataclass(frozen=True)
class InheritanceView:
    """What the hierarchy page shows for one group."""

    group_id: int
    name: str
    parent_id: int | None
    parent_name: str | None
    chain: tuple[str, ...]
    inherits: dict[str, bool]
    overrides: list[Override]
    rows: list[EffectiveRow]


# --- The tree ----------------------------------------------------------------------------------


async def group_tree() -> list[TreeNode]:
    """Every group as a tree, children by name; top-level groups first the default, then by name."""
    rows = await CustomerGroup.all().values(
        "id", "name", "code", "type", "status", "member_count", "is_default", "parent_id"
    )
    groups = await load_groups()
    nodes = {
        r["id"]: TreeNode(
            id=r["id"],
            name=r["name"],
            code=r["code"],
            type=GroupType(r["type"]),
            status=GroupStatus(r["status"]),
            members=r["member_count"],
            is_default=r["is_default"],
            parent_id=r["parent_id"],
            inherits=_inherits(groups[r["id"]]) if r["parent_id"] is not None else {},
        )
        for r in rows
    }
    roots: list[TreeNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        # A parent that is its own descendant (only possible through a broken database) would hide
        # its whole branch; show such a group at the top level instead.
        if parent is None or _under(parent.id, node.id, nodes):
            roots.append(node)
        else:
            parent.children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: n.name.casefold())
    roots.sort(key=lambda n: (not n.is_default, n.name.casefold()))
    return roots


def _under(group_id: int, ancestor_id: int, nodes: dict[int, TreeNode]) -> bool:
    seen, current = set(), group_id
    while current is not None and current not in seen:
        if current == ancestor_id:
            return True
        seen.add(current)
        current = nodes[current].parent_id if current in nodes else None
    return False


def _inherits(node: GroupNode) -> dict[str, bool]:
    return {section: getattr(node.benefits, section).inherit for section in INHERITANCE_ORDER}


def walk(nodes: list[TreeNode], depth: int = 0) -> list[tuple[TreeNode, int]]:
    """The tree's nodes in display order, each with its depth."""
    out = []
    for node in nodes:
        out.append((node, depth))
        out += walk(node.children, depth + 1)
    return out


# --- Changing the hierarchy --------------------------------------------------------------------


async def move_group(*, group_id: int, parent_id: int | None, actor: Acting) -> None:
    """Put the group under `parent_id` (None: the top level). A move under itself or one of its own
    subgroups is refused with FormError({"parent_id": ...})."""
    await require(actor, Permission.MANAGE_GROUPS)
    group = await get_group(group_id=group_id)
    if group.parent_id == parent_id:
        return
    data = group.as_input()
    data.parent_id = parent_id
    await update_group(group_id=group_id, version=group.version, data=data, actor=actor)


async def set_inheritance(*, group_id: int, section: str, inherit: bool, actor: Acting) -> None:
    """Turn inheriting one benefit section from the parent on or off; the section's own settings stay."""
    await require(actor, Permission.MANAGE_BENEFITS)
    if section not in SECTIONS:
        raise ValueError(f"Unknown benefits section {section!r}")
    group = await get_group(group_id=group_id)
    if group.parent_id is None and not inherit:
        raise FormError({f"{section}.inherit": "A top-level group has no parent to inherit from."})
    own = getattr(await get_benefits(group_id=group_id), section)
    if own.inherit == inherit:
        return
    data = own.model_dump(mode="json", exclude_none=True)
    data["inherit"] = inherit
    await save_benefits(group_id=group_id, sections={section: data}, actor=actor)


# --- Effective settings, in words --------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    wording: Wording
    price_lists: dict[int, str]
    categories: dict[int, str]
    products: dict[int, str]
    visibility_groups: dict[int, str]
    standard_visibility: frozenset[int] = frozenset()  # shown to every customer anyway


async def names_for(benefits: list[EffectiveBenefits]) -> Names:
    def ids(section: str, setting: str) -> set[int]:
        found: set[int] = set()
        for b in benefits:
            value = getattr(b, section)[setting].value
            found |= set(value) if isinstance(value, list) else ({value} if value else set())
        return found

    async def lookup(model, wanted: set[int]) -> dict[int, str]:
        return dict(await model.filter(id__in=list(wanted)).values_list("id", "name")) if wanted else {}

    shop = await get_shop()
    wanted = ids("visibility", "visibility_group_ids")
    standard = await VisibilityGroup.filter(id__in=list(wanted), is_standard=True).values_list("id", flat=True)
    return Names(
        wording=Wording(currency=shop.currency),
        price_lists=await lookup(PriceList, ids("pricing", "price_list_id")),
        categories=await lookup(Category, ids("pricing", "category_ids")),
        products=await lookup(Product, ids("pricing", "product_ids") | ids("visibility", "product_ids")),
        visibility_groups=await lookup(VisibilityGroup, wanted),
        standard_visibility=frozenset(standard) if wanted else frozenset(),
    )


def _listed(ids: list[int], names: dict[int, str], *, empty: str, limit: int = 4) -> str:
    if not ids:
        return empty
    shown = [names.get(i, f"#{i}") for i in ids[:limit]]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(shown) + more


def _enabled(value: Any) -> str:
    return "Enabled" if value else "Disabled"


# One setting's value in words, from the value, its section's other settings and the names of
# what ids point to.
SettingWords = Callable[[Any, dict[str, Setting], Names], str]


def _label(labels: dict[str, str], *, unknown: str, empty: str) -> SettingWords:
    """A choice read through `labels`; `empty` when nothing is chosen."""
    return lambda value, _settings, _names: labels.get(value, unknown) if value else empty


def _amount(*, empty: str, zero_is_empty: bool) -> SettingWords:
    """Money in the shop's currency. Some amounts read as `empty` at 0 (no limit), others as
    their value (an amount off of 0 is still an amount)."""

    def words(value: Any, _settings: dict[str, Setting], names: Names) -> str:
        unset = not value if zero_is_empty else value is None
        return empty if unset else names.wording.money(value)

    return words


def _named(which: Callable[[Names], dict[int, str]], *, empty: str) -> SettingWords:
    """A list of ids read as the names of what they point to."""
    return lambda value, _settings, names: _listed(value, which(names), empty=empty)


def _percent(value: Any, _settings: dict[str, Setting], _names: Names) -> str:
    return f"{value:g}%" if value is not None else "—"


def _price_list(value: Any, _settings: dict[str, Setting], names: Names) -> str:
    return names.price_lists.get(value, "a deleted price list") if value else "—"


def _units(value: Any, _settings: dict[str, Setting], _names: Names) -> str:
    return f"{value:,} units" if value else "None"


def _methods(value: Any, _settings: dict[str, Setting], _names: Names) -> str:
    return ", ".join(PAYMENT_METHOD_LABELS.get(m, str(m)) for m in value) if value else "None"


def _net_days(value: Any, _settings: dict[str, Setting], _names: Names) -> str:
    return f"Net {value}" if value else "Pay on order (no net terms)"


def _early_discount(value: Any, settings: dict[str, Setting], _names: Names) -> str:
    # The days belong to the discount ("2/10"): they have no row of their own.
    days = settings["early_discount_days"].value
    return f"{value:g}/{days} ({value:g}% if paid within {days} days)" if value and days else "None"


def _yes_no(value: Any, _settings: dict[str, Setting], _names: Names) -> str:
    return "Yes" if value else "No"


def _shop_access(value: Any, _settings: dict[str, Setting], _names: Names) -> str:
    return SHOP_ACCESS_LABELS.get(value, str(value))


SETTING_WORDS: dict[tuple[str, str], SettingWords] = {
    ("pricing", "type"): _label(PRICING_TYPE_LABELS, unknown="No special pricing", empty="No special pricing"),
    ("pricing", "percent"): _percent,
    ("pricing", "fixed_cents"): _amount(empty="—", zero_is_empty=False),
    ("pricing", "price_list_id"): _price_list,
    ("pricing", "scope"): _label(SCOPE_LABELS, unknown="All products", empty="All products"),
    ("pricing", "category_ids"): _named(lambda names: names.categories, empty="—"),
    ("pricing", "product_ids"): _named(lambda names: names.products, empty="None"),
    ("pricing", "min_order_cents"): _amount(empty="None", zero_is_empty=True),
    ("pricing", "min_order_quantity"): _units,
    ("pricing", "stack_with_promotions"): _yes_no,
    ("payment", "credit_limit_cents"): _amount(empty="None", zero_is_empty=True),
    ("payment", "auto_approve_under_cents"): _amount(empty="—", zero_is_empty=True),
    ("payment", "require_po"): _yes_no,
    ("payment", "methods"): _methods,
    ("payment", "net_days"): _net_days,
    ("payment", "early_discount_percent"): _early_discount,
    ("visibility", "mode"): _label(VISIBILITY_LABELS, unknown="Standard products", empty="Standard products only"),
    ("visibility", "visibility_group_ids"): _named(
        lambda names: names.visibility_groups, empty="Standard products only"
    ),
    ("visibility", "product_ids"): _named(lambda names: names.products, empty="None"),
    ("portal", "shop_access"): _shop_access,
}


def setting_text(section: str, name: str, settings: dict[str, Setting], names: Names) -> str:
    """One effective setting's value as the shop owner reads it."""
    value = settings[name].value
    words = SETTING_WORDS.get((section, name))
    if words is not None:
        return words(value, settings, names)
    if section == "portal":  # every other portal setting is a switch
        return _enabled(value)
    return str(value)


def _row(
    section: str,
    name: str,
    mine: EffectiveBenefits,
    parent: EffectiveBenefits | None,
    inherits: bool,
    names: Names,
) -> EffectiveRow:
    settings = getattr(mine, section)
    setting = settings[name]
    value = setting_text(section, name, settings, names)
    source = setting.source_text(for_group_id=mine.group_id)
    note = setting.note
    parent_value = None
    if parent is not None:
        theirs = getattr(parent, section)
        inherited = theirs[name]
        their_value = setting_text(section, name, theirs, names)
        if setting.origin == "here" and note:
            source = "inherited + added here"
        elif setting.origin == "here" and inherits and inherited.origin != "default":
            if their_value == value:
                note = f"same as {parent.group_name}"
            else:
                # The parent gives something else for this setting: this group overrides it.
                source, parent_value = "overridden here", their_value
                note = f"{parent.group_name}: {their_value}"
        elif setting.origin == "default" and not inherits and inherited.origin != "default":
            note = f"not inherited: {parent.group_name} gives {their_value}"
    return EffectiveRow(
        section=section,
        section_label=SECTION_LABELS[section],
        setting=name,
        label=SETTING_LABELS[section][name],
        value=value,
        source=source,
        note=note,
        origin=setting.origin,
        source_group_id=setting.group_id,
        parent_value=parent_value,
    )


def _rows(
    mine: EffectiveBenefits, parent: EffectiveBenefits | None, inherits: dict[str, bool], names: Names
) -> list[EffectiveRow]:
    return [
        _row(section, name, mine, parent, inherits.get(section, False), names)
        for section in INHERITANCE_ORDER
        for name in SETTING_LABELS[section]
    ]


async def effective_table(*, group_id: int) -> list[EffectiveRow]:
    """Every setting of every benefit section of the group, after inheritance: its value in words
    and where it comes from (set here, overridden here, inherited from a named group, default)."""
    return (await inheritance_view(group_id=group_id)).rows


async def inheritance_view(*, group_id: int) -> InheritanceView:
    """The group's place in the hierarchy, which sections it inherits, what it overrides, and
    every effective setting with its origin."""
    groups = await load_groups()
    if group_id not in groups:
        raise NotFoundError(f"There is no group with id {group_id}.")
    node = groups[group_id]
    mine = effective(group_id, groups)
    parent = effective(node.parent_id, groups) if node.parent_id in groups else None
    inherits = _inherits(node) if parent is not None else {}
    names = await names_for([b for b in (mine, parent) if b is not None])
    rows = _rows(mine, parent, inherits, names)
    return InheritanceView(
        group_id=group_id,
        name=node.name,
        parent_id=node.parent_id if parent is not None else None,
        parent_name=parent.group_name if parent is not None else None,
        chain=mine.chain,
        inherits=inherits,
        overrides=_overrides(node, rows),
        rows=rows,
    )


def _overrides(node: GroupNode, rows: list[EffectiveRow]) -> list[Override]:
    """What the group sets itself, seed-style: "Pricing: Additional 5% (total 20%)"."""
    out = []
    extra = node.benefits.pricing.additional_percent
    for row in rows:
        if row.origin != "here":
            continue
        if row.setting == "percent" and extra is not None:
            out.append(Override(row.section, f"Pricing: Additional {extra:g}% (total {row.value})"))
        elif row.setting == "type" and extra is not None and node.benefits.pricing.type is None:
            continue  # the additional percent makes it a percentage discount; said on the Discount line
        elif row.parent_value is not None and row.parent_value != row.value:
            out.append(Override(row.section, f"{row.label}: {row.value} (vs {row.parent_value})"))
        else:
            out.append(Override(row.section, f"{row.label}: {row.value}"))
    return out
