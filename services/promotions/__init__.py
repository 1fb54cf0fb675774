"""Promotions targeted at groups: the list, the form's rules, who a promotion reaches and what it
would have cost, and which promotions apply to a customer on a date.

A promotion reaches the members of its target groups and, unless the owner turns it off, of their
subgroups (children inherit their parent's benefits, so they get its promotions too). The owner
sets a promotion to Draft or Active; an active one is Scheduled before its first day and Expired
after its last. Dates are whole days, both ends included.

A promotion's fields are declared once in `fields`; `checks` says what is wrong with an input
from facts read beforehand, without a database.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import ConfigDict
from tortoise.expressions import F, Subquery
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from models.catalog import Product
from models.customer import Customer, Order, OrderStatus
from models.group import CustomerGroup, GroupStatus, Membership
from models.promotion import Promotion, PromotionStatus, PromotionTarget, PromotionType
from services.calendar import year_before
from services.errors import ChangedMeanwhileError, FormError, NotFoundError
from services.promotions.checks import PromotionFacts, normalised, parsed_input, problems, targets
from services.promotions.fields import EDITABLE, FIRST_DAY, LAST_DAY, PromotionBase, PromotionInput, in_shop_years
from services.shop import get_shop
from services.staff.actor import Acting, Permission, require
from services.staff.audit import record
from services.storage.conflicts import retried_on_conflict
from services.wording import long_date, money

__all__ = ["FIRST_DAY", "LAST_DAY", "PromotionInput", "in_shop_years"]  # where pages and reports find them
Shown = Literal["active", "scheduled", "expired", "draft"]
SHOWN_LABELS: dict[str, str] = {"active": "Active", "scheduled": "Scheduled", "expired": "Expired", "draft": "Draft"}
TYPE_LABELS = {
    PromotionType.ADDITIONAL_DISCOUNT: "Additional discount",
    PromotionType.FREE_SHIPPING: "Free shipping",
    PromotionType.FREE_ITEM: "Free item",
    PromotionType.BOGO: "BOGO",
}


@dataclass(frozen=True)
class PromotionRow:
    id: int
    name: str
    type: PromotionType
    shown: Shown
    targets: tuple[str, ...]
    valid_from: date | None
    valid_to: date | None
    summary: str  # "10% additional · minimum $500 · stacks with group discounts"


class PromotionDetail(PromotionBase):
    """A promotion as its form shows it: its editable fields (PromotionBase) and how it reads."""

    model_config = ConfigDict(frozen=True)

    id: int
    shown: Shown
    targets: tuple[str, ...]
    free_item_name: str | None
    summary: str
    version: int

    def as_input(self) -> PromotionInput:
        return PromotionInput.model_validate(self.model_dump(include=set(EDITABLE)))


@dataclass(frozen=True)
class PromotionList:
    rows: list[PromotionRow]
    counts: dict[str, int]  # per tab: active, scheduled, expired, draft


@dataclass(frozen=True)
class Reach:
    """Who a promotion reaches and what it would have cost in a comparable past period."""

    customers: int
    subgroups: tuple[str, ...]  # subgroups of the targets whose members are reached too
    period_from: date
    period_to: date
    orders: int  # qualifying orders of those customers in the period
    revenue_cents: int
    cost_cents: int | None  # None: cannot be estimated from order totals (BOGO)
    cost_text: str


@dataclass(frozen=True)
class ApplicablePromotion:
    """A promotion as the resolver sees it for one customer and date."""

    id: int
    name: str
    type: PromotionType
    percent: float | None
    minimum_purchase_cents: int
    stack_with_group_discount: bool
    valid_on_date: bool
    validity: str  # "March 1 - 31, 2026"
    free_item_id: int | None
    free_item_quantity: int
    buy_quantity: int | None
    get_quantity: int | None


# --- Wording ----------------------------------------------------------------------------------


def validity_text(valid_from: date | None, valid_to: date | None) -> str:
    if valid_from and valid_to:
        if (valid_from.year, valid_from.month) == (valid_to.year, valid_to.month):
            return f"{valid_from:%B} {valid_from.day} - {valid_to.day}, {valid_to.year}"
        return f"{long_date(valid_from)} - {long_date(valid_to)}"
    if valid_from:
        return f"from {long_date(valid_from)}"
    if valid_to:
        return f"until {long_date(valid_to)}"
    return "no end date"


def summary_text(
    *,
    type: PromotionType,
    percent: float | None,
    free_item_name: str | None,
    free_item_quantity: int,
    buy_quantity: int | None,
    get_quantity: int | None,
    minimum_purchase_cents: int,
    stack_with_group_discount: bool,
    currency: str,
) -> str:
    if type == PromotionType.ADDITIONAL_DISCOUNT:
        parts = [f"{percent:g}% additional" if percent else "Additional discount"]
    elif type == PromotionType.FREE_SHIPPING:
        parts = ["Free shipping"]
    elif type == PromotionType.FREE_ITEM:
        parts = [f"Free {free_item_quantity} × {free_item_name}" if free_item_name else "Free item (choose one)"]
    else:
        parts = [f"Buy {buy_quantity} get {get_quantity} free" if buy_quantity and get_quantity else "BOGO"]
    if minimum_purchase_cents:
        parts.append(f"minimum {money(minimum_purchase_cents, currency=currency)}")
    if type == PromotionType.ADDITIONAL_DISCOUNT:
        parts.append("stacks with group discounts" if stack_with_group_discount else "does not stack")
    return " · ".join(parts)


def shown_status(status: PromotionStatus, valid_from: date | None, valid_to: date | None, today: date) -> Shown:
    if status == PromotionStatus.DRAFT:
        return "draft"
    if valid_from and today < valid_from:
        return "scheduled"
    if valid_to and today > valid_to:
        return "expired"
    return "active"


def _today() -> date:
    return datetime.now(UTC).date()


# --- Reading ----------------------------------------------------------------------------------


async def _targets(promotion_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    found: dict[int, list[tuple[int, str]]] = {pid: [] for pid in promotion_ids}
    for pid, gid, name in (
        await PromotionTarget.filter(promotion_id__in=promotion_ids)
        .order_by("group__name")
        .values_list("promotion_id", "group_id", "group__name")
    ):
        found[pid].append((gid, name))
    return found


def _summary(p: Promotion, free_item_name: str | None, *, currency: str) -> str:
    return summary_text(
        type=p.type,
        percent=p.percent,
        free_item_name=free_item_name,
        free_item_quantity=p.free_item_quantity,
        buy_quantity=p.buy_quantity,
        get_quantity=p.get_quantity,
        minimum_purchase_cents=p.minimum_purchase_cents,
        stack_with_group_discount=p.stack_with_group_discount,
        currency=currency,
    )


async def list_promotions(*, shown: Shown | None = None, today: date | None = None) -> PromotionList:
    """Promotions for one tab (or all), newest first, with the count of every tab."""
    today = today or _today()
    promotions = await Promotion.all().order_by("-valid_from", "-id").prefetch_related("free_item")
    targets = await _targets([p.id for p in promotions])
    currency = (await get_shop()).currency
    counts = dict.fromkeys(SHOWN_LABELS, 0)
    rows = []
    for p in promotions:
        state = shown_status(p.status, p.valid_from, p.valid_to, today)
        counts[state] += 1
        if shown is None or state == shown:
            rows.append(
                PromotionRow(
                    id=p.id,
                    name=p.name,
                    type=p.type,
                    shown=state,
                    targets=tuple(name for _, name in targets[p.id]),
                    valid_from=p.valid_from,
                    valid_to=p.valid_to,
                    summary=_summary(p, p.free_item.name if p.free_item else None, currency=currency),
                )
            )
    return PromotionList(rows=rows, counts=counts)


async def get_promotion(*, promotion_id: int, today: date | None = None) -> PromotionDetail:
    p = await Promotion.get_or_none(id=promotion_id).prefetch_related("free_item")
    if p is None:
        raise NotFoundError(f"There is no promotion with id {promotion_id}.")
    chosen = (await _targets([p.id]))[p.id]
    free_name = p.free_item.name if p.free_item else None
    return PromotionDetail.model_validate(
        {name: getattr(p, name) for name in EDITABLE if name != "target_group_ids"}
        | {"id": p.id, "version": p.version, "free_item_name": free_name}
        | {"target_group_ids": [gid for gid, _ in chosen], "targets": tuple(name for _, name in chosen)}
        | {"shown": shown_status(p.status, p.valid_from, p.valid_to, today or _today())}
        | {"summary": _summary(p, free_name, currency=(await get_shop()).currency)}
    )


async def promotions_for_group(*, group_id: int, today: date | None = None) -> list[PromotionRow]:
    """The promotions that target the group (directly), for its page."""
    ids = list(await PromotionTarget.filter(group_id=group_id).values_list("promotion_id", flat=True))
    if not ids:
        return []
    everything = await list_promotions(today=today)
    return [row for row in everything.rows if row.id in ids]


# --- Saving -----------------------------------------------------------------------------------


async def _validated(data: PromotionInput | dict, *, promotion_id: int | None) -> PromotionInput:
    """The input, checked against the facts read for it (services.promotions.checks): every
    problem is reported at once, each at its field."""
    parsed, _ = parsed_input(data)
    if errors := problems(data, await _facts(parsed, promotion_id=promotion_id)):
        raise FormError(errors)
    return normalised(parsed)


async def _facts(parsed: PromotionInput | None, *, promotion_id: int | None) -> PromotionFacts:
    """What the checks of an input need from the database: whether its name is taken, which of its
    target groups and free item exist, and the shop's currency for a negative minimum."""
    if parsed is None:
        return PromotionFacts(promotion_id=promotion_id)
    others = Promotion.exclude(id=promotion_id) if promotion_id else Promotion.all()
    chosen = targets(parsed)
    return PromotionFacts(
        promotion_id=promotion_id,
        name_keys=frozenset(await others.filter(name_key=parsed.name.casefold()).values_list("name_key", flat=True)),
        group_ids=frozenset(await CustomerGroup.filter(id__in=chosen).values_list("id", flat=True))
        if chosen
        else frozenset(),
        free_item_exists=parsed.type != PromotionType.FREE_ITEM
        or parsed.free_item_id is None
        or await Product.exists(id=parsed.free_item_id),
        currency=(await get_shop()).currency if parsed.minimum_purchase_cents < 0 else "",
    )


