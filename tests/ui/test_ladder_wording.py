"""A ladder in the owner's words (issue 22): the Rules step of a rung previews moves, not joins and
leaves, and its save asks in moves and says what moved; a customer's page says which rung of each
ladder they are on, and why they stay there when they are pinned or held."""

from datetime import UTC, datetime, timedelta

from nicegui import ui
from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup, Membership
from services.membership.changes import AddMode, add_members
from services.rules.ladders import run_ladder
from services.staff.actor import SYSTEM
from services.wording import long_date
from tests.ui.finding import one

PREVIEW = 30  # retries of 0.1 s: the preview waits for typing to settle before it asks
GOLD_FROM = 15_000  # Gold Tier from $15,000 instead of $20,000


async def _on(code: str) -> set[int]:
    return set(await Membership.filter(group__code=code).values_list("customer_id", flat=True))


async def _silver_members_from(dollars: int) -> int:
    return await Customer.filter(id__in=await _on("SILVER"), lifetime_cents__gte=dollars * 100).count()


async def test_a_lower_gold_threshold_previews_moves_up_from_silver(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    moving = await _silver_members_from(GOLD_FROM)
    assert moving, "the demo shop has Silver customers between $15,000 and $20,000"

    await user.open(f"/groups/{gold.id}/edit?step=rules")
    await user.should_see("Rung 1 of 3 of Tiered Customers", marker="preview-rung-note", retries=PREVIEW)
    await user.should_see("No one moves", marker="preview-moves")
    one(user, "rule-value-0").value = GOLD_FROM

    await user.should_see(f"+{moving:,} up from Silver Tier", marker="preview-moves", retries=PREVIEW)
    await user.should_see("Up from Silver Tier:")  # the first of them by name
    await user.should_see(f"Gold Tier would have {len(await _on('GOLD')) + moving:,} members")
    await user.should_not_see("would join")
    await user.should_not_see("of the customers arriving are in Silver Tier")  # they leave it as they arrive


async def test_saving_a_rung_asks_in_moves_and_says_what_moved(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    moving = await _silver_members_from(GOLD_FROM)
    await user.open(f"/groups/{gold.id}/edit?step=rules")
    await user.should_see("No one moves", marker="preview-moves", retries=PREVIEW)
    one(user, "rule-value-0").value = GOLD_FROM
    await user.should_see(f"+{moving:,} up from Silver Tier", marker="preview-moves", retries=PREVIEW)

    user.find("Save changes").click()
    await user.should_see(marker="confirm-leaving", retries=PREVIEW)
    who = f"{moving:,} customer{'s' if moving != 1 else ''}"
    await user.should_see(f"{who} will move up from Silver Tier to Gold Tier (10% off instead of 5% off).")
    await user.should_see("Moving up:")
    silver_before = await _on("SILVER")

    user.find("confirm-save").click()
    await user.should_see(f"Saved Gold Tier: +{moving:,} up from Silver Tier.", retries=PREVIEW)
    await user.should_see(f"New rule saved: +{moving:,} up from Silver Tier.", marker="rule-undo")
    assert len(silver_before - await _on("SILVER")) == moving
    assert not (await _on("GOLD")) & (await _on("SILVER")), "nobody on two rungs"


async def test_the_review_of_a_rung_says_who_would_move(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    moving = await _silver_members_from(GOLD_FROM)
    await user.open(f"/groups/{gold.id}/edit?step=rules")
    await user.should_see("No one moves", marker="preview-moves", retries=PREVIEW)
    one(user, "rule-value-0").value = GOLD_FROM
    user.find(ui.stepper).elements.pop().value = "Review"
    await user.should_see(f"When you save: +{moving:,} up from Silver Tier.", marker="review-change", retries=PREVIEW)


async def test_a_customer_page_says_which_rung_of_the_ladder_they_are_on(user: User):
    on_silver = await Membership.filter(group__code="SILVER").first().values_list("customer_id", flat=True)
    await user.open(f"/customers/{on_silver}")
    await user.should_see("Tiered Customers: Silver Tier (rung 2 of 3)", marker="ladder-rung")
    await user.should_not_see(marker="ladder-note")

    nobody = await Customer.filter(memberships__group__parent__code="TIERED").values_list("id", flat=True)
    off = await Customer.exclude(id__in=nobody).first().values_list("id", flat=True)
    await user.open(f"/customers/{off}")
    await user.should_see(marker="customer-name")
    await user.should_not_see(marker="customer-ladders")


async def test_a_customer_placed_by_hand_stays_on_their_rung_until_removed(user: User):
    silver = await CustomerGroup.get(code="SILVER")
    await CustomerGroup.filter(id=silver.id).update(type="hybrid")  # a rung people are placed on by hand
    on_gold = await Membership.filter(group__code="GOLD").first().values_list("customer_id", flat=True)
    await add_members(group_id=silver.id, customer_ids=[on_gold], mode=AddMode.ADD, actor=SYSTEM)

    await user.open(f"/customers/{on_gold}")
    await user.should_see("Tiered Customers: Silver Tier (rung 2 of 3)", marker="ladder-rung")
    await user.should_see("Placed by hand: stays on this rung until removed", marker="ladder-note")


async def test_a_customer_held_on_their_rung_sees_until_when(user: User):
    tiered = await CustomerGroup.get(code="TIERED")
    await CustomerGroup.filter(id=tiered.id).update(hold_days=30)
    on_gold = await Membership.filter(group__code="GOLD").first().values_list("customer_id", flat=True)
    await Customer.filter(id=on_gold).update(lifetime_cents=9_000_00)  # a refund took them below Gold
    now = datetime.now(UTC).replace(microsecond=0)
    await run_ladder(ladder_id=tiered.id, actor=SYSTEM, now=now)

    await user.open(f"/customers/{on_gold}")
    await user.should_see("Tiered Customers: Gold Tier (rung 1 of 3)", marker="ladder-rung")
    until = long_date(now + timedelta(days=30))
    await user.should_see(f"Kept on this rung until {until} (hold period)", marker="ladder-note")
    # Beside each tier's rule: the rung they are on, not "taken out by hand".
    await user.should_see(f"Does not match · member until {until} (hold period)")
    await user.should_see("Matches · on Gold Tier, a higher rung of Tiered Customers")
