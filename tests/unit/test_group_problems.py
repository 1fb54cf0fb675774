"""What is wrong with a group's input, checked against facts given here: no database. Each story
has one problem and asserts the words the group form and the API show beside that field."""

from models.group import GroupStatus, GroupType
from services.groups.checks import GroupFacts, normalised, parsed_input, problems

BIG_SPENDERS = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 1_000_000}]}
# Groups 1 (Wholesale) > 2 (Gold) > 3 (Gold North); 4 (Retail) stands alone.
SHOP = {1: None, 2: 1, 3: 2, 4: None}


def entered(**fields) -> dict:
    return {"name": "Platinum", "code": "PLAT"} | fields


def facts(**known) -> GroupFacts:
    return GroupFacts(**({"parents": SHOP} | known))


def member_of(*group_ids: int) -> dict:
    return {"match": "all", "conditions": [{"field": "member_of", "op": "in", "value": list(group_ids)}]}


def test_a_new_group_with_a_free_name_and_code_has_no_problem():
    assert problems(entered(), facts(name_keys=frozenset({"gold"}), codes=frozenset({"GOLD"}))) == {}


def test_an_empty_name_is_asked_for():
    assert problems(entered(name="   "), facts()) == {"name": "Enter a group name."}


def test_a_name_taken_in_another_letter_case_and_spacing_is_refused():
    found = problems(entered(name="  gold   Tier "), facts(name_keys=frozenset({"gold tier"})))
    assert found == {"name": 'A group named "gold Tier" already exists.'}


def test_a_name_with_a_direction_mark_is_refused():
    found = problems(entered(name="Gold\u202eTier"), facts())
    assert found == {
        "name": "Name contains hidden characters (such as tabs, line breaks or direction marks): remove them."
    }


def test_a_name_over_100_characters_says_the_limit():
    assert problems(entered(name="x" * 101), facts()) == {"name": "Use at most 100 characters."}


def test_an_empty_code_is_asked_for():
    assert problems(entered(code=" "), facts()) == {"code": "Enter a group code."}


def test_a_code_with_other_characters_is_refused():
    found = problems(entered(code="GOLD TIER"), facts())
    assert found == {"code": "Use up to 32 letters, digits, '-' or '_', starting with a letter or digit."}


def test_a_code_taken_in_lower_case_is_refused_in_capitals():
    found = problems(entered(code="gold"), facts(codes=frozenset({"GOLD"})))
    assert found == {"code": 'The code "GOLD" is already used by another group.'}


def test_a_taken_name_is_reported_beside_a_field_that_did_not_parse():
    found = problems(entered(name="Gold", capacity=0), facts(name_keys=frozenset({"gold"})))
    assert found == {
        "capacity": "Enter a whole number of at least 1, or leave it empty for no limit.",
        "name": 'A group named "Gold" already exists.',
    }


def test_a_parent_that_no_longer_exists_is_refused():
    found = problems(entered(parent_id=9), facts())
    assert found == {"parent_id": "The chosen parent group no longer exists."}


def test_a_group_cannot_move_under_its_own_subgroup():
    found = problems(entered(parent_id=3), facts(group_id=1))
    assert found == {"parent_id": "A group cannot sit under itself or one of its own subgroups."}


def test_a_group_may_move_under_a_group_of_another_branch():
    assert problems(entered(parent_id=4), facts(group_id=2)) == {}


def test_a_capacity_below_the_members_now_asks_for_at_least_that_many():
    found = problems(entered(capacity=1200), facts(group_id=4, members=1500))
    assert found == {"capacity": "The group has 1,500 members already: set at least 1,500, or remove members first."}


def test_the_default_group_must_stay_active():
    found = problems(entered(status=GroupStatus.INACTIVE), facts(group_id=4, is_default=True))
    assert found == {
        "status": "This is the shop's default group, which must stay active: choose another default in Settings first."
    }


def test_the_default_group_cannot_turn_automatic():
    found = problems(entered(type=GroupType.AUTOMATIC, rule=BIG_SPENDERS), facts(group_id=4, is_default=True))
    assert found == {
        "type": "This is the shop's default group, into which customers are moved by hand, so it cannot be "
        "automatic: choose another default in Settings first."
    }


def test_an_automatic_group_needs_a_rule():
    found = problems(entered(type=GroupType.AUTOMATIC), facts())
    assert found == {"rule": "An automatic or hybrid group needs a rule: add at least one condition."}


def test_a_rule_that_reads_the_group_itself_is_refused_at_its_condition():
    found = problems(entered(type=GroupType.HYBRID, rule=member_of(2)), facts(group_id=2))
    assert found == {
        "rule:0": "A group's rule cannot depend on the group itself.",
        "rule": "Some conditions need your attention.",
    }


def test_a_rule_that_reads_deleted_groups_says_how_many():
    found = problems(entered(type=GroupType.AUTOMATIC, rule=member_of(1, 8, 9)), facts())
    assert found == {
        "rule:0": "2 of the chosen groups no longer exist.",
        "rule": "Some conditions need your attention.",
    }


def test_a_rule_that_would_read_itself_round_a_circle_is_refused():
    # Retail (4) would read Gold (2), whose rule reads Gold North (3), whose rule reads Retail.
    found = problems(entered(type=GroupType.AUTOMATIC, rule=member_of(2)), facts(group_id=4, reads={2: {3}, 3: {4}}))
    assert found == {
        "rule:0": "A chosen group's own rule depends on this group, which would go round in a circle.",
        "rule": "Some conditions need your attention.",
    }


def test_a_manual_group_is_saved_without_a_rule_and_a_rule_group_with_its_rule():
    manual, _ = parsed_input(entered(rule=BIG_SPENDERS))
    assert normalised(manual).rule is None
    automatic, _ = parsed_input(entered(type=GroupType.AUTOMATIC, rule=BIG_SPENDERS))
    assert normalised(automatic).rule["conditions"][0]["field"] == "total_purchases"


def test_the_input_is_tidied_name_spaces_folded_and_code_in_capitals():
    tidy, errors = parsed_input(entered(name="  Gold \t Tier ", code=" gold-1 ", description="  Net 30.\r\nVIP  "))
    assert errors == {}
    assert (tidy.name, tidy.code, tidy.description) == ("Gold Tier", "GOLD-1", "Net 30.\nVIP")