# The fields that only one type of promotion uses; the others store their defaults.
_ONLY_FOR = {
    "percent": PromotionType.ADDITIONAL_DISCOUNT,
    "free_item_id": PromotionType.FREE_ITEM,
    "free_item_quantity": PromotionType.FREE_ITEM,
    "buy_quantity": PromotionType.BOGO,
    "get_quantity": PromotionType.BOGO,
}


def _columns(data: PromotionInput) -> dict:
    columns = data.model_dump(exclude={"target_group_ids"}) | {"name_key": data.name.casefold()}
    for name, kind in _ONLY_FOR.items():
        if data.type != kind:
            columns[name] = PromotionBase.model_fields[name].default
    return columns


_AUDITED = (
    "name", "type", "status", "percent", "free_item_id", "free_item_quantity", "buy_quantity", "get_quantity",
    "minimum_purchase_cents", "valid_from", "valid_to", "stack_with_group_discount", "include_subgroups",
)  # fmt: skip


async def _audited(promotion_id: int) -> dict | None:
    """What the audit log keeps of a promotion: its settings and the names of the groups it targets."""
    row = await Promotion.filter(id=promotion_id).first().values(*_AUDITED)
    if row is not None:
        row["target_groups"] = [name for _, name in (await _targets([promotion_id]))[promotion_id]]
    return row


