"""A customer on two rungs of a ladder (overlapping groups) keeps one and leaves the other: the save
confirmation and the rule preview say they stay on the ladder, on the rung kept; a customer no rung
takes still goes off the ladder. A rung's own run figures name them among those who left it."""

from datetime import UTC, datetime

from services.rules.ladders import CustomerRef, LadderRun, RungOutcome, Shift
from services.rules.runs import rung_run
from ui.rules.preview_panel import _way
from ui.wizard.flow import move_text

PLUS, PREMIUM = 2, 3
BENEFITS = {PLUS: "5% off", PREMIUM: "10% off"}


def leave(*, to_group_id: int | None, to_name: str | None, customers: int = 23) -> Shift:
    return Shift(
        from_group_id=PLUS,
        from_name="Plus",
        to_group_id=to_group_id,
        to_name=to_name,
        direction="leave",
        customers=customers,
        sample=(CustomerRef(id=1, name="Ann"),),
    )


def test_leaving_one_of_two_rungs_is_staying_on_the_other_only():
    kept = leave(to_group_id=PREMIUM, to_name="Premium")

    assert move_text(kept, "Club", BENEFITS) == "23 customers will stay on Premium only (leaving Plus)"
    assert _way(kept.direction, kept.from_name, kept.to_name, arriving=False) == "On Premium only"


def test_a_customer_no_rung_takes_still_leaves_the_ladder():
    off = leave(to_group_id=None, to_name=None, customers=1)

    assert move_text(off, "Club", BENEFITS) == "1 customer will leave Plus and lose 5% off: no rung of Club takes them"
    assert _way(off.direction, off.from_name, off.to_name, arriving=False) == "Off the ladder"


def test_a_rung_run_names_who_left_it_for_the_other_rung_they_were_on():
    kept = leave(to_group_id=PREMIUM, to_name="Premium", customers=1)
    rungs = (
        RungOutcome(
            group_id=PREMIUM, name="Premium", position=1, by_rule=True, rule_version=1, members=1, arrived=0, departed=0
        ),
        RungOutcome(
            group_id=PLUS, name="Plus", position=2, by_rule=True, rule_version=1, members=0, arrived=0, departed=1
        ),
    )
    run = LadderRun(
        ladder_id=1, ladder_name="Club", ran_at=datetime(2026, 12, 6, tzinfo=UTC), rungs=rungs, shifts=(kept,)
    )

    plus = rung_run(run, PLUS)

    assert (plus.left, plus.left_sample) == (1, (CustomerRef(id=1, name="Ann"),))
    assert (rung_run(run, PREMIUM).joined, rung_run(run, PREMIUM).joined_sample) == (0, ())
