"""Roles and permissions, enforced by the services (issue 8): a viewer reads, a manager runs the
groups but not the settings or the staff, an owner does everything; every refusal names the missing
permission and changes nothing. Also the staff rules: nobody grants more than they have, the last
owner stays, a demoted or deactivated person acts with what their account has now, and guessing
passwords of one account gets nowhere fast (tests/unit/test_sign_in.py has the rest of signing in). On
a real database."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models.audit import ApiToken
from models.benefits import GroupBenefits
from models.catalog import Category, PriceList, PriceListItem, Product, VisibilityGroup
from models.customer import Customer, CustomerTag
from models.group import CustomerGroup, Membership, MembershipEvent, MembershipExclusion, RuleVersion
from models.promotion import Promotion, PromotionTarget
from models.shop import BackupRun
from models.shop import Shop as ShopRow
from models.staff import LoginAttempt, Role, StaffUser
from services import catalog
from services.benefits.hierarchy import move_group, set_inheritance
from services.benefits.sections import save_benefits
from services.customers import create_customer, update_customer
from services.errors import FormError, PermissionDeniedError
from services.groups.group import create_group, delete_group, get_group, turn_hybrid, update_group
from services.groups.rule_versions import restore_rule_version
from services.imports.customers import import_customers
from services.imports.files import ImportKind, read_csv, suggest_mapping
from services.imports.memberships import import_memberships
from services.membership.changes import AddMode, RemoveMode, add_members, add_to_groups, lift_exclusions, remove_members
from services.promotions import create_promotion, delete_promotion, update_promotion
from services.rules.runs import apply_rule, apply_rule_with_readers, run_all_rules
from services.shop import update_settings
from services.staff.accounts import authenticate, change_role, create_first_owner, create_user, list_staff, set_active
from services.staff.actor import DEACTIVATED, ROLE_PERMISSIONS, SYSTEM, Actor, Permission, SystemActor
from services.staff.tokens import create_token, revoke_token
from services.storage.daily_backups import BackupPlace, take_backup, update_backup_settings
from services.storage.database import close_database, open_database
from tests.conftest import ShopTemplate, discard

PASSWORD = "correct horse battery"


def spending_at_least(dollars: int) -> dict:
    return {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": dollars * 100}]}


@dataclass
class Shop:
    owner: Actor
    manager: Actor
    viewer: Actor
    ada: int  # $5,000 lifetime, in Retail
    ben: int  # $6,000 lifetime, kept out of VIP by hand
    retail: int  # manual, the promotion's target
    vip: int  # hybrid under Retail, rule version 2 of 2
    big: int  # automatic
    category: int  # used by the product
    spare_category: int
    standard: int  # the standard visibility group
    spare_visibility: int
    product: int
    price_list: int
    item: int
    promotion: int
    token: int  # the owner's API token
    backups: BackupPlace | None = None  # the test's own database and backup folder (set per test)


async def _staff(owner: Actor, name: str, role: Role) -> Actor:
    email = f"{name.split()[0].lower()}@example.com"
    row = await create_user(email=email, name=name, password=PASSWORD, role=role, actor=owner)
    return Actor(id=row.id, name=row.name, email=row.email, role=row.role)


async def _build_shop() -> Shop:
    await ShopRow.create(name="Test shop")
    owner = await create_first_owner(email="olivia@example.com", name="Olivia Owner", password=PASSWORD)
    manager = await _staff(owner, "Max Manager", Role.MANAGER)
    viewer = await _staff(owner, "Vera Viewer", Role.VIEWER)
    joined = datetime(2024, 1, 1, tzinfo=UTC)
    ada = await Customer.create(name="Ada", email="ada@example.com", created_at=joined, lifetime_cents=500_000)
    ben = await Customer.create(name="Ben", email="ben@example.com", created_at=joined, lifetime_cents=600_000)
    retail = (await create_group(data={"name": "Retail", "code": "RETAIL"}, actor=SYSTEM)).id
    await add_members(group_id=retail, customer_ids=[ada.id], mode=AddMode.ADD, actor=SYSTEM)
    vip = await create_group(
        data={"name": "VIP", "code": "VIP", "type": "hybrid", "rule": spending_at_least(1_000), "parent_id": retail},
        actor=SYSTEM,
    )
    data = vip.as_input()
    data.rule = spending_at_least(2_000)
    await update_group(group_id=vip.id, version=vip.version, data=data, actor=SYSTEM)
    await remove_members(group_id=vip.id, customer_ids=[ben.id], mode=RemoveMode.REMOVE, actor=SYSTEM)
    big = await create_group(
        data={"name": "Big spenders", "code": "BIG", "type": "automatic", "rule": spending_at_least(5_500)},
        actor=SYSTEM,
    )
    category = await catalog.create_category(name="Tools", actor=SYSTEM)
    spare_category = await catalog.create_category(name="Spare", actor=SYSTEM)
    standard = await catalog.create_visibility_group(name="Standard", actor=SYSTEM)
    spare_visibility = await catalog.create_visibility_group(name="Early access", actor=SYSTEM)
    product = await catalog.create_product(
        data={"sku": "D-1", "name": "Drill", "category_id": category.id, "base_price_cents": 10_000}, actor=SYSTEM
    )
    price_list = await catalog.create_price_list(name="Wholesale", actor=SYSTEM)
    item = await catalog.add_price_list_item(
        price_list_id=price_list.id,
        data={"product_id": product.id, "min_quantity": 1, "price_cents": 9_000},
        actor=SYSTEM,
    )
    promotion = await create_promotion(data=spring_sale(retail), actor=SYSTEM)
    token, _ = await create_token(actor=owner, name="Shop sync")
    return Shop(
        owner=owner,
        manager=manager,
        viewer=viewer,
        ada=ada.id,
        ben=ben.id,
        retail=retail,
        vip=vip.id,
        big=big.id,
        category=category.id,
        spare_category=spare_category.id,
        standard=standard.id,
        spare_visibility=spare_visibility.id,
        product=product.id,
        price_list=price_list.id,
        item=item.id,
        promotion=promotion.id,
        token=token.id,
    )


@pytest.fixture(scope="module")
def shop_template(
    empty_shop: ShopTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ShopTemplate, Shop]]:
    """The shop `_build_shop` makes, built once (password hashing is slow on purpose); each test gets a copy."""
    url = empty_shop.copy(tmp_path_factory.mktemp("permissions"))

    async def build() -> Shop:
        await open_database(database_url=url)
        try:
            return await _build_shop()
        finally:
            await close_database()

    yield ShopTemplate(url), asyncio.run(build())
    discard(url)


@pytest.fixture
async def shop(shop_template: tuple[ShopTemplate, Shop], tmp_path: Path) -> AsyncIterator[Shop]:
    template, built = shop_template
    url = template.copy(tmp_path)
    await open_database(database_url=url)
    yield dataclasses.replace(built, backups=BackupPlace(database_url=url, default_folder=tmp_path / "backups"))
    await close_database()
    discard(url)


def spring_sale(*targets: int, **changes) -> dict:
    return {
        "name": "Spring Sale",
        "type": "additional_discount",
        "status": "draft",
        "target_group_ids": list(targets),
        "percent": 10,
        **changes,
    }


MODELS = (
    ShopRow,
    StaffUser,
    Customer,
    CustomerTag,
    CustomerGroup,
    Membership,
    MembershipEvent,
    MembershipExclusion,
    RuleVersion,
    GroupBenefits,
    Promotion,
    PromotionTarget,
    Category,
    VisibilityGroup,
    Product,
    PriceList,
    PriceListItem,
    ApiToken,
    BackupRun,
)


async def database() -> dict[str, list]:
    """Every row the app's actions can write, to compare before and after a refusal."""
    return {model.__name__: await model.all().order_by("id").values() for model in MODELS}