@retried_on_conflict
async def create_promotion(*, data: PromotionInput | dict, actor: Acting) -> PromotionDetail:
    await require(actor, Permission.MANAGE_PROMOTIONS)
    data = await _validated(data, promotion_id=None)
    async with in_transaction("default") as connection:
        promotion = await Promotion.create(**_columns(data))
        await PromotionTarget.bulk_create(
            [PromotionTarget(promotion_id=promotion.id, group_id=gid) for gid in data.target_group_ids]
        )
        await record(
            actor=actor,
            action="promotion.created",
            subject_type="promotion",
            subject_id=promotion.id,
            subject_name=promotion.name,
            before=None,
            after=await _audited(promotion.id),
            connection=connection,
        )
    return await get_promotion(promotion_id=promotion.id)


@retried_on_conflict
async def update_promotion(
    *, promotion_id: int, version: int, data: PromotionInput | dict, actor: Acting
) -> PromotionDetail:
    """Save an edit made on `version` of the promotion; refuses if someone saved in between."""
    await require(actor, Permission.MANAGE_PROMOTIONS)
    data = await _validated(data, promotion_id=promotion_id)
    async with in_transaction("default") as connection:
        before = await _audited(promotion_id)
        if before is None:
            raise NotFoundError("This promotion was deleted meanwhile.")
        updated = await Promotion.filter(id=promotion_id, version=version).update(
            **_columns(data), updated_at=datetime.now(UTC), version=F("version") + 1
        )
        if not updated:
            raise ChangedMeanwhileError("This promotion was changed by someone else after you opened it.")
        await PromotionTarget.filter(promotion_id=promotion_id).delete()
        await PromotionTarget.bulk_create(
            [PromotionTarget(promotion_id=promotion_id, group_id=gid) for gid in data.target_group_ids]
        )
        await record(
            actor=actor,
            action="promotion.updated",
            subject_type="promotion",
            subject_id=promotion_id,
            subject_name=data.name,
            before=before,
            after=await _audited(promotion_id),
            connection=connection,
        )
    return await get_promotion(promotion_id=promotion_id)


