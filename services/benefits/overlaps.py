"""Where groups overlap: how many customers each pair of groups shares, and which customers get
conflicting benefits from their groups, with what they actually get.

How a conflict resolves (DESIGN.md, services.benefits.pricing):
- payment terms (net days, credit limit): the customer's primary group decides;
- pricing: decided line by line, the most favourable price wins;
- visibility: additive, the customer sees what any of their groups sees.
"""

from dataclasses import dataclass
from itertools import combinations

from models.group import CustomerGroup, GroupStatus, Membership
from services.benefits.hierarchy import Names, names_for, setting_text
from services.benefits.sections import EffectiveBenefits, PricingType, Scope, VisibilityMode, effective, load_groups
from services.paging import Page, page_bounds
from services.storage.database import reader_connection
from services.storage.sql import fetch_rows
from services.wording import count


@dataclass(frozen=True)
class MatrixGroup:
    id: int
    name: str
    members: int


@dataclass(frozen=True)
class OverlapMatrix:
    groups: list[MatrixGroup]
    counts: list[list[int]]  # counts[i][j]: customers in both groups[i] and groups[j]; the diagonal: members

    @property
    def overlapping_pairs(self) -> int:
        n = len(self.groups)
        return sum(1 for i in range(n) for j in range(i + 1, n) if self.counts[i][j])


@dataclass(frozen=True)
class Conflict:
    kind: str  # "payment", "pricing", "visibility"
    what: str  # what differs, group by group
    gets: str  # what the customer actually gets


@dataclass(frozen=True)
class CustomerGroupRef:
    id: int
    name: str
    is_primary: bool


@dataclass(frozen=True)
class ConflictRow:
    customer_id: int
    name: str
    company: str
    groups: list[CustomerGroupRef]  # primary first
    conflicts: list[Conflict]


# --- The matrix --------------------------------------------------------------------------------


async def overlap_matrix() -> OverlapMatrix:
    """Every group against every other: how many customers are in both."""
    groups = [
        MatrixGroup(gid, name, members)
        for gid, name, members in await CustomerGroup.all().order_by("name").values_list("id", "name", "member_count")
    ]
    index = {g.id: i for i, g in enumerate(groups)}
    counts = [[0] * len(groups) for _ in groups]
    # One self-join of membership on customer_id, grouped by the two group ids: the database walks
    # the (group_id, customer_id) index once and probes the customer's other memberships, so the
    # work grows with memberships times groups per customer (about 1 s for 1M memberships on
    # SQLite, most customers in one or two groups), not with groups squared. Only pairs with
    # a <= b are counted; the matrix is symmetric. It runs on the reader connection, so pages keep
    # loading meanwhile.
    rows = await fetch_rows(
        reader_connection(),
        "SELECT a.group_id, b.group_id, COUNT(*) FROM membership a "
        "JOIN membership b ON b.customer_id = a.customer_id AND b.group_id >= a.group_id "
        "GROUP BY a.group_id, b.group_id",
    )
    for first, second, n in (tuple(r) for r in rows):
        if first in index and second in index:
            i, j = index[first], index[second]
            counts[i][j] = counts[j][i] = n
    return OverlapMatrix(groups, counts)


# --- Conflicting benefits ----------------------------------------------------------------------


def _payment_key(b: EffectiveBenefits) -> tuple:
    return (b.value("payment", "net_days"), b.value("payment", "credit_limit_cents") or 0)


def _prices(b: EffectiveBenefits) -> bool:
    return b.value("pricing", "type") not in (None, PricingType.NONE)


def _pricing_key(b: EffectiveBenefits) -> tuple:
    p = b.pricing
    return tuple(
        (name, tuple(value) if isinstance(value, list) else value)
        for name, value in ((name, p[name].value) for name in sorted(p))
    )


def _visibility_key(b: EffectiveBenefits) -> tuple:
    v = b.visibility
    return (
        v["mode"].value == VisibilityMode.ALL,
        frozenset(v["visibility_group_ids"].value),
        frozenset(v["product_ids"].value),
    )


