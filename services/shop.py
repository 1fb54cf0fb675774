"""The shop this installation serves, and its shop-wide settings."""

from dataclasses import dataclass

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models.group import CustomerGroup, GroupStatus, GroupType, Membership
from models.shop import Shop
from services.errors import FormError
from services.rules.ladders import rung_order
from services.staff.actor import Acting, Permission, require
from services.staff.audit import record
from services.wording import count

DEFAULT_NAME = "Customer Groups"
DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True)
class ShopInfo:
    name: str
    currency: str
    one_group_per_customer: bool
    default_group_id: int | None = None
    default_group_name: str | None = None


async def get_shop() -> ShopInfo:
    shop = await Shop.first()
    default = await CustomerGroup.filter(is_default=True).order_by("id").first().values("id", "name")
    return ShopInfo(
        name=shop.name if shop else DEFAULT_NAME,
        currency=shop.currency if shop else DEFAULT_CURRENCY,
        one_group_per_customer=shop.one_group_per_customer if shop else False,
        default_group_id=default["id"] if default else None,
        default_group_name=default["name"] if default else None,
    )


async def _customers_in_several_groups() -> list[int]:
    return list(
        await Membership.annotate(n=Count("id"))
        .group_by("customer_id")
        .filter(n__gt=1)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
    )


async def _several_groups_message(customer_ids: list[int]) -> str:
    example = customer_ids[0]
    memberships = (
        await Membership.filter(customer_id=example)
        .order_by("-is_primary", "group__name")
        .values_list("customer__name", "group__name")
    )
    name = memberships[0][0]
    groups = ", ".join(group for _, group in memberships)
    who = count(len(customer_ids), "customer is", "customers are")
    return f"{who} in more than one group (e.g. {name}: {groups}). Move them first, or keep this off."


async def _default_group_problem(group_id: int) -> str | None:
    group = await CustomerGroup.get_or_none(id=group_id)
    if group is None:
        return "This group no longer exists. Choose another one."
    if group.is_ladder:
        # "Move to default group" would put customers in the ladder's own group, on none of its rungs.
        # Name only the rungs that could be the default themselves (an automatic rung could not).
        rows = await CustomerGroup.filter(
            parent_id=group.id, status=GroupStatus.ACTIVE, type__in=[GroupType.MANUAL, GroupType.HYBRID]
        ).values_list("id", "name", "rung")
        names = {gid: name for gid, name, _ in rows}
        instead = f"one of its rungs ({', '.join(names[gid] for gid in rung_order(rows))})" if rows else "another group"
        return (
            f"{group.name} is a ladder: its customers are on its rungs, one each, not in {group.name} itself, so "
            f"nobody can be moved into it. Choose {instead}."
        )
    if group.type == GroupType.AUTOMATIC:
        return (
            f"{group.name} is automatic: its members follow its rule, so customers cannot be moved into it. "
            "Choose a manual or hybrid group."
        )
    if group.status != GroupStatus.ACTIVE:
        return f"{group.name} is inactive. Switch it on first, or choose an active group."
    return None


async def update_settings(*, one_group_per_customer: bool, default_group_id: int | None, actor: Acting) -> ShopInfo:
    """Save the shop-wide membership settings, or raise FormError naming the field that cannot be
    saved. Exclusivity is refused while someone is in several groups: switching it on must not
    silently drop memberships. Needs the settings permission."""
    await require(actor, Permission.MANAGE_SETTINGS)
    async with in_transaction("default") as connection:
        before = await get_shop()
        errors: dict[str, str] = {}
        if default_group_id is not None and (problem := await _default_group_problem(default_group_id)):
            errors["default_group_id"] = problem
        if one_group_per_customer and (several := await _customers_in_several_groups()):
            errors["one_group_per_customer"] = await _several_groups_message(several)
        if errors:
            raise FormError(errors)

        shop = await Shop.first()
        if shop is None:
            await Shop.create(
                name=DEFAULT_NAME, currency=DEFAULT_CURRENCY, one_group_per_customer=one_group_per_customer
            )
        else:
            await Shop.filter(id=shop.id).update(one_group_per_customer=one_group_per_customer)
        # Only one default group: the one chosen, or none.
        others = CustomerGroup.filter(is_default=True)
        if default_group_id is not None:
            others = others.exclude(id=default_group_id)
            await CustomerGroup.filter(id=default_group_id).update(is_default=True)
        await others.update(is_default=False)
        after = await get_shop()
        await record(
            actor=actor,
            action="settings.updated",
            subject_type="settings",
            subject_id=None,
            subject_name="Shop settings",
            before={
                "one_group_per_customer": before.one_group_per_customer,
                "default_group": before.default_group_name,
            },
            after={"one_group_per_customer": after.one_group_per_customer, "default_group": after.default_group_name},
            connection=connection,
        )
    return after
