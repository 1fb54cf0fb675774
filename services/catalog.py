"""The catalog: products, categories, visibility groups and price lists with quantity tiers.

Small on purpose: what group benefits and the price check need, and what a shop owner needs
to keep it tidy. Every check reports its problem at the field it belongs to (FormError), in the
shop owner's words. Pickers read (id, label) pairs only, so a wizard step stays quick.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models.benefits import GroupBenefits
from models.catalog import Category, PriceList, PriceListItem, Product, VisibilityGroup
from models.group import CustomerGroup
from services.errors import FormError, NotFoundError
from services.paging import Page, page_bounds
from services.shop import get_shop
from services.staff.actor import Acting, Permission, require
from services.storage.database import BACKGROUND
from services.storage.sql import dialect_sql, insert_rows
from services.text import HIDDEN
from services.wording import count, money

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,63}$")
NAME_MAX = {"product": 200, "category": 100, "visibility group": 100, "price list": 100}
DESCRIPTION_MAX = 2000
PRICE_MAX_CENTS = 100_000_000_00  # 100,000,000 in the currency: anything above is a typing slip


class Choice(NamedTuple):
    """One entry of a picker: `for id, label in choices` and `choice.label` both read naturally."""

    id: int
    label: str


@dataclass(frozen=True)
class ProductRow:
    id: int
    sku: str
    name: str
    category_id: int
    category_name: str
    visibility_group_id: int
    visibility_group_name: str
    base_price_cents: int
    cost_cents: int | None = None  # not known: reports estimate the margin


@dataclass(frozen=True)
class CategoryRow:
    id: int
    name: str
    products: int


@dataclass(frozen=True)
class VisibilityGroupRow:
    id: int
    name: str
    is_standard: bool
    products: int


@dataclass(frozen=True)
class PriceListRow:
    id: int
    name: str
    description: str
    products: int  # distinct products with at least one price on the list
    rows: int  # price rows, tiers included
    used_by: tuple[str, ...]  # groups whose pricing names the list


@dataclass(frozen=True)
class PriceListItemRow:
    id: int
    price_list_id: int
    product_id: int
    sku: str
    product_name: str
    base_price_cents: int
    min_quantity: int
    price_cents: int

    @property
    def saving_percent(self) -> float:
        """How much below the base price, in percent (negative: above it)."""
        if not self.base_price_cents:
            return 0.0
        return round(100 * (self.base_price_cents - self.price_cents) / self.base_price_cents, 1)


@dataclass(frozen=True)
class PriceListDetail:
    id: int
    name: str
    description: str
    products: int
    rows: int
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class ProductDeleted:
    name: str
    price_list_rows: int  # its prices removed from price lists with it


@dataclass(frozen=True)
class VisibilityCounts:
    """What a visibility selection shows: products shown, hidden, and shown only to chosen groups."""

    visible: int
    hidden: int
    exclusive: int  # shown products outside the standard visibility group


# --- Small helpers ----------------------------------------------------------------------------


def _clean_name(value: Any, *, what: str, errors: dict[str, str], key: str = "name") -> str:
    name = " ".join(str(value or "").split())
    if not name:
        errors[key] = f"Enter a {what} name."
    elif len(name) > NAME_MAX[what]:
        errors[key] = f"Use at most {NAME_MAX[what]} characters."
    return name


def _whole(value: Any) -> int | None:
    """A whole number from a form value (numbers inputs deliver floats), or None if it is not one."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


async def _price_out_of_range(price: int) -> str:
    """What to say about a price below zero or above PRICE_MAX_CENTS, in the shop's currency."""
    currency = (await get_shop()).currency
    if price < 0:
        return f"Enter a price of {money(0, currency=currency, cents_shown='always')} or more."
    return f"Enter a price of at most {money(PRICE_MAX_CENTS, currency=currency, cents_shown='always')}."


async def _benefit_users(
    *,
    price_list_id: int | None = None,
    category_id: int | None = None,
    visibility_group_id: int | None = None,
    product_id: int | None = None,
) -> list[str]:
    """Names of the groups whose benefits name this catalog entry (a shop has tens of groups)."""
    names = dict(await CustomerGroup.all().values_list("id", "name"))
    users = []
    for group_id, pricing, visibility in await GroupBenefits.all().values_list("group_id", "pricing", "visibility"):
        pricing, visibility = pricing or {}, visibility or {}
        if (
            (price_list_id is not None and pricing.get("price_list_id") == price_list_id)
            or (category_id is not None and category_id in (pricing.get("category_ids") or []))
            or (
                visibility_group_id is not None
                and visibility_group_id in (visibility.get("visibility_group_ids") or [])
            )
            or (
                product_id is not None
                and (
                    product_id in (pricing.get("product_ids") or [])
                    or product_id in (visibility.get("product_ids") or [])
                )
            )
        ):
            users.append(names.get(group_id, "a deleted group"))
    return sorted(users)