@retried_on_conflict
async def delete_promotion(*, promotion_id: int, actor: Acting) -> str:
    await require(actor, Permission.MANAGE_PROMOTIONS)
    async with in_transaction("default") as connection:  # the deletion and its audit entry together
        promotion = await Promotion.get_or_none(id=promotion_id)
        if promotion is None:
            raise NotFoundError("This promotion was already deleted.")
        before = await _audited(promotion_id)
        await promotion.delete()
        await record(
            actor=actor,
            action="promotion.deleted",
            subject_type="promotion",
            subject_id=promotion_id,
            subject_name=promotion.name,
            before=before,
            after=None,
            connection=connection,
        )
    return promotion.name


async def drafts_after_losing(connection, group_id: int) -> list[str]:
    """Inside a group's deletion: the promotions whose only target it is become drafts (the
    caller deletes the group, and with it the targets). Their names, for telling the owner."""
    ids = list(
        await PromotionTarget.filter(group_id=group_id).using_db(connection).values_list("promotion_id", flat=True)
    )
    if not ids:
        return []
    others = set(
        await PromotionTarget.filter(promotion_id__in=ids)
        .exclude(group_id=group_id)
        .using_db(connection)
        .values_list("promotion_id", flat=True)
    )
    orphaned = [pid for pid in ids if pid not in others]
    if not orphaned:
        return []
    # A new version, so an edit opened before cannot quietly switch it back on.
    await (
        Promotion.filter(id__in=orphaned)
        .using_db(connection)
        .update(status=PromotionStatus.DRAFT, version=F("version") + 1)
    )
    return list(await Promotion.filter(id__in=orphaned).using_db(connection).values_list("name", flat=True))


# --- Reach and cost ---------------------------------------------------------------------------


def _descendants(roots: list[int], parents: dict[int, int | None]) -> set[int]:
    found, todo = set(roots), list(roots)
    while todo:
        current = todo.pop()
        for gid, parent in parents.items():
            if parent == current and gid not in found:
                found.add(gid)
                todo.append(gid)
    return found


async def reached_groups(*, target_group_ids: list[int], include_subgroups: bool) -> tuple[set[int], list[str]]:
    """The groups whose members a promotion reaches, and the names of the subgroups among them."""
    rows = await CustomerGroup.all().values_list("id", "name", "parent_id")
    parents = {gid: parent for gid, _, parent in rows}
    names = {gid: name for gid, name, _ in rows}
    targets = [gid for gid in target_group_ids if gid in parents]
    groups = _descendants(targets, parents) if include_subgroups else set(targets)
    return groups, sorted(names[gid] for gid in groups - set(targets))


def comparable_period(valid_from: date | None, valid_to: date | None, today: date) -> tuple[date, date]:
    """The same days a year earlier; without dates, the last 30 days."""
    if valid_from and valid_to:
        return year_before(valid_from), year_before(valid_to)
    if valid_from:
        start = year_before(valid_from)
        return start, start + timedelta(days=29)
    return today - timedelta(days=30), today - timedelta(days=1)


