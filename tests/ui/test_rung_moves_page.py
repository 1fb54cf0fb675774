"""A rung of a ladder in moves, past and future (issue 22): its Rules step says what the moves cost
a year, a customer moving up from Silver Tier (5% off) to Gold Tier (10% off) costing the
difference and one leaving Gold Tier a saving; "Run rule now" on its page says the moves and lists
the customers under each."""

from datetime import UTC, datetime

from nicegui.testing import User

from models.customer import Customer, CustomerStatus, Order, OrderStatus
from models.group import CustomerGroup, Membership
from services.rules.clock import months_before
from services.wording import money
from tests.ui.finding import one

PREVIEW = 30  # retries of 0.1 s: the preview waits for typing to settle before it asks


def _dollars(cents: int) -> str:
    return money(cents, currency="USD", cents_shown="never")


async def _on(code: str, **lifetime) -> list[int]:
    """The rung's members whose lifetime purchases are in the given range (lifetime_cents__gte=...)."""
    return await Customer.filter(memberships__group__code=code, status=CustomerStatus.ACTIVE, **lifetime).values_list(
        "id", flat=True
    )


async def _last_year(customer_ids: list[int]) -> int:
    """What these customers' completed orders of the last 12 months came to."""
    since = months_before(datetime.now(UTC).replace(microsecond=0), 12)
    totals = await Order.filter(
        customer_id__in=customer_ids, status=OrderStatus.COMPLETED, placed_at__gte=since
    ).values_list("total_cents", flat=True)
    return sum(totals)


async def test_lowering_gold_costs_the_difference_from_silvers_discount(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    moving = await _on("SILVER", lifetime_cents__gte=15_000_00)
    spent = await _last_year(moving)
    assert moving and spent, "the demo shop has Silver customers between $15,000 and $20,000 who ordered lately"
    cost = round(spent * 10 / 100) - round(spent * 5 / 100)  # Gold's 10% instead of Silver's 5%

    await user.open(f"/groups/{gold.id}/edit?step=rules")
    await user.should_see("No one moves", marker="preview-moves", retries=PREVIEW)
    one(user, "rule-value-0").value = 15_000

    await user.should_see(f"+{len(moving):,} up from Silver Tier", marker="preview-moves", retries=PREVIEW)
    verb = "moves" if len(moving) == 1 else "move"
    await user.should_see(
        f"more a year: {len(moving):,} {verb} up from Silver Tier (5% → 10% off).",
        marker="preview-cost",
        retries=PREVIEW,
    )
    await user.should_see(_dollars(cost), marker="preview-cost")
    await user.should_see(f"Reckoned on {_dollars(spent)}: their completed orders of the last 12 months.")
    await user.should_not_see("a year in discounts for the")  # the full 10% for every arrival, as before


async def test_raising_gold_saves_the_discount_of_those_who_leave_the_ladder(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    # From $30,000, Gold's members below it match no rung: Silver's rule stops at $20,000.
    leaving = await _on("GOLD", lifetime_cents__lt=30_000_00)
    spent = await _last_year(leaving)
    assert leaving and spent

    await user.open(f"/groups/{gold.id}/edit?step=rules")
    await user.should_see("No one moves", marker="preview-moves", retries=PREVIEW)
    one(user, "rule-value-0").value = 30_000

    await user.should_see(f"-{len(leaving):,} off the ladder", marker="preview-moves", retries=PREVIEW)
    await user.should_see(
        f"less a year: {len(leaving):,} off the ladder (no longer 10% off).", marker="preview-cost", retries=PREVIEW
    )
    await user.should_see(_dollars(round(spent * 10 / 100)), marker="preview-cost")


async def test_run_rule_now_on_a_rung_says_the_moves_and_lists_them_by_move(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    # Their purchases changed outside an order (an import, say): the run catches it.
    up = await Customer.get(id=(await _on("SILVER"))[0])
    down = await Customer.get(id=(await _on("GOLD"))[0])
    await Customer.filter(id=up.id).update(lifetime_cents=30_000_00)
    await Customer.filter(id=down.id).update(lifetime_cents=10_000_00)
    members = await Membership.filter(group_id=gold.id).count()

    await user.open(f"/groups/{gold.id}?tab=rule")
    user.find("Run rule now").click()

    await user.should_see(
        f"Ran Gold Tier's rule: +1 up from Silver Tier, -1 down to Silver Tier. {members:,} members.", retries=20
    )
    await user.should_see("Moved up from Silver Tier:", marker="last-run-up-from")
    await user.should_see(up.name, marker="last-run-up-from")
    await user.should_see("Moved down to Silver Tier:", marker="last-run-down-to")
    await user.should_see(down.name, marker="last-run-down-to")
    await user.should_not_see("Arrived:")
    await user.should_not_see("Departed:")
    assert await Membership.exists(group_id=gold.id, customer_id=up.id)
    assert await Membership.exists(group__code="SILVER", customer_id=down.id)


async def test_undoing_a_rungs_new_rule_says_the_moves_back(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    moving = await _on("SILVER", lifetime_cents__gte=15_000_00)
    await user.open(f"/groups/{gold.id}/edit?step=rules")
    await user.should_see("No one moves", marker="preview-moves", retries=PREVIEW)
    one(user, "rule-value-0").value = 15_000
    await user.should_see(f"+{len(moving):,} up from Silver Tier", marker="preview-moves", retries=PREVIEW)
    user.find("Save changes").click()
    await user.should_see(marker="confirm-leaving", retries=PREVIEW)
    user.find("confirm-save").click()
    await user.should_see(f"New rule saved: +{len(moving):,} up from Silver Tier.", marker="rule-undo", retries=PREVIEW)

    user.find("undo-rule").click()

    await user.should_see(
        f"Undone: Gold Tier has its previous rule again: -{len(moving):,} down to Silver Tier.", retries=PREVIEW
    )
    assert not set(moving) & set(await _on("GOLD"))