# --- Every mutating service, as one call that succeeds for the owner on the shop above ---------

Action = Callable[[Shop, Actor], Awaitable[object]]


async def _edit_group(s: Shop, actor: Actor) -> None:
    group = await get_group(group_id=s.retail)
    data = group.as_input()
    data.description = "Walk-in customers"
    await update_group(group_id=s.retail, version=group.version, data=data, actor=actor)


async def _restore(s: Shop, actor: Actor) -> None:
    group = await get_group(group_id=s.vip)
    await restore_rule_version(group_id=s.vip, number=1, version=group.version, actor=actor)


async def _import_customers(s: Shop, actor: Actor) -> None:
    file = await read_csv(data=b"Email,Name\nzoe@example.com,Zoe\n")
    mapping = suggest_mapping(headers=file.headers, kind=ImportKind.CUSTOMERS)
    await import_customers(file=file, mapping=mapping, actor=actor)


async def _import_memberships(s: Shop, actor: Actor) -> None:
    file = await read_csv(data=b"Customer email,Group code\nben@example.com,RETAIL\n")
    mapping = suggest_mapping(headers=file.headers, kind=ImportKind.MEMBERSHIPS)
    await import_memberships(file=file, mapping=mapping, actor=actor)


NEW_PRODUCT = {"sku": "H-1", "name": "Hammer", "base_price_cents": 2_000}