def _names_text(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- Products ---------------------------------------------------------------------------------


def _product_query(search: str, category_id: int | None, visibility_group_id: int | None):
    query = Product.all()
    needle = " ".join(search.split())
    if needle:
        query = query.filter(Q(name__icontains=needle) | Q(sku__icontains=needle))
    if category_id is not None:
        query = query.filter(category_id=category_id)
    if visibility_group_id is not None:
        query = query.filter(visibility_group_id=visibility_group_id)
    return query


PRODUCT_VALUES = (
    "id",
    "sku",
    "name",
    "category_id",
    "category__name",
    "visibility_group_id",
    "visibility_group__name",
    "base_price_cents",
    "cost_cents",
)


def _product_row(values: dict) -> ProductRow:
    return ProductRow(
        id=values["id"],
        sku=values["sku"],
        name=values["name"],
        category_id=values["category_id"],
        category_name=values["category__name"],
        visibility_group_id=values["visibility_group_id"],
        visibility_group_name=values["visibility_group__name"],
        base_price_cents=values["base_price_cents"],
        cost_cents=values["cost_cents"],
    )


async def list_products(
    *,
    search: str = "",
    category_id: int | None = None,
    visibility_group_id: int | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page[ProductRow]:
    """One page of products by name; `search` finds a part of the name or SKU."""
    query = _product_query(search, category_id, visibility_group_id)
    offset, limit = page_bounds(page, per_page)
    total = await query.count()
    rows = await query.order_by("name", "id").offset(offset).limit(limit).values(*PRODUCT_VALUES)
    return Page(rows=[_product_row(r) for r in rows], total=total, page=max(page, 1), per_page=limit)


async def get_product(*, product_id: int) -> ProductRow:
    rows = await Product.filter(id=product_id).values(*PRODUCT_VALUES)
    if not rows:
        raise NotFoundError(f"There is no product with id {product_id}.")
    return _product_row(rows[0])


async def _product_values(data: dict, *, product_id: int | None) -> dict:
    """The product's fields, checked; every problem at its field at once."""
    errors: dict[str, str] = {}
    sku = str(data.get("sku") or "").strip().upper()
    if not sku:
        errors["sku"] = "Enter a SKU."
    elif not SKU_PATTERN.fullmatch(sku):
        errors["sku"] = "Use up to 64 letters, digits, '.', '/', '-' or '_', starting with a letter or digit."
    elif taken := await Product.filter(sku=sku).exclude(id=product_id or 0).first().values("name"):
        errors["sku"] = f'The SKU "{sku}" is already used by {taken["name"]}.'
    name = _clean_name(data.get("name"), what="product", errors=errors)

    category_id = data.get("category_id")
    if category_id is None:
        errors["category_id"] = "Choose a category."
    elif not await Category.exists(id=category_id):
        errors["category_id"] = "This category no longer exists; choose another."

    visibility_group_id = data.get("visibility_group_id")
    if visibility_group_id is None:
        visibility_group_id = await VisibilityGroup.filter(is_standard=True).first().values_list("id", flat=True)
        if visibility_group_id is None:
            errors["visibility_group_id"] = "Choose a visibility group."
    elif not await VisibilityGroup.exists(id=visibility_group_id):
        errors["visibility_group_id"] = "This visibility group no longer exists; choose another."

    raw_price = data.get("base_price_cents")
    price = _whole(raw_price)
    if raw_price is None or raw_price == "":
        errors["base_price_cents"] = "Enter the base price."
    elif price is None:
        errors["base_price_cents"] = "Enter the price in whole cents."
    elif not 0 <= price <= PRICE_MAX_CENTS:
        errors["base_price_cents"] = await _price_out_of_range(price)
    if errors:
        raise FormError(errors)
    return {
        "sku": sku,
        "name": name,
        "category_id": category_id,
        "visibility_group_id": visibility_group_id,
        "base_price_cents": price,
    }


async def create_product(*, data: dict, actor: Acting) -> ProductRow:
    """A new product. `data`: sku, name, category_id, visibility_group_id (empty: the standard
    group), base_price_cents. The SKU is stored in capitals; it is unique whatever its case."""
    await require(actor, Permission.MANAGE_CATALOG)
    values = await _product_values(data, product_id=None)
    try:
        product = await Product.create(**values)
    except IntegrityError:
        raise FormError({"sku": f'The SKU "{values["sku"]}" is already used by another product.'}) from None
    return await get_product(product_id=product.id)


async def update_product(*, product_id: int, data: dict, actor: Acting) -> ProductRow:
    await require(actor, Permission.MANAGE_CATALOG)
    if not await Product.exists(id=product_id):
        raise NotFoundError("This product was deleted meanwhile.")
    values = await _product_values(data, product_id=product_id)
    try:
        await Product.filter(id=product_id).update(**values)
    except IntegrityError:
        raise FormError({"sku": f'The SKU "{values["sku"]}" is already used by another product.'}) from None
    return await get_product(product_id=product_id)


async def delete_product(*, product_id: int, actor: Acting) -> ProductDeleted:
    """Delete a product and its prices on price lists. Refused while a group's benefits name it
    (a custom visibility selection or a pricing scope), so no group is left pointing at nothing."""
    await require(actor, Permission.MANAGE_CATALOG)
    product = await Product.get_or_none(id=product_id).values("name")
    if product is None:
        raise NotFoundError("This product was deleted meanwhile.")
    if users := await _benefit_users(product_id=product_id):
        raise FormError(
            {"product_id": f"The benefits of {_names_text(users)} name this product; take it out there first."}
        )
    async with in_transaction("default"):
        rows = await PriceListItem.filter(product_id=product_id).delete()
        await Product.filter(id=product_id).delete()
    return ProductDeleted(name=product["name"], price_list_rows=rows)


async def product_choices() -> list[Choice]:
    """Every product as "SKU · Name", by name."""
    rows = await Product.all().order_by("name", "id").values_list("id", "sku", "name")
    return [Choice(i, f"{sku} · {name}") for i, sku, name in rows]


# --- Categories -------------------------------------------------------------------------------


async def list_categories() -> list[CategoryRow]:
    """Every category with how many products it holds, by name."""
    counts = dict(await Product.all().group_by("category_id").annotate(n=Count("id")).values_list("category_id", "n"))
    return [
        CategoryRow(i, name, counts.get(i, 0))
        for i, name in await Category.all().order_by("name").values_list("id", "name")
    ]


async def category_choices() -> list[Choice]:
    return [Choice(i, name) for i, name in await Category.all().order_by("name").values_list("id", "name")]


async def _unique_name(model, name: str, *, exclude_id: int | None, what: str, errors: dict[str, str]) -> None:
    if "name" in errors:
        return
    if await model.filter(name__iexact=name).exclude(id=exclude_id or 0).exists():
        errors["name"] = f'A {what} named "{name}" already exists.'


async def create_category(*, name: str, actor: Acting) -> CategoryRow:
    await require(actor, Permission.MANAGE_CATALOG)
    errors: dict[str, str] = {}
    name = _clean_name(name, what="category", errors=errors)
    await _unique_name(Category, name, exclude_id=None, what="category", errors=errors)
    if errors:
        raise FormError(errors)
    try:
        category = await Category.create(name=name)
    except IntegrityError:
        raise FormError({"name": f'A category named "{name}" already exists.'}) from None
    return CategoryRow(category.id, category.name, 0)


async def update_category(*, category_id: int, name: str, actor: Acting) -> CategoryRow:
    await require(actor, Permission.MANAGE_CATALOG)
    if not await Category.exists(id=category_id):
        raise NotFoundError("This category was deleted meanwhile.")
    errors: dict[str, str] = {}
    name = _clean_name(name, what="category", errors=errors)
    await _unique_name(Category, name, exclude_id=category_id, what="category", errors=errors)
    if errors:
        raise FormError(errors)
    try:
        await Category.filter(id=category_id).update(name=name)
    except IntegrityError:
        raise FormError({"name": f'A category named "{name}" already exists.'}) from None
    return CategoryRow(category_id, name, await Product.filter(category_id=category_id).count())


async def delete_category(*, category_id: int, actor: Acting) -> str:
    """Delete an unused category; its name. Refused while products or a group's pricing use it."""
    await require(actor, Permission.MANAGE_CATALOG)
    category = await Category.get_or_none(id=category_id)
    if category is None:
        raise NotFoundError("This category was deleted meanwhile.")
    used = await Product.filter(category_id=category_id).count()
    if used:
        raise FormError(
            {
                "category_id": f"{count(used, 'product uses', 'products use')} {category.name}; "
                "move them to another category first."
            }
        )
    if users := await _benefit_users(category_id=category_id):
        raise FormError(
            {"category_id": f"The pricing of {_names_text(users)} targets this category; take it out there first."}
        )
    await category.delete()
    return category.name


# --- Visibility groups ------------------------------------------------------------------------


async def list_visibility_groups() -> list[VisibilityGroupRow]:
    """Every visibility group with its product count: the standard one first, then by name."""
    counts = dict(
        await Product.all()
        .group_by("visibility_group_id")
        .annotate(n=Count("id"))
        .values_list("visibility_group_id", "n")
    )
    rows = await VisibilityGroup.all().order_by("-is_standard", "name").values_list("id", "name", "is_standard")
    return [VisibilityGroupRow(i, name, bool(standard), counts.get(i, 0)) for i, name, standard in rows]


async def visibility_group_choices() -> list[Choice]:
    """Visibility groups, the standard one first."""
    rows = await VisibilityGroup.all().order_by("-is_standard", "name").values_list("id", "name")
    return [Choice(i, name) for i, name in rows]


async def standard_visibility_group_id() -> int | None:
    return await VisibilityGroup.filter(is_standard=True).first().values_list("id", flat=True)


async def create_visibility_group(*, name: str, is_standard: bool = False, actor: Acting) -> VisibilityGroupRow:
    """A new visibility group. The shop's first one is the standard one; making another standard
    takes the mark from the previous one (there is always exactly one)."""
    await require(actor, Permission.MANAGE_CATALOG)
    errors: dict[str, str] = {}
    name = _clean_name(name, what="visibility group", errors=errors)
    await _unique_name(VisibilityGroup, name, exclude_id=None, what="visibility group", errors=errors)
    if errors:
        raise FormError(errors)
    async with in_transaction("default"):
        standard = is_standard or not await VisibilityGroup.filter(is_standard=True).exists()
        if standard:
            await VisibilityGroup.filter(is_standard=True).update(is_standard=False)
        try:
            group = await VisibilityGroup.create(name=name, is_standard=standard)
        except IntegrityError:
            raise FormError({"name": f'A visibility group named "{name}" already exists.'}) from None
    return VisibilityGroupRow(group.id, group.name, standard, 0)


async def update_visibility_group(
    *, visibility_group_id: int, name: str, is_standard: bool, actor: Acting
) -> VisibilityGroupRow:
    await require(actor, Permission.MANAGE_CATALOG)
    group = await VisibilityGroup.get_or_none(id=visibility_group_id)
    if group is None:
        raise NotFoundError("This visibility group was deleted meanwhile.")
    errors: dict[str, str] = {}
    name = _clean_name(name, what="visibility group", errors=errors)
    await _unique_name(VisibilityGroup, name, exclude_id=visibility_group_id, what="visibility group", errors=errors)
    if group.is_standard and not is_standard:
        errors["is_standard"] = "Every shop has one standard visibility group: make another group standard instead."
    if errors:
        raise FormError(errors)
    async with in_transaction("default"):
        if is_standard and not group.is_standard:
            await VisibilityGroup.filter(is_standard=True).update(is_standard=False)
        try:
            await VisibilityGroup.filter(id=visibility_group_id).update(name=name, is_standard=is_standard)
        except IntegrityError:
            raise FormError({"name": f'A visibility group named "{name}" already exists.'}) from None
    products = await Product.filter(visibility_group_id=visibility_group_id).count()
    return VisibilityGroupRow(visibility_group_id, name, is_standard, products)


async def delete_visibility_group(*, visibility_group_id: int, actor: Acting) -> str:
    """Delete an unused visibility group; its name. The standard one stays."""
    await require(actor, Permission.MANAGE_CATALOG)
    group = await VisibilityGroup.get_or_none(id=visibility_group_id)
    if group is None:
        raise NotFoundError("This visibility group was deleted meanwhile.")
    if group.is_standard:
        raise FormError(
            {
                "visibility_group_id": f"{group.name} is the standard visibility group and cannot be deleted; "
                "make another group standard first."
            }
        )
    used = await Product.filter(visibility_group_id=visibility_group_id).count()
    if used:
        raise FormError(
            {
                "visibility_group_id": f"{count(used, 'product is', 'products are')} in {group.name}; "
                "move them to another visibility group first."
            }
        )
    if users := await _benefit_users(visibility_group_id=visibility_group_id):
        raise FormError(
            {
                "visibility_group_id": f"The visibility settings of {_names_text(users)} show {group.name}; "
                "take it out there first."
            }
        )
    await group.delete()
    return group.name


async def count_visibility(
    *, visibility_group_ids: list[int], product_ids: list[int], all_products: bool
) -> VisibilityCounts:
    """What a visibility selection shows (the wizard's "Hidden Products: 0 / Exclusive Products: 45").
    The standard group's products are always shown; `product_ids` are shown one by one."""
    per_group = dict(
        await Product.all()
        .group_by("visibility_group_id")
        .annotate(n=Count("id"))
        .values_list("visibility_group_id", "n")
    )
    standard = set(await VisibilityGroup.filter(is_standard=True).values_list("id", flat=True))
    total = sum(per_group.values())
    outside_standard = sum(n for gid, n in per_group.items() if gid not in standard)
    if all_products:
        return VisibilityCounts(visible=total, hidden=0, exclusive=outside_standard)
    shown_groups = standard | set(visibility_group_ids)
    visible = sum(per_group.get(gid, 0) for gid in shown_groups)
    exclusive = sum(per_group.get(gid, 0) for gid in shown_groups - standard)
    singles = sorted(set(product_ids))
    if singles:
        extra = await Product.filter(id__in=singles).exclude(visibility_group_id__in=list(shown_groups)).count()
        visible += extra
        exclusive += extra
    return VisibilityCounts(visible=visible, hidden=total - visible, exclusive=exclusive)


# --- Price lists ------------------------------------------------------------------------------


async def _price_list_counts(price_list_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(distinct products, rows) per price list."""
    if not price_list_ids:
        return {}
    rows = await (
        PriceListItem.filter(price_list_id__in=price_list_ids)
        .group_by("price_list_id")
        .annotate(n=Count("id"), products=Count("product_id", distinct=True))
        .values_list("price_list_id", "products", "n")
    )
    return {list_id: (products, n) for list_id, products, n in rows}


async def _price_list_users() -> dict[int, list[str]]:
    names = dict(await CustomerGroup.all().values_list("id", "name"))
    users: dict[int, list[str]] = {}
    for group_id, pricing in await GroupBenefits.all().values_list("group_id", "pricing"):
        list_id = (pricing or {}).get("price_list_id")
        if list_id is not None:
            users.setdefault(list_id, []).append(names.get(group_id, "a deleted group"))
    return {list_id: sorted(groups) for list_id, groups in users.items()}


async def list_price_lists() -> list[PriceListRow]:
    lists = await PriceList.all().order_by("name").values_list("id", "name", "description")
    counts = await _price_list_counts([i for i, *_ in lists])
    users = await _price_list_users()
    return [
        PriceListRow(i, name, description, *counts.get(i, (0, 0)), tuple(users.get(i, [])))
        for i, name, description in lists
    ]


async def get_price_list(*, price_list_id: int) -> PriceListDetail:
    price_list = await PriceList.get_or_none(id=price_list_id)
    if price_list is None:
        raise NotFoundError(f"There is no price list with id {price_list_id}.")
    products, rows = (await _price_list_counts([price_list_id])).get(price_list_id, (0, 0))
    users = (await _price_list_users()).get(price_list_id, [])
    return PriceListDetail(price_list.id, price_list.name, price_list.description, products, rows, tuple(users))


async def price_list_choices() -> list[Choice]:
    return [Choice(i, name) for i, name in await PriceList.all().order_by("name").values_list("id", "name")]


def _price_list_values(name: Any, description: Any, errors: dict[str, str]) -> tuple[str, str]:
    name = _clean_name(name, what="price list", errors=errors)
    description = str(description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Use at most {DESCRIPTION_MAX} characters."
    return name, description


async def create_price_list(*, name: str, description: str = "", actor: Acting) -> PriceListDetail:
    await require(actor, Permission.MANAGE_CATALOG)
    errors: dict[str, str] = {}
    name, description = _price_list_values(name, description, errors)
    await _unique_name(PriceList, name, exclude_id=None, what="price list", errors=errors)
    if errors:
        raise FormError(errors)
    try:
        price_list = await PriceList.create(name=name, description=description)
    except IntegrityError:
        raise FormError({"name": f'A price list named "{name}" already exists.'}) from None
    return await get_price_list(price_list_id=price_list.id)


async def update_price_list(*, price_list_id: int, name: str, description: str = "", actor: Acting) -> PriceListDetail:
    await require(actor, Permission.MANAGE_CATALOG)
    if not await PriceList.exists(id=price_list_id):
        raise NotFoundError("This price list was deleted meanwhile.")
    errors: dict[str, str] = {}
    name, description = _price_list_values(name, description, errors)
    await _unique_name(PriceList, name, exclude_id=price_list_id, what="price list", errors=errors)
    if errors:
        raise FormError(errors)
    try:
        await PriceList.filter(id=price_list_id).update(name=name, description=description)
    except IntegrityError:
        raise FormError({"name": f'A price list named "{name}" already exists.'}) from None
    return await get_price_list(price_list_id=price_list_id)


async def delete_price_list(*, price_list_id: int, actor: Acting) -> str:
    """Delete a price list and its prices; its name. Refused while a group's pricing uses it."""
    await require(actor, Permission.MANAGE_CATALOG)
    price_list = await PriceList.get_or_none(id=price_list_id)
    if price_list is None:
        raise NotFoundError("This price list was deleted meanwhile.")
    if users := await _benefit_users(price_list_id=price_list_id):
        raise FormError(
            {
                "price_list_id": f"The pricing of {_names_text(users)} uses {price_list.name}; choose another pricing there first."
            }
        )
    async with in_transaction("default"):
        await PriceListItem.filter(price_list_id=price_list_id).delete()
        await PriceList.filter(id=price_list_id).delete()
    return price_list.name


ITEM_VALUES = (
    "id",
    "price_list_id",
    "product_id",
    "product__sku",
    "product__name",
    "product__base_price_cents",
    "min_quantity",
    "price_cents",
)


def _item_row(values: dict) -> PriceListItemRow:
    return PriceListItemRow(
        id=values["id"],
        price_list_id=values["price_list_id"],
        product_id=values["product_id"],
        sku=values["product__sku"],
        product_name=values["product__name"],
        base_price_cents=values["product__base_price_cents"],
        min_quantity=values["min_quantity"],
        price_cents=values["price_cents"],
    )


async def list_price_list_items(
    *, price_list_id: int, search: str = "", page: int = 1, per_page: int = 25
) -> Page[PriceListItemRow]:
    """One page of a price list's rows, by product name and then quantity tier."""
    query = PriceListItem.filter(price_list_id=price_list_id)
    needle = " ".join(search.split())
    if needle:
        query = query.filter(Q(product__name__icontains=needle) | Q(product__sku__icontains=needle))
    offset, limit = page_bounds(page, per_page)
    total = await query.count()
    rows = (
        await query.order_by("product__name", "product_id", "min_quantity")
        .offset(offset)
        .limit(limit)
        .values(*ITEM_VALUES)
    )
    return Page(rows=[_item_row(r) for r in rows], total=total, page=max(page, 1), per_page=limit)


async def get_price_list_item(*, item_id: int) -> PriceListItemRow:
    rows = await PriceListItem.filter(id=item_id).values(*ITEM_VALUES)
    if not rows:
        raise NotFoundError("This price was deleted meanwhile.")
    return _item_row(rows[0])


async def _item_values(price_list_id: int, data: dict, *, item_id: int | None) -> dict:
    errors: dict[str, str] = {}
    product_id = data.get("product_id")
    product = await Product.get_or_none(id=product_id).values("name") if product_id is not None else None
    if product_id is None:
        errors["product_id"] = "Choose a product."
    elif product is None:
        errors["product_id"] = "This product no longer exists; choose another."

    raw_quantity = data.get("min_quantity")
    quantity = _whole(raw_quantity)
    if raw_quantity is None or raw_quantity == "":
        errors["min_quantity"] = "Enter the quantity from which this price applies (1 for every order)."
    elif quantity is None or quantity < 1:
        errors["min_quantity"] = "Enter a whole number of at least 1."

    raw_price = data.get("price_cents")
    price = _whole(raw_price)
    if raw_price is None or raw_price == "":
        errors["price_cents"] = "Enter the price."
    elif price is None:
        errors["price_cents"] = "Enter the price in whole cents."
    elif not 0 <= price <= PRICE_MAX_CENTS:
        errors["price_cents"] = await _price_out_of_range(price)

    if not errors:
        clash = (
            await PriceListItem.filter(price_list_id=price_list_id, product_id=product_id, min_quantity=quantity)
            .exclude(id=item_id or 0)
            .exists()
        )
        if clash:
            errors["min_quantity"] = (
                f"{product['name']} already has a price for {quantity:,}+ units on this list; edit that row instead."
            )
    if errors:
        raise FormError(errors)
    return {"product_id": product_id, "min_quantity": quantity, "price_cents": price}


async def add_price_list_item(*, price_list_id: int, data: dict, actor: Acting) -> PriceListItemRow:
    """A product's price on the list from `min_quantity` units on. `data`: product_id,
    min_quantity (1: every order), price_cents."""
    await require(actor, Permission.MANAGE_CATALOG)
    if not await PriceList.exists(id=price_list_id):
        raise NotFoundError("This price list was deleted meanwhile.")
    values = await _item_values(price_list_id, data, item_id=None)
    try:
        item = await PriceListItem.create(price_list_id=price_list_id, **values)
    except IntegrityError:
        raise FormError({"min_quantity": "This product already has a price for this quantity on the list."}) from None
    return await get_price_list_item(item_id=item.id)


async def update_price_list_item(*, item_id: int, data: dict, actor: Acting) -> PriceListItemRow:
    await require(actor, Permission.MANAGE_CATALOG)
    item = await PriceListItem.get_or_none(id=item_id)
    if item is None:
        raise NotFoundError("This price was deleted meanwhile.")
    values = await _item_values(item.price_list_id, data, item_id=item_id)
    try:
        await PriceListItem.filter(id=item_id).update(**values)
    except IntegrityError:
        raise FormError({"min_quantity": "This product already has a price for this quantity on the list."}) from None
    return await get_price_list_item(item_id=item_id)


async def delete_price_list_item(*, item_id: int, actor: Acting) -> PriceListItemRow:
    """Remove one price row; what it was."""
    await require(actor, Permission.MANAGE_CATALOG)
    row = await get_price_list_item(item_id=item_id)
    await PriceListItem.filter(id=item_id).delete()
    return row


# --- Products by SKU (imports and the API) ----------------------------------------------------

COST_NOTE = "What one unit costs you; reports use it for the net margin."
STANDARD_VISIBILITY_NAME = "Standard Products"  # made for an empty shop's first products


@dataclass(frozen=True)
class ProductData:
    """One product as a file row or an API call gives it, found by its SKU. None: not given, so
    what is saved stays (a new product needs a name, a category and a base price)."""

    sku: str
    name: str | None = None
    category: str | None = None  # by name: a category the shop does not have yet is created
    base_price_cents: int | None = None
    cost_cents: int | None = None
    clear_cost: bool = False  # the cost is to be forgotten (the API's "cost_cents": null)


@dataclass(frozen=True)
class SavedProduct:
    id: int
    name: str
    category: str
    base_price_cents: int
    cost_cents: int | None


@dataclass(frozen=True)
class ProductsSaved:
    created: int
    updated: int
    unchanged: int
    categories_created: tuple[str, ...]


def product_problems(data: ProductData) -> list[tuple[str, str]]:
    """What is wrong with one product's values as given, as (field, message); no database."""
    found: list[tuple[str, str]] = []
    if not data.sku:
        found.append(("sku", "Enter a SKU."))
    elif not SKU_PATTERN.fullmatch(data.sku):
        found.append(("sku", "Use up to 64 letters, digits, '.', '/', '-' or '_', starting with a letter or digit."))
    for key, value, what in (("name", data.name, "product"), ("category", data.category, "category")):
        if value is None:
            continue
        if HIDDEN.search(value):
            found.append(
                (key, "Contains hidden characters (such as tabs, line breaks or direction marks): remove them.")
            )
        elif len(value) > NAME_MAX[what]:
            found.append((key, f"Use at most {NAME_MAX[what]} characters."))
    for key, cents, label in (("base_price", data.base_price_cents, "base price"), ("cost", data.cost_cents, "cost")):
        if cents is not None and not 0 <= cents <= PRICE_MAX_CENTS:
            found.append((key, f"The {label} must be between 0 and {PRICE_MAX_CENTS // 100:,}."))
    return found


def new_product_problems(data: ProductData) -> list[tuple[str, str]]:
    """What a product the shop does not have yet lacks."""
    needed = (("name", data.name, "name"), ("category", data.category, "category"))
    found = [(key, f"A new product needs a {label}.") for key, value, label in needed if not value]
    if data.base_price_cents is None:
        found.append(("base_price", "A new product needs a base price."))
    return found


def product_data(sku: str, **given: Any) -> ProductData:
    """ProductData with the text tidied as it is saved: SKU in capitals, spaces folded."""
    folded = {key: " ".join(value.split()) if isinstance(value, str) else value for key, value in given.items()}
    return ProductData(sku=sku.strip().upper(), **folded)


async def saved_products(connection: BaseDBAsyncClient, skus: list[str]) -> dict[str, SavedProduct]:
    """The saved products among `skus`, by SKU (read in chunks: well under any parameter limit)."""
    saved: dict[str, SavedProduct] = {}
    for start in range(0, len(skus), 500):
        for row in (
            await Product.filter(sku__in=skus[start : start + 500])
            .using_db(connection)
            .values("id", "sku", "name", "category__name", "base_price_cents", "cost_cents")
        ):
            saved[row["sku"]] = SavedProduct(
                row["id"], row["name"], row["category__name"], row["base_price_cents"], row["cost_cents"]
            )
    return saved


def merged_product(data: ProductData, before: SavedProduct | None) -> SavedProduct:
    """The product as it will be saved (id 0 for a new one): given values over saved ones."""
    base = before or SavedProduct(0, "", "", 0, None)
    cost = None if data.clear_cost else base.cost_cents if data.cost_cents is None else data.cost_cents
    return SavedProduct(
        id=base.id,
        name=base.name if data.name is None else data.name,
        category=base.category if data.category is None else data.category,
        base_price_cents=base.base_price_cents if data.base_price_cents is None else data.base_price_cents,
        cost_cents=cost,
    )


def product_unchanged(after: SavedProduct, before: SavedProduct) -> bool:
    # A category named in other letters ("tools" for "Tools") is the same category.
    return replace(after, category=after.category.casefold()) == replace(before, category=before.category.casefold())


def _missing_categories(products: list[ProductData], known: set[str]) -> dict[str, str]:
    """The categories the products name that are not `known` (names folded), as first written."""
    wanted: dict[str, str] = {}
    for product in products:
        if product.category and product.category.casefold() not in known:
            wanted.setdefault(product.category.casefold(), product.category)
    return wanted


async def categories_to_create(products: list[ProductData]) -> tuple[str, ...]:
    """The categories saving these products would create, by name."""
    known = {name.casefold() for name in await Category.all().values_list("name", flat=True)}
    return tuple(sorted(_missing_categories(products, known).values(), key=str.casefold))


async def write_products(
    connection: BaseDBAsyncClient,
    products: list[ProductData],
    *,
    progress: Callable[[float], None] = lambda _: None,
) -> ProductsSaved:
    """Create and update checked products by SKU in the caller's transaction, set-based: missing
    categories in one insert, new products in batched inserts, changed ones in batched updates."""
    saved = await saved_products(connection, [p.sku for p in products])
    categories = {
        name.casefold(): (cid, name)
        for cid, name in await Category.all().using_db(connection).values_list("id", "name")
    }
    wanted = _missing_categories(products, set(categories))
    if wanted:
        await insert_rows(connection, Category, ("name",), [(name,) for name in wanted.values()])
        categories = {
            name.casefold(): (cid, name)
            for cid, name in await Category.all().using_db(connection).values_list("id", "name")
        }
    progress(0.2)
    new_rows: list[tuple] = []
    changed: list[list[Any]] = []
    visibility_group_id = None
    for product in products:
        before = saved.get(product.sku)
        after = merged_product(product, before)
        category_id = categories[after.category.casefold()][0]
        if before is None:
            visibility_group_id = visibility_group_id or await _standard_visibility_group(connection)
            new_rows.append(
                (product.sku, after.name, category_id, visibility_group_id, after.base_price_cents, after.cost_cents)
            )
        elif not product_unchanged(after, before):
            changed.append([after.name, category_id, after.base_price_cents, after.cost_cents, before.id])
    columns = ("sku", "name", "category_id", "visibility_group_id", "base_price_cents", "cost_cents")
    for first in range(0, len(new_rows), 5_000):
        await insert_rows(connection, Product, columns, new_rows[first : first + 5_000])
        progress(0.2 + 0.5 * min(first + 5_000, len(new_rows)) / len(new_rows))
    update = dialect_sql(
        connection,
        f"UPDATE {Product._meta.db_table} SET name = ?, category_id = ?, base_price_cents = ?, cost_cents = ? "
        "WHERE id = ?",
    )
    for first in range(0, len(changed), 5_000):
        await connection.execute_many(update, changed[first : first + 5_000])
        progress(0.7 + 0.3 * min(first + 5_000, len(changed)) / len(changed))
    return ProductsSaved(
        created=len(new_rows),
        updated=len(changed),
        unchanged=len(products) - len(new_rows) - len(changed),
        categories_created=tuple(sorted(wanted.values(), key=str.casefold)),
    )


async def _standard_visibility_group(connection: BaseDBAsyncClient) -> int:
    """The visibility group shown to every customer, where new products go; an empty shop gets one."""
    found = await VisibilityGroup.filter(is_standard=True).using_db(connection).first().values_list("id", flat=True)
    if found is None:
        found = (await VisibilityGroup.create(name=STANDARD_VISIBILITY_NAME, is_standard=True, using_db=connection)).id
    return found


async def upsert_products(*, products: list[ProductData], actor: Acting) -> ProductsSaved:
    """Create or update products by SKU (a known SKU updates that product, a new one creates it),
    all in one transaction or, when any has a problem, none: FormError with the problems keyed
    "<position>.<field>" (0 is the first product). Sending the same products again changes nothing."""
    await require(actor, Permission.MANAGE_CATALOG)
    errors: dict[str, str] = {}
    first: dict[str, int] = {}
    for position, product in enumerate(products):
        for key, message in product_problems(product):
            errors.setdefault(f"{position}.{key}", message)
        if product.sku in first:
            errors.setdefault(f"{position}.sku", f"The SKU {product.sku} is also given at {first[product.sku]}.")
        first.setdefault(product.sku, position)
    if errors:
        raise FormError(errors)
    async with in_transaction(BACKGROUND) as connection:
        saved = await saved_products(connection, list(first))
        for position, product in enumerate(products):
            if product.sku not in saved:
                for key, message in new_product_problems(product):
                    errors.setdefault(f"{position}.{key}", message)
        if errors:
            raise FormError(errors)
        return await write_products(connection, products)


async def get_product_by_sku(*, sku: str) -> ProductRow:
    rows = await Product.filter(sku=sku.strip().upper()).values(*PRODUCT_VALUES)
    if not rows:
        raise NotFoundError(f"There is no product with the SKU {sku.strip().upper()}.")
    return _product_row(rows[0])
