"""A Hypothesis state machine over adding, moving, removing, rule runs and deleting groups.

Whatever the owner does, in whatever order: with "one group per customer" on, nobody is ever in
two groups; a refused action changes nothing; every customer with a group has exactly one primary
group; each group's stored member count is right; and the event history replays to exactly the
memberships there are (nothing changes without its event)."""

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from models.customer import Customer, CustomerStatus
from models.group import CustomerGroup, Membership, MembershipAction, MembershipEvent
from models.shop import Shop
from services.errors import FormError, NotFoundError
from services.groups.group import create_group, delete_group
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.orders import record_order
from services.rules.runs import run_all_rules
from services.staff.actor import SystemActor
from services.storage.database import close_database, open_database
from tests.conftest import ShopTemplate, discard

ACTOR = SystemActor("machine")
CUSTOMERS = 6
# Customers 0-2 spend enough for the rule-based groups; customer 5 is blocked.
RULE = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 100_000}]}
KINDS = ["manual", "manual", "hybrid", "automatic"]


class MembershipMachine(RuleBasedStateMachine):
    template: ShopTemplate
    workdir: Path
    numbers = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.created = 0
        # A database per example: a reused SQLite path would meet the last example's write-ahead log.
        directory = self.workdir / f"machine-{next(self.numbers)}"
        directory.mkdir()
        self.url = self.template.copy(directory)
        self.run(open_database(database_url=self.url))

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(close_database())
        self.loop.close()
        discard(self.url)

    @initialize(exclusive=st.booleans())
    def shop(self, exclusive: bool) -> None:
        async def build() -> None:
            await Shop.create(name="Machine shop", one_group_per_customer=exclusive)
            for i in range(CUSTOMERS):
                status = CustomerStatus.BLOCKED if i == 5 else CustomerStatus.ACTIVE
                customer = await Customer.create(
                    name=f"Customer {i}",
                    email=f"c{i}@example.com",
                    status=status,
                    created_at=datetime(2024, 1, 1, tzinfo=UTC),
                )
                if i < 3:
                    await record_order(
                        customer_id=customer.id, total_cents=200_000, placed_at=datetime(2025, 1, 1, tzinfo=UTC)
                    )
            for kind in KINDS:
                await self._create(kind)
            await CustomerGroup.filter(name="Group 0").update(is_default=True)

        self.exclusive = exclusive
        self.run(build())

    async def _create(self, kind: str) -> None:
        number = self.created
        self.created += 1
        await create_group(
            data={
                "name": f"Group {number}",
                "code": f"G{number}",
                "type": kind,
                "rule": RULE if kind != "manual" else None,
            },
            actor=ACTOR,
        )

    def _ids(self, data: st.DataObject) -> tuple[int, list[int]]:
        groups = self.run(CustomerGroup.all().order_by("id").values_list("id", flat=True))
        customers = self.run(Customer.all().order_by("id").values_list("id", flat=True))
        group = data.draw(st.sampled_from(groups)) if groups else -1
        chosen = data.draw(st.lists(st.sampled_from(customers), min_size=1, max_size=4))
        return group, chosen

    async def _snapshot(self) -> tuple:
        memberships = (
            await Membership.all().order_by("id").values_list("customer_id", "group_id", "source", "is_primary")
        )
        events = await MembershipEvent.all().count()
        return memberships, events

    def _attempt(self, action) -> None:
        """Run an action; if it is refused, nothing may have changed."""
        before = self.run(self._snapshot())
        try:
            self.run(action)
        except (FormError, NotFoundError):
            assert self.run(self._snapshot()) == before

    @rule(data=st.data(), mode=st.sampled_from(AddMode))
    def add(self, data: st.DataObject, mode: AddMode) -> None:
        group, customers = self._ids(data)
        self._attempt(add_members(group_id=group, customer_ids=customers, mode=mode, actor=ACTOR))

    @rule(data=st.data(), mode=st.sampled_from(RemoveMode))
    def remove(self, data: st.DataObject, mode: RemoveMode) -> None:
        group, customers = self._ids(data)
        target, _ = self._ids(data)
        self._attempt(
            remove_members(group_id=group, customer_ids=customers, mode=mode, target_group_id=target, actor=ACTOR)
        )

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        group, _ = self._ids(data)
        self._attempt(delete_group(group_id=group, actor=ACTOR))

    @rule(kind=st.sampled_from(KINDS))
    def create(self, kind: str) -> None:
        self.run(self._create(kind))

    @rule()
    def run_rules(self) -> None:
        self.run(run_all_rules(actor=ACTOR))

    @invariant()
    def nobody_is_in_two_groups_when_groups_are_exclusive(self) -> None:
        if getattr(self, "exclusive", False):
            per_customer = self.run(Membership.all().values_list("customer_id", flat=True))
            assert len(per_customer) == len(set(per_customer))

    @invariant()
    def everyone_with_a_group_has_one_primary_group(self) -> None:
        rows = self.run(Membership.all().values_list("customer_id", "is_primary"))
        primaries: dict[int, int] = {}
        for customer_id, primary in rows:
            primaries[customer_id] = primaries.get(customer_id, 0) + primary
        assert all(n == 1 for n in primaries.values()), primaries

    @invariant()
    def member_counts_are_right(self) -> None:
        for group_id, stored in self.run(CustomerGroup.all().values_list("id", "member_count")):
            assert stored == self.run(Membership.filter(group_id=group_id).count())

    @invariant()
    def the_history_replays_to_the_memberships(self) -> None:
        replayed: set[tuple[int, int]] = set()
        for customer_id, group_id, action in self.run(
            MembershipEvent.all().order_by("id").values_list("customer_id", "group_id", "action")
        ):
            if action == MembershipAction.JOINED:
                replayed.add((customer_id, group_id))
            elif action in (MembershipAction.LEFT, MembershipAction.MOVED):
                replayed.discard((customer_id, group_id))
        assert replayed == set(self.run(Membership.all().values_list("customer_id", "group_id")))


def test_membership_stays_consistent_whatever_the_owner_does(empty_shop: ShopTemplate, tmp_path: Path) -> None:
    MembershipMachine.template = empty_shop
    MembershipMachine.workdir = tmp_path
    run_state_machine_as_test(
        MembershipMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