ACTIONS: dict[str, tuple[Permission, Action]] = {
    "create_group": (
        Permission.MANAGE_GROUPS,
        lambda s, a: create_group(data={"name": "Wholesale", "code": "WHOLESALE"}, actor=a),
    ),
    "update_group": (Permission.MANAGE_GROUPS, _edit_group),
    "delete_group": (Permission.MANAGE_GROUPS, lambda s, a: delete_group(group_id=s.retail, actor=a)),
    "turn_hybrid": (Permission.MANAGE_GROUPS, lambda s, a: turn_hybrid(group_id=s.big, actor=a)),
    "move_group": (Permission.MANAGE_GROUPS, lambda s, a: move_group(group_id=s.vip, parent_id=None, actor=a)),
    "add_members": (
        Permission.MANAGE_MEMBERS,
        lambda s, a: add_members(group_id=s.retail, customer_ids=[s.ben], mode=AddMode.ADD, actor=a),
    ),
    "add_to_groups": (
        Permission.MANAGE_MEMBERS,
        lambda s, a: add_to_groups(members_by_group={s.retail: [s.ben]}, mode=AddMode.ADD, actor=a),
    ),
    "remove_members": (
        Permission.MANAGE_MEMBERS,
        lambda s, a: remove_members(group_id=s.retail, customer_ids=[s.ada], mode=RemoveMode.REMOVE, actor=a),
    ),
    "lift_exclusions": (
        Permission.MANAGE_MEMBERS,
        lambda s, a: lift_exclusions(group_id=s.vip, customer_ids=[s.ben], actor=a),
    ),
    "import_memberships": (Permission.MANAGE_MEMBERS, _import_memberships),
    "apply_rule": (Permission.MANAGE_RULES, lambda s, a: apply_rule(group_id=s.vip, actor=a)),
    "apply_rule_with_readers": (Permission.MANAGE_RULES, lambda s, a: apply_rule_with_readers(group_id=s.vip, actor=a)),
    "run_all_rules": (Permission.MANAGE_RULES, lambda s, a: run_all_rules(actor=a)),
    "restore_rule_version": (Permission.MANAGE_RULES, _restore),
    "save_benefits": (
        Permission.MANAGE_BENEFITS,
        lambda s, a: save_benefits(group_id=s.retail, sections={"payment": {"net_days": 30}}, actor=a),
    ),
    "set_inheritance": (
        Permission.MANAGE_BENEFITS,
        lambda s, a: set_inheritance(group_id=s.vip, section="pricing", inherit=False, actor=a),
    ),
    "create_product": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.create_product(data={**NEW_PRODUCT, "category_id": s.category}, actor=a),
    ),
    "update_product": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.update_product(
            product_id=s.product, data={**NEW_PRODUCT, "sku": "D-1", "category_id": s.category}, actor=a
        ),
    ),
    "delete_product": (Permission.MANAGE_CATALOG, lambda s, a: catalog.delete_product(product_id=s.product, actor=a)),
    "create_category": (Permission.MANAGE_CATALOG, lambda s, a: catalog.create_category(name="Garden", actor=a)),
    "update_category": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.update_category(category_id=s.category, name="Power tools", actor=a),
    ),
    "delete_category": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.delete_category(category_id=s.spare_category, actor=a),
    ),
    "create_visibility_group": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.create_visibility_group(name="Trade only", actor=a),
    ),
    "update_visibility_group": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.update_visibility_group(
            visibility_group_id=s.standard, name="Everyday", is_standard=True, actor=a
        ),
    ),
    "delete_visibility_group": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.delete_visibility_group(visibility_group_id=s.spare_visibility, actor=a),
    ),
    "create_price_list": (Permission.MANAGE_CATALOG, lambda s, a: catalog.create_price_list(name="Trade", actor=a)),
    "update_price_list": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.update_price_list(price_list_id=s.price_list, name="Contract", actor=a),
    ),
    "delete_price_list": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.delete_price_list(price_list_id=s.price_list, actor=a),
    ),
    "add_price_list_item": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.add_price_list_item(
            price_list_id=s.price_list,
            data={"product_id": s.product, "min_quantity": 10, "price_cents": 8_000},
            actor=a,
        ),
    ),
    "update_price_list_item": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.update_price_list_item(
            item_id=s.item, data={"product_id": s.product, "min_quantity": 1, "price_cents": 8_500}, actor=a
        ),
    ),
    "delete_price_list_item": (
        Permission.MANAGE_CATALOG,
        lambda s, a: catalog.delete_price_list_item(item_id=s.item, actor=a),
    ),
    "create_promotion": (
        Permission.MANAGE_PROMOTIONS,
        lambda s, a: create_promotion(data=spring_sale(s.retail, name="Summer Sale"), actor=a),
    ),
    "update_promotion": (
        Permission.MANAGE_PROMOTIONS,
        lambda s, a: update_promotion(
            promotion_id=s.promotion, version=1, data=spring_sale(s.retail, percent=15), actor=a
        ),
    ),
    "delete_promotion": (
        Permission.MANAGE_PROMOTIONS,
        lambda s, a: delete_promotion(promotion_id=s.promotion, actor=a),
    ),
    "import_customers": (Permission.MANAGE_CUSTOMERS, _import_customers),
    "create_customer": (
        Permission.MANAGE_CUSTOMERS,
        lambda s, a: create_customer(data={"email": "zoe@example.com", "name": "Zoe"}, actor=a),
    ),
    "update_customer": (
        Permission.MANAGE_CUSTOMERS,
        lambda s, a: update_customer(customer_id=s.ada, data={"name": "Ada Lovelace"}, actor=a),
    ),
    "update_settings": (
        Permission.MANAGE_SETTINGS,
        lambda s, a: update_settings(one_group_per_customer=False, default_group_id=s.retail, actor=a),
    ),
    "update_backup_settings": (
        Permission.MANAGE_SETTINGS,
        lambda s, a: update_backup_settings(enabled=True, keep=7, folder="", place=s.backups, actor=a),
    ),
    "take_backup": (Permission.MANAGE_SETTINGS, lambda s, a: take_backup(place=s.backups, actor=a)),
    "create_user": (
        Permission.MANAGE_STAFF,
        lambda s, a: create_user(email="nina@example.com", name="Nina", password=PASSWORD, role=Role.VIEWER, actor=a),
    ),
    "change_role": (
        Permission.MANAGE_STAFF,
        lambda s, a: change_role(user_id=s.viewer.id, role=Role.MANAGER, actor=a),
    ),
    "set_active": (Permission.MANAGE_STAFF, lambda s, a: set_active(user_id=s.viewer.id, active=False, actor=a)),
    "list_staff": (Permission.MANAGE_STAFF, lambda s, a: list_staff(actor=a)),
    "revoke_token": (Permission.MANAGE_STAFF, lambda s, a: revoke_token(actor=a, token_id=s.token)),  # the owner's
}
READS_ONLY = {"list_staff"}  # gated like a change, but writes nothing
LABELS = {
    Permission.MANAGE_GROUPS: "Manage groups",
    Permission.MANAGE_MEMBERS: "Manage members",
    Permission.MANAGE_RULES: "Manage rules",
    Permission.MANAGE_BENEFITS: "Manage benefits",
    Permission.MANAGE_CATALOG: "Manage catalog",
    Permission.MANAGE_PROMOTIONS: "Manage promotions",
    Permission.MANAGE_CUSTOMERS: "Manage customers",
    Permission.MANAGE_SETTINGS: "Manage settings",
    Permission.MANAGE_STAFF: "Manage staff",
}