def _differ(a: EffectiveBenefits, b: EffectiveBenefits) -> set[str]:
    kinds = set()
    if _payment_key(a) != _payment_key(b):
        kinds.add("payment")
    # A group without special pricing does not conflict with one that has it: the discount applies.
    if _prices(a) and _prices(b) and _pricing_key(a) != _pricing_key(b):
        kinds.add("pricing")
    if _visibility_key(a) != _visibility_key(b):
        kinds.add("visibility")
    return kinds


async def _active_effective() -> dict[int, EffectiveBenefits]:
    groups = await load_groups()
    active = await CustomerGroup.filter(status=GroupStatus.ACTIVE).values_list("id", flat=True)
    return {gid: effective(gid, groups) for gid in active if gid in groups}


def _conflicting_pairs(benefits: dict[int, EffectiveBenefits]) -> list[tuple[int, int]]:
    return [(a, b) for a, b in combinations(sorted(benefits), 2) if _differ(benefits[a], benefits[b])]


def _pairs_sql(pairs: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """A WITH clause naming `shared`: the customers in both groups of any pair. Each pair's second
    membership is found through the (group_id, customer_id) unique index."""
    values = ", ".join("(CAST(? AS INTEGER), CAST(? AS INTEGER))" for _ in pairs)
    sql = (
        f"WITH p(g1, g2) AS (VALUES {values}), shared(customer_id) AS ("
        "SELECT DISTINCT a.customer_id FROM p "
        "JOIN membership a ON a.group_id = p.g1 "
        "JOIN membership b ON b.group_id = p.g2 AND b.customer_id = a.customer_id) "
    )
    return sql, [gid for pair in pairs for gid in pair]


async def conflicts(*, page: int = 1, per_page: int = 25) -> Page[ConflictRow]:
    """Customers in two or more active groups whose benefits differ, by name: what differs and
    what the customer actually gets."""
    offset, limit = page_bounds(page, per_page)
    per_page = limit
    benefits = await _active_effective()
    pairs = _conflicting_pairs(benefits)
    if not pairs:
        return Page(rows=[], total=0, page=max(page, 1), per_page=per_page)
    connection = reader_connection()
    shared, params = _pairs_sql(pairs)
    total = (await fetch_rows(connection, f"{shared} SELECT COUNT(*) FROM shared", *params))[0][0]
    found = await fetch_rows(
        connection,
        f"{shared} SELECT c.id, c.name, c.company FROM customer c JOIN shared s ON s.customer_id = c.id "
        "ORDER BY c.name, c.id LIMIT ? OFFSET ?",
        *params,
        limit,
        offset,
    )
    customers = [tuple(r) for r in found]
    ids = [c[0] for c in customers]
    memberships: dict[int, list[tuple[int, bool]]] = {}
    for customer_id, group_id, is_primary in await Membership.filter(customer_id__in=ids).values_list(
        "customer_id", "group_id", "is_primary"
    ):
        if group_id in benefits:
            memberships.setdefault(customer_id, []).append((group_id, is_primary))
    names = await names_for(list(benefits.values()))
    rows = []
    for customer_id, name, company in customers:
        mine = sorted(memberships.get(customer_id, []), key=lambda m: (not m[1], benefits[m[0]].group_name.casefold()))
        rows.append(
            ConflictRow(
                customer_id=customer_id,
                name=name,
                company=company or "",
                groups=[CustomerGroupRef(gid, benefits[gid].group_name, primary) for gid, primary in mine],
                conflicts=_describe([benefits[gid] for gid, _ in mine], _primary(mine), names),
            )
        )
    return Page(rows=rows, total=total, page=offset // per_page + 1, per_page=per_page)


def _primary(mine: list[tuple[int, bool]]) -> int | None:
    return next((gid for gid, primary in mine if primary), None)


def _describe(groups: list[EffectiveBenefits], primary_id: int | None, names: Names) -> list[Conflict]:
    kinds: set[str] = set()
    for a, b in combinations(groups, 2):
        kinds |= _differ(a, b)
    out = []
    if "payment" in kinds:
        out.append(_payment_conflict(groups, primary_id, names))
    if "pricing" in kinds:
        out.append(_pricing_conflict(groups, names))
    if "visibility" in kinds:
        out.append(_visibility_conflict(groups, names))
    return out


def _terms(b: EffectiveBenefits, names: Names) -> str:
    terms = setting_text("payment", "net_days", b.payment, names)
    limit = b.value("payment", "credit_limit_cents")
    return f"{terms}, {names.wording.money(limit)} credit limit" if limit else f"{terms}, no credit limit"


def _payment_conflict(groups: list[EffectiveBenefits], primary_id: int | None, names: Names) -> Conflict:
    what = "Payment terms differ: " + "; ".join(f"{g.group_name} {_terms(g, names)}" for g in groups)
    primary = next((g for g in groups if g.group_id == primary_id), None)
    if primary is None:
        gets = "No active primary group: the shop's default terms apply (pay on order). Choose a primary group."
    else:
        gets = f"{_terms(primary, names)}, from {primary.group_name} (primary group)"
    return Conflict("payment", what, gets)


def pricing_text(b: EffectiveBenefits, names: Names) -> str:
    """ "15% discount on all products", "Wholesale Price List, minimum order $500" """
    p = b.pricing
    kind = p["type"].value
    if kind == PricingType.PERCENTAGE:
        text = f"{p['percent'].value:g}% discount"
    elif kind == PricingType.FIXED:
        text = f"{names.wording.money(p['fixed_cents'].value)} off each unit"
    elif kind == PricingType.PRICE_LIST:
        text = setting_text("pricing", "price_list_id", p, names)
    else:
        return "no special pricing"
    scope = p["scope"].value
    if scope == Scope.CATEGORIES:
        text += " on " + setting_text("pricing", "category_ids", p, names)
    elif scope == Scope.PRODUCTS:
        text += f" on {len(p['product_ids'].value)} chosen products"
    elif kind != PricingType.PRICE_LIST:
        text += " on all products"
    if minimum := p["min_order_cents"].value:
        text += f", minimum order {names.wording.money(minimum)}"
    return text


def _pricing_conflict(groups: list[EffectiveBenefits], names: Names) -> Conflict:
    priced = [g for g in groups if _prices(g)]
    what = "Pricing differs: " + "; ".join(f"{g.group_name} {pricing_text(g, names)}" for g in priced)
    return Conflict("pricing", what, "The lowest of these prices on each line (decided line by line at checkout)")


def visibility_text(b: EffectiveBenefits, names: Names) -> str:
    v = b.visibility
    if v["mode"].value == VisibilityMode.ALL:
        return "all products"
    parts = ["standard products"]
    if extra_groups := [i for i in v["visibility_group_ids"].value if i not in names.standard_visibility]:
        parts.append(", ".join(names.visibility_groups.get(i, f"#{i}") for i in extra_groups))
    if extra := len(v["product_ids"].value):
        parts.append(count(extra, "extra product"))
    return " + ".join(parts)


def _visibility_conflict(groups: list[EffectiveBenefits], names: Names) -> Conflict:
    what = "Product visibility differs: " + "; ".join(
        f"{g.group_name} sees {visibility_text(g, names)}" for g in groups
    )
    if any(g.visibility["mode"].value == VisibilityMode.ALL for g in groups):
        gets = "All products (visibility adds up across groups)"
    else:
        ids = sorted(
            {vid for g in groups for vid in g.visibility["visibility_group_ids"].value} - names.standard_visibility,
            key=lambda i: names.visibility_groups.get(i, ""),
        )
        products = len({pid for g in groups for pid in g.visibility["product_ids"].value})
        parts = ["standard products"]
        if ids:
            parts.append(", ".join(names.visibility_groups.get(i, f"#{i}") for i in ids))
        if products:
            parts.append(count(products, "extra product"))
        gets = "Everything any of the groups sees: " + " + ".join(parts)
    return Conflict("visibility", what, gets)
