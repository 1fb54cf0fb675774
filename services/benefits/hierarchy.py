"""The group hierarchy: the tree of all groups, moving a group under another, which benefit
sections a child inherits, and each setting's effective value with where it comes from.

The demo shop's example: VIP Platinum sits under VIP Customers, inherits its 15% and adds 5% (20% in
all), and overrides the credit limit ($250,000 instead of $100,000) and the terms (Net 45 instead
of Net 30). The effective table says exactly that, in those words.
"""

from dataclasses import dataclass, field

from tortoise.expressions import Q

from models.catalog import Category, PriceList, Product, VisibilityGroup
from models.group import CustomerGroup, GroupStatus, GroupType
from services.benefits.sections import (
    SECTIONS,
    EffectiveBenefits,
    GroupNode,
    effective,
    get_benefits,
    load_groups,
    save_benefits,
)
from services.benefits.summary import CatalogNames, setting_label, setting_names, setting_text
from services.errors import FormError, NotFoundError
from services.groups.group import get_group, update_group
from services.rules.ladders import rung_order
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
    is_ladder: bool = False  # its subgroups are the rungs of a ladder (services.rules.ladders)
    rung: int | None = None  # its place on its parent's ladder, 1 the top; None: no rung


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
    """Every group as a tree, children by name (a ladder's: its rungs top first, each with its
    place); top-level groups first the default, then by name."""
    rows = await CustomerGroup.all().values(
        "id", "name", "code", "type", "status", "member_count", "is_default", "parent_id", "is_ladder", "rung"
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
            is_ladder=r["is_ladder"],
        )
        for r in rows
    }
    stored_rung = {r["id"]: r["rung"] for r in rows}
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
        if node.is_ladder:
            order = rung_order((c.id, c.name, stored_rung[c.id]) for c in node.children)
            by_id = {c.id: c for c in node.children}
            node.children = [by_id[gid] for gid in order]
            for position, child in enumerate(node.children, start=1):
                child.rung = position
        else:
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
    subgroups is refused with FormError({"parent_id": ...}). Under a ladder's group it becomes the
    bottom rung, out of a ladder a plain group, the ladders placing everyone in the same transaction
    (services.groups.rungs; a ladder kept with fewer than two rungs is refused at "parent_id")."""
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


# --- Effective settings, in words (each value as services.benefits.summary.SETTINGS words it) --------


Names = CatalogNames  # what the wording needs; the overlaps report reads it too


async def names_for(benefits: list[EffectiveBenefits]) -> CatalogNames:
    """The names of what the groups' settings point to (and of the standard visibility groups):
    a few small reads."""

    def ids(section: str, setting: str) -> set[int]:
        found: set[int] = set()
        for b in benefits:
            value = getattr(b, section)[setting].value
            found |= set(value) if isinstance(value, list) else ({value} if value else set())
        return found

    async def lookup(model, wanted: set[int]) -> dict[int, str]:
        return dict(await model.filter(id__in=list(wanted)).values_list("id", "name")) if wanted else {}

    shop = await get_shop()
    visibility = await VisibilityGroup.filter(
        Q(id__in=list(ids("visibility", "visibility_group_ids"))) | Q(is_standard=True)
    ).values_list("id", "name", "is_standard")
    return CatalogNames(
        currency=shop.currency,
        price_lists=await lookup(PriceList, ids("pricing", "price_list_id")),
        categories=await lookup(Category, ids("pricing", "category_ids")),
        products=await lookup(Product, ids("pricing", "product_ids") | ids("visibility", "product_ids")),
        visibility_groups={i: name for i, name, _ in visibility},
        standard_ids=frozenset(i for i, _, standard in visibility if standard),
    )


def _row(
    section: str,
    name: str,
    mine: EffectiveBenefits,
    parent: EffectiveBenefits | None,
    inherits: bool,
    names: CatalogNames,
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
        label=setting_label(section, name),
        value=value,
        source=source,
        note=note,
        origin=setting.origin,
        source_group_id=setting.group_id,
        parent_value=parent_value,
    )


def _rows(
    mine: EffectiveBenefits, parent: EffectiveBenefits | None, inherits: dict[str, bool], names: CatalogNames
) -> list[EffectiveRow]:
    return [
        _row(section, name, mine, parent, inherits.get(section, False), names)
        for section in INHERITANCE_ORDER
        for name in setting_names(section)
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