def refusal(permission: Permission, role: str) -> str:
    return (
        f'You need the "{LABELS[permission]}" permission for this; your role ({role}) does not have it. '
        "Ask the shop's owner."
    )


@pytest.mark.parametrize("name", ACTIONS)
async def test_a_viewer_is_refused_every_change_with_the_permission_named_and_nothing_changes(shop, name):
    permission, action = ACTIONS[name]
    before = await database()
    with pytest.raises(PermissionDeniedError) as refused:
        await action(shop, shop.viewer)
    assert str(refused.value) == refusal(permission, "Viewer")
    assert await database() == before


@pytest.mark.parametrize("name", ACTIONS)
async def test_an_owner_may_do_everything(shop, name):
    _, action = ACTIONS[name]
    before = await database()
    await action(shop, shop.owner)
    assert name in READS_ONLY or await database() != before


@pytest.mark.parametrize("name", ACTIONS)
async def test_a_manager_runs_the_groups_but_not_the_settings_or_the_staff(shop, name):
    permission, action = ACTIONS[name]
    if permission in (Permission.MANAGE_SETTINGS, Permission.MANAGE_STAFF):
        before = await database()
        with pytest.raises(PermissionDeniedError) as refused:
            await action(shop, shop.manager)
        assert str(refused.value) == refusal(permission, "Manager")
        assert await database() == before
    else:
        before = await database()
        await action(shop, shop.manager)
        assert await database() != before


