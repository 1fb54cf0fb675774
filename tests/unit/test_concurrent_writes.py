"""Two people at once, or a person and a background rule run or import: each save either lands or
is refused on purpose ("changed meanwhile", "the group is full"), never with "database is locked",
and the data adds up afterwards. On SQLite and, in `.ci/postgres`, on PostgreSQL."""

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from itertools import count

import pytest
from tortoise.exceptions import TransactionManagementError
from tortoise.transactions import in_transaction

from models.customer import Customer
from models.group import CustomerGroup, Membership
from models.promotion import Promotion
from services.errors import ChangedMeanwhileError, FormError, NotFoundError
from services.groups.group import create_group, delete_group, get_group, update_group
from services.imports.customers import import_customers
from services.imports.files import read_csv, suggest_mapping
from services.membership.changes import AddMode, add_members
from services.promotions import get_promotion, update_promotion
from services.rules.runs import apply_rule
from services.staff.actor import SystemActor
from services.storage.database import background_connection, close_database, open_database
from services.storage.sqlite_writers import WriteOnAnotherConnectionError

ROUNDS = 20
ACTOR = SystemActor("anna")

Write = Callable[[int], Awaitable[object]]


class Shop:
    """The demo shop's groups the writers work on, found by code."""

    def __init__(self, groups: dict[str, int]) -> None:
        self.groups = groups
        self.outsiders = count()  # customers not yet in Wholesale, handed out one round at a time

    @classmethod
    async def open(cls) -> "Shop":
        return cls(dict(await CustomerGroup.all().values_list("code", "id")))


def deliberate(error: BaseException) -> bool:
    """A refusal the person is meant to see: someone else saved first, the group went away or
    filled up meanwhile."""
    if isinstance(error, ChangedMeanwhileError | NotFoundError):
        return True
    return isinstance(error, FormError) and set(error.errors) <= {"capacity", "group"}


# --- The owner's edits ------------------------------------------------------------------------


def edit_a_group(shop: Shop) -> Write:
    async def write(round_: int) -> None:
        group_id = shop.groups["VIP"]
        group = await get_group(group_id=group_id)
        data = group.as_input().model_copy(update={"description": f"Edited in round {round_}"})
        await update_group(group_id=group_id, version=group.version, data=data, actor=ACTOR)

    return write


def delete_a_group(shop: Shop) -> Write:
    async def write(round_: int) -> None:
        await delete_group(group_id=shop.groups[f"GONE-{round_}"], actor=ACTOR)

    return write


def edit_a_promotion(shop: Shop) -> Write:
    async def write(round_: int) -> None:
        promotion_id = await Promotion.filter(name="VIP Spring Sale").first().values_list("id", flat=True)
        promotion = await get_promotion(promotion_id=promotion_id)
        data = promotion.as_input().model_copy(update={"percent": 10 + round_ % 5})
        await update_promotion(promotion_id=promotion_id, version=promotion.version, data=data, actor=ACTOR)

    return write


def lower_the_capacity(shop: Shop) -> Write:
    """Wholesale, without a limit before each round, is capped at the members it has: the add
    beside it either comes first (the cap is refused, or set above it) or finds the group full."""

    async def write(round_: int) -> None:
        group_id = shop.groups["WHOLESALE"]
        group = await get_group(group_id=group_id)
        data = group.as_input().model_copy(update={"capacity": group.members})
        await update_group(group_id=group_id, version=group.version, data=data, actor=ACTOR)

    return write


# --- What writes beside them ------------------------------------------------------------------


def add_members_to_wholesale(shop: Shop) -> Write:
    async def write(round_: int) -> None:
        group_id = shop.groups["WHOLESALE"]
        members = await Membership.filter(group_id=group_id).values_list("customer_id", flat=True)
        outsiders = await Customer.exclude(id__in=members).order_by("id").limit(1).values_list("id", flat=True)
        await add_members(group_id=group_id, customer_ids=outsiders, mode=AddMode.ADD, actor=ACTOR)

    return write


def run_a_rule(shop: Shop) -> Write:
    async def write(round_: int) -> None:
        await apply_rule(group_id=shop.groups["GOLD"], actor=ACTOR)

    return write


def import_customers_file(shop: Shop) -> Write:
    async def write(round_: int) -> None:
        rows = "\n".join(f"Importer {n} round {round_},importer{n}@example.com" for n in range(5))
        file = await read_csv(data=f"name,email\n{rows}\n".encode())
        await import_customers(file=file, mapping=suggest_mapping(headers=file.headers), actor=ACTOR)

    return write


