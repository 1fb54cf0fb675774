"""A big shop's preview: while the exact figures are counted the owner sees an estimate that says it
is one ("about", "Counting…"), and the exact figures replace it as soon as they are ready."""

from nicegui import ui
from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup
from services.rules.ladder_setup import turn_off_ladder
from services.staff.actor import SYSTEM
from services.storage.database import reader_connection
from services.wording import about
from tests.ui.finding import until
from ui.rules.preview_panel import PreviewPanel

PREVIEW = 30  # retries of 0.1 s: the preview waits for typing to settle before it asks


def _texts(user: User, mark: str) -> list[str]:
    return [element.text for element in user.find(marker=mark).elements]


async def test_an_estimate_is_shown_until_the_exact_count_replaces_it(user: User, monkeypatch):
    # As on a million customers: the exact count still runs when the estimate is due (a long count
    # holds the reader connection it needs), so the estimate is shown first.
    monkeypatch.setattr(PreviewPanel, "estimate_after", 0.0)
    gold = await CustomerGroup.get(code="GOLD")
    await turn_off_ladder(ladder_id=gold.parent_id, actor=SYSTEM)  # a group of its own: joins and leaves
    await user.open(f"/groups/{gold.id}/edit")
    user.find(ui.stepper).elements.pop().value = "Rules"
    await user.should_see("No one would join", retries=PREVIEW)
    # Gold's rule: Total Purchases from $20,000 to $50,000; the owner lowers the first bound.
    matching = await Customer.filter(lifetime_cents__gte=1_000_000, lifetime_cents__lte=5_000_000).count()
    joining = await Customer.filter(lifetime_cents__gte=1_000_000, lifetime_cents__lt=2_000_000).count()

    async with reader_connection()._lock:
        await user.should_see(kind=ui.element, marker="rule-value-0")
        user.find("rule-value-0").elements.pop().value = 10_000  # Gold from $10,000 instead of $20,000
        assert await until(lambda: _texts(user, "preview-count") == [about(matching)], tries=PREVIEW)
        await user.should_see("Counting…")
        await user.should_see(f"{about(joining)} would join")
        await user.should_see("No one in the sample would leave")  # not "about 0"
        await user.should_not_see("View Matching Customers")  # names come with the exact figures

    await user.should_see(f"{matching:,}", marker="preview-count", retries=PREVIEW)
    await user.should_see(f"+{joining:,} would join", retries=PREVIEW)
    await user.should_not_see("Counting…")
    await user.should_not_see(about(matching))
    await user.should_see("View Matching Customers")


async def test_a_small_shops_exact_figures_come_without_an_estimate(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await turn_off_ladder(ladder_id=gold.parent_id, actor=SYSTEM)
    await user.open(f"/groups/{gold.id}/edit")
    user.find(ui.stepper).elements.pop().value = "Rules"
    await user.should_see("No one would join", retries=PREVIEW)
    user.find("rule-value-0").elements.pop().value = 10_000
    joining = await Customer.filter(lifetime_cents__gte=1_000_000, lifetime_cents__lt=2_000_000).count()
    shown: list[str] = []

    def exact_shown() -> bool:
        shown.extend(_texts(user, "preview-joining"))
        return f"+{joining:,} would join" in shown

    assert await until(exact_shown)
    assert not any(text.startswith("about") for text in shown)


async def test_an_estimate_left_for_an_incomplete_rule_no_longer_says_it_is_counting(user: User, monkeypatch):
    monkeypatch.setattr(PreviewPanel, "estimate_after", 0.0)
    gold = await CustomerGroup.get(code="GOLD")
    await turn_off_ladder(ladder_id=gold.parent_id, actor=SYSTEM)
    await user.open(f"/groups/{gold.id}/edit")
    user.find(ui.stepper).elements.pop().value = "Rules"
    await user.should_see("No one would join", retries=PREVIEW)

    async with reader_connection()._lock:
        user.find("rule-value-0").elements.pop().value = 10_000
        await user.should_see("Counting…", retries=PREVIEW)
        user.find("rule-add-condition").click()  # a condition without a value: the rule is incomplete
        await user.should_see("Showing the last complete rule", retries=PREVIEW)
        await user.should_not_see("Counting…")