async def test_the_history_records_the_persons_name(shop):
    await add_members(group_id=shop.retail, customer_ids=[shop.ben], mode=AddMode.ADD, actor=shop.manager)
    await remove_members(
        group_id=shop.vip, customer_ids=[shop.ada], mode=RemoveMode.REMOVE, actor=shop.manager, reason="Asked"
    )
    await _restore(shop, shop.owner)
    joined = await MembershipEvent.filter(group_id=shop.retail, customer_id=shop.ben).values_list("actor", flat=True)
    assert joined == ["Max Manager"]
    assert await MembershipExclusion.filter(group_id=shop.vip, customer_id=shop.ada).values_list(
        "actor", flat=True
    ) == ["Max Manager"]
    latest = await RuleVersion.filter(group_id=shop.vip).order_by("-number").first()
    assert (latest.author, latest.note) == ("Olivia Owner", "Restored from version 1")


async def test_the_apps_own_work_is_not_checked(shop):
    # Demo seeding, the rule refresh, the command line act as a named SystemActor, trusted.
    await update_settings(one_group_per_customer=False, default_group_id=shop.retail, actor=SYSTEM)
    assert (await run_all_rules(actor=SystemActor("rule refresh")))[0].group_name


async def test_a_bare_name_cannot_act(shop):
    # A stray string is not the app: it is refused before anything is read or written.
    before = await CustomerGroup.all().count()
    with pytest.raises(TypeError, match="Actor or a SystemActor"):
        await create_group(data={"name": "Sneaky", "code": "SNEAKY"}, actor="olivia")
    assert await CustomerGroup.all().count() == before


# --- Staff accounts ---------------------------------------------------------------------------


async def test_nobody_grants_a_role_with_permissions_they_lack(shop, monkeypatch):
    # With today's roles only the owner manages staff, and an owner has every permission; so give
    # managers staff management to see the rule itself.
    with pytest.raises(PermissionDeniedError, match='"Manage staff"'):
        await create_user(email="nina@example.com", name="Nina", password=PASSWORD, role=Role.OWNER, actor=shop.manager)
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.MANAGER, ROLE_PERMISSIONS[Role.MANAGER] | {Permission.MANAGE_STAFF})
    before = await database()
    with pytest.raises(PermissionDeniedError) as created:
        await create_user(email="nina@example.com", name="Nina", password=PASSWORD, role=Role.OWNER, actor=shop.manager)
    assert str(created.value) == "You cannot give the Owner role: it has permissions you lack."
    with pytest.raises(PermissionDeniedError) as promoted:
        await change_role(user_id=shop.viewer.id, role=Role.OWNER, actor=shop.manager)
    assert str(promoted.value) == "You cannot give the Owner role: it has permissions you lack."
    assert await database() == before
    # What they have themselves they may give.
    nina = await create_user(
        email="nina@example.com", name="Nina", password=PASSWORD, role=Role.MANAGER, actor=shop.manager
    )
    assert (await change_role(user_id=nina.id, role=Role.VIEWER, actor=shop.manager)).role == Role.VIEWER