EDITS = {
    "group update": edit_a_group,
    "group delete": delete_a_group,
    "promotion update": edit_a_promotion,
    "capacity change": lower_the_capacity,
}
BESIDE = {"adds": add_members_to_wholesale, "rule runs": run_a_rule, "an import": import_customers_file}


async def the_data_adds_up() -> None:
    counts = dict(await CustomerGroup.all().values_list("id", "member_count"))
    held: dict[int, int] = {}
    for group_id in await Membership.all().values_list("group_id", flat=True):
        held[group_id] = held.get(group_id, 0) + 1
    assert set(held) <= set(counts), "memberships of a deleted group"
    assert {gid: held.get(gid, 0) for gid in counts} == counts
    for group in await CustomerGroup.exclude(capacity=None):
        assert counts[group.id] <= group.capacity, f"{group.name} holds more members than its capacity"


@pytest.mark.parametrize("beside", BESIDE)
@pytest.mark.parametrize("edit", EDITS)
async def test_two_writers_at_once_both_land_or_one_is_told_why(demo_db, edit, beside):
    shop = await Shop.open()
    if edit == "group delete":
        for round_ in range(ROUNDS):
            made = await create_group(data={"name": f"Gone {round_}", "code": f"GONE-{round_}"}, actor=ACTOR)
            shop.groups[made.code] = made.id
    first, second = EDITS[edit](shop), BESIDE[beside](shop)
    failures: list[str] = []
    for round_ in range(ROUNDS):
        await CustomerGroup.filter(code="WHOLESALE").update(capacity=None)
        for outcome in await asyncio.gather(first(round_), second(round_), return_exceptions=True):
            if isinstance(outcome, BaseException) and not deliberate(outcome):
                failures.append(f"round {round_}: {type(outcome).__name__}: {outcome}")
    assert failures == []
    await the_data_adds_up()
    if edit == "group update":
        assert (await get_group(group_id=shop.groups["VIP"])).description.startswith("Edited in round")
    if edit == "group delete":
        assert not await CustomerGroup.filter(code__startswith="GONE-").exists()
    if beside == "an import":
        assert await Customer.filter(email__startswith="importer").count() == 5


async def test_a_write_queued_behind_a_long_one_waits_its_turn(demo_db):
    """A rule run of a large group can hold the write lock for seconds; an edit waits behind it."""
    shop = await Shop.open()
    edit = edit_a_group(shop)
    outcomes = await asyncio.gather(
        *(run_a_rule(shop)(n) for n in range(3)), *(edit(n) for n in range(3)), return_exceptions=True
    )
    assert [o for o in outcomes if isinstance(o, BaseException) and not deliberate(o)] == []
    await the_data_adds_up()


@pytest.mark.sqlite_only
async def test_a_write_refused_because_another_program_holds_the_file_leaves_the_app_working(empty_template, tmp_path):
    """Another program (a `sqlite3` shell, a restore) holds the write lock past the busy timeout:
    that one save fails, and the next reads and saves work as soon as the file is free."""
    path = tmp_path / "shop.sqlite3"
    path.write_bytes(empty_template.read_bytes())
    await open_database(database_url=f"sqlite://{path}?journal_mode=WAL&busy_timeout=200")
    try:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(TransactionManagementError):
            await create_group(data={"name": "Trade", "code": "TRADE"}, actor=ACTOR)
        other.rollback()
        other.close()
        assert await asyncio.wait_for(CustomerGroup.all().count(), timeout=5) == 0
        await asyncio.wait_for(create_group(data={"name": "Trade", "code": "TRADE"}, actor=ACTOR), timeout=5)
        assert await CustomerGroup.filter(code="TRADE").count() == 1
    finally:
        await close_database()


@pytest.mark.sqlite_only
async def test_writing_on_a_second_connection_inside_a_transaction_is_refused_and_rolled_back(db):
    with pytest.raises(WriteOnAnotherConnectionError):
        async with in_transaction("default"):
            await CustomerGroup.create(name="Half", name_key="half", code="HALF")
            await CustomerGroup.create(name="Other", name_key="other", code="OTHER", using_db=background_connection())
    async with in_transaction("default"):
        await CustomerGroup.create(name="Whole", name_key="whole", code="WHOLE")
    assert await CustomerGroup.all().values_list("code", flat=True) == ["WHOLE"]
