"""Who takes members by hand, asked without a database: the answer the membership changes and the
add/remove dialogs share."""

from models.group import GroupStatus, GroupType
from services.membership.admission import Closed, closed_to_hand


def test_an_active_manual_or_hybrid_group_takes_members_by_hand():
    for kind in (GroupType.MANUAL, GroupType.HYBRID):
        assert closed_to_hand(name="Retail", type=kind, status=GroupStatus.ACTIVE) is None


def test_an_automatic_group_follows_its_rule_and_says_how_to_change_that():
    closed = closed_to_hand(name="Gold Tier", type=GroupType.AUTOMATIC, status=GroupStatus.ACTIVE)
    assert closed.why == Closed.RULE_DECIDES
    assert closed.in_full == (
        "Gold Tier is an automatic group: its members follow its rule. "
        "Turn it into a hybrid group to add or remove customers by hand."
    )


def test_an_inactive_group_accepts_no_one_until_made_active():
    closed = closed_to_hand(name="Old Club", type=GroupType.MANUAL, status=GroupStatus.INACTIVE)
    assert closed.why == Closed.INACTIVE
    assert closed.in_full == "Old Club is inactive: it accepts no new members. Make the group active to add customers."


def test_the_rule_is_named_before_the_status_for_an_inactive_automatic_group():
    closed = closed_to_hand(name="Gold Tier", type=GroupType.AUTOMATIC, status=GroupStatus.INACTIVE)
    assert closed.why == Closed.RULE_DECIDES