async def test_the_last_owner_can_be_neither_demoted_nor_deactivated(shop):
    with pytest.raises(FormError) as demoted:
        await change_role(user_id=shop.owner.id, role=Role.MANAGER, actor=shop.owner)
    assert demoted.value.errors == {"role": "Olivia Owner is the last owner: make someone else owner first."}
    with pytest.raises(FormError) as deactivated:
        await set_active(user_id=shop.owner.id, active=False, actor=shop.owner)
    assert deactivated.value.errors == {"role": "Olivia Owner is the last owner: make someone else owner first."}
    assert await StaffUser.filter(role=Role.OWNER, active=True).count() == 1

    # With a second owner, either may step down.
    await change_role(user_id=shop.manager.id, role=Role.OWNER, actor=shop.owner)
    assert (await change_role(user_id=shop.owner.id, role=Role.MANAGER, actor=shop.owner)).role == Role.MANAGER
    with pytest.raises(FormError, match="last owner"):
        await set_active(user_id=shop.manager.id, active=False, actor=SYSTEM)


async def test_logins_are_throttled_after_five_failures_for_an_account(shop):
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for minute in range(5):
        with pytest.raises(FormError) as wrong:
            await authenticate(
                email="olivia@example.com", password="guess", address="10.0.0.1", now=now + timedelta(minutes=minute)
            )
        assert wrong.value.errors == {"password": "The email or password is not right."}
    # The right password no longer helps, from any address, until the window has passed.
    with pytest.raises(FormError) as throttled:
        await authenticate(email="olivia@example.com", password=PASSWORD, address="10.0.0.2", now=now.replace(minute=6))
    assert throttled.value.errors == {"password": "Too many failed attempts. Wait 15 minutes, then try again."}
    # Other accounts are not held up.
    assert (await authenticate(email="max@example.com", password=PASSWORD, address="10.0.0.1", now=now)).name == (
        "Max Manager"
    )
    later = now + timedelta(minutes=20)
    signed_in = await authenticate(email=" Olivia@Example.com ", password=PASSWORD, address="10.0.0.1", now=later)
    assert signed_in == shop.owner
    assert await LoginAttempt.filter(email="olivia@example.com").count() == 0


async def test_a_demoted_or_deactivated_person_acts_with_their_account_as_it_is_now(shop):
    # Max's page was opened while he was a manager: it still holds that Actor.
    max_as_signed_in = shop.manager
    await change_role(user_id=max_as_signed_in.id, role=Role.VIEWER, actor=shop.owner)
    before = await database()
    with pytest.raises(PermissionDeniedError) as refused:
        await add_members(group_id=shop.retail, customer_ids=[shop.ben], mode=AddMode.ADD, actor=max_as_signed_in)
    assert str(refused.value) == refusal(Permission.MANAGE_MEMBERS, "Viewer")
    assert await database() == before

    # Made a manager again he may; deactivated he may do nothing at all.
    await change_role(user_id=max_as_signed_in.id, role=Role.MANAGER, actor=shop.owner)
    await add_members(group_id=shop.retail, customer_ids=[shop.ben], mode=AddMode.ADD, actor=max_as_signed_in)
    await set_active(user_id=max_as_signed_in.id, active=False, actor=shop.owner)
    before = await database()
    for action in (
        lambda: delete_group(group_id=shop.retail, actor=max_as_signed_in),
        lambda: create_token(actor=max_as_signed_in, name="Leaving present"),
    ):
        with pytest.raises(PermissionDeniedError) as refused:
            await action()
        assert (
            str(refused.value)
            == DEACTIVATED
            == "Your account was deactivated, so this was not done. Ask the shop's owner."
        )
    assert await database() == before

    # An owner demoted on another page cannot still manage the staff from the page they had open.
    await set_active(user_id=max_as_signed_in.id, active=True, actor=shop.owner)
    await change_role(user_id=max_as_signed_in.id, role=Role.OWNER, actor=shop.owner)
    olivia_as_signed_in = shop.owner
    await change_role(user_id=olivia_as_signed_in.id, role=Role.MANAGER, actor=max_as_signed_in)
    with pytest.raises(PermissionDeniedError) as refused:
        await change_role(user_id=max_as_signed_in.id, role=Role.VIEWER, actor=olivia_as_signed_in)
    assert str(refused.value) == refusal(Permission.MANAGE_STAFF, "Manager")