async def promotion_reach(*, data: PromotionInput | dict, today: date | None = None) -> Reach:
    """Distinct customers the promotion reaches (members of active target groups and, if chosen,
    their subgroups), and an estimate of what it would have given on the comparable period's
    completed orders of those customers (orders at or above the minimum purchase)."""
    data = data if isinstance(data, PromotionInput) else PromotionInput.model_validate(data)
    today = today or _today()
    groups, subgroups = await reached_groups(
        target_group_ids=data.target_group_ids, include_subgroups=data.include_subgroups
    )
    members = Membership.filter(group_id__in=list(groups), group__status=GroupStatus.ACTIVE)
    reached = Customer.filter(id__in=Subquery(members.values("customer_id")))
    customers = await reached.count() if groups else 0
    start, end = comparable_period(data.valid_from, data.valid_to, today)
    orders, revenue = 0, 0
    if groups:
        totals = (
            await Order.filter(
                customer_id__in=Subquery(reached.values("id")),
                status=OrderStatus.COMPLETED,
                placed_at__gte=datetime(start.year, start.month, start.day, tzinfo=UTC),
                placed_at__lt=datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1),
                total_cents__gte=data.minimum_purchase_cents,
            )
            .annotate(n=Count("id"), total=Sum("total_cents"))
            .first()
            .values("n", "total")
        )
        orders, revenue = totals["n"] or 0, totals["total"] or 0
    cost, text = await _cost(data, orders, revenue, currency=(await get_shop()).currency)
    return Reach(customers, tuple(subgroups), start, end, orders, revenue, cost, text)


async def _cost(data: PromotionInput, orders: int, revenue: int, *, currency: str) -> tuple[int | None, str]:
    period = f"{orders:,} qualifying orders worth {money(revenue, currency=currency)}"
    if data.type == PromotionType.ADDITIONAL_DISCOUNT and data.percent:
        cost = round(revenue * data.percent / 100)
        return cost, f"About {money(cost, currency=currency)}: {data.percent:g}% of {period}."
    if data.type == PromotionType.FREE_ITEM and data.free_item_id:
        base = await Product.filter(id=data.free_item_id).first().values_list("base_price_cents", flat=True)
        cost = (base or 0) * data.free_item_quantity * orders
        return cost, f"About {money(cost, currency=currency)}: the free item with each of {period}."
    if data.type == PromotionType.FREE_SHIPPING:
        return None, f"Shipping on {period}; the shop's shipping charges are not recorded here."
    return None, f"{period}; what buy-get-free gives depends on their items, which orders do not record."


# --- For the resolver -------------------------------------------------------------------------


async def applicable_promotions(*, group_ids: list[int], on: date) -> list[ApplicablePromotion]:
    """The active promotions that reach a customer in these groups (directly, or through a
    target's subgroups), with whether each is valid `on` that day: the trace shows both kinds."""
    if not group_ids:
        return []
    parents = dict(await CustomerGroup.all().values_list("id", "parent_id"))
    ancestors: set[int] = set()
    for gid in group_ids:
        current, seen = parents.get(gid), set()
        while current is not None and current not in seen:
            seen.add(current)
            ancestors.add(current)
            current = parents.get(current)
    candidates = set(group_ids) | ancestors
    promotion_ids = set(
        await PromotionTarget.filter(
            group_id__in=list(candidates), promotion__status=PromotionStatus.ACTIVE
        ).values_list("promotion_id", flat=True)
    )
    if not promotion_ids:
        return []
    targets = await _targets(list(promotion_ids))
    found = []
    for p in await Promotion.filter(id__in=list(promotion_ids)).order_by("name"):
        target_ids = {gid for gid, _ in targets[p.id]}
        if not (target_ids & set(group_ids) or (p.include_subgroups and target_ids & ancestors)):
            continue
        valid = (p.valid_from is None or p.valid_from <= on) and (p.valid_to is None or on <= p.valid_to)
        found.append(
            ApplicablePromotion(
                id=p.id,
                name=p.name,
                type=p.type,
                percent=p.percent,
                minimum_purchase_cents=p.minimum_purchase_cents,
                stack_with_group_discount=p.stack_with_group_discount,
                valid_on_date=valid,
                validity=validity_text(p.valid_from, p.valid_to),
                free_item_id=p.free_item_id,
                free_item_quantity=p.free_item_quantity,
                buy_quantity=p.buy_quantity,
                get_quantity=p.get_quantity,
            )
        )
    return found
