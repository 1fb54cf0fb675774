"""What is wrong with a promotion's input, checked against facts given here: no database. Each
story has one problem and asserts the words the promotion form and the API show beside that field."""

from datetime import date

from services.promotions.checks import PromotionFacts, normalised, parsed_input, problems
from services.promotions.fields import PromotionInput

# Groups 1 (Wholesale) and 2 (Gold) exist.
SHOP = PromotionFacts(group_ids=frozenset({1, 2}), currency="EUR")


def entered(**fields) -> dict:
    return {"name": "Spring sale", "type": "additional_discount", "percent": 10, "target_group_ids": [1]} | fields


def facts(**known) -> PromotionFacts:
    return PromotionFacts(**(SHOP.__dict__ | known))


def test_a_discount_for_an_existing_group_has_no_problem():
    assert problems(entered(status="active"), SHOP) == {}


def test_an_empty_name_is_asked_for():
    assert problems(entered(name="  "), SHOP) == {"name": "Enter a name for the promotion."}


def test_a_name_taken_in_another_letter_case_is_refused():
    found = problems(entered(name="SPRING sale"), facts(name_keys=frozenset({"spring sale"})))
    assert found == {"name": 'A promotion named "SPRING sale" already exists.'}


def test_an_active_promotion_needs_a_target():
    found = problems(entered(status="active", target_group_ids=[]), SHOP)
    assert found == {"target_group_ids": "Choose at least one group to target."}


def test_a_draft_may_wait_for_its_targets():
    assert problems(entered(target_group_ids=[]), SHOP) == {}


def test_a_target_that_no_longer_exists_is_refused():
    found = problems(entered(target_group_ids=[1, 7]), SHOP)
    assert found == {"target_group_ids": "Some of the chosen groups no longer exist; choose again."}


def test_a_discount_needs_its_percent():
    found = problems(entered(percent=None), SHOP)
    assert found == {"percent": "Enter the additional discount in percent (e.g. 10)."}


def test_a_discount_above_100_percent_is_refused():
    assert problems(entered(percent=120), SHOP) == {"percent": "Enter a discount above 0% and at most 100%."}


def test_a_percent_left_over_from_another_type_is_no_problem():
    assert problems(entered(type="free_shipping", percent=120), SHOP) == {}


def test_a_free_item_must_be_chosen():
    found = problems(entered(type="free_item"), SHOP)
    assert found == {"free_item_id": "Choose the product given free."}


def test_a_free_item_that_no_longer_exists_is_refused():
    found = problems(entered(type="free_item", free_item_id=5), facts(free_item_exists=False))
    assert found == {"free_item_id": "The chosen product no longer exists; choose another."}


def test_at_least_one_free_item_is_given():
    found = problems(entered(type="free_item", free_item_id=5, free_item_quantity=0), SHOP)
    assert found == {"free_item_quantity": "Give at least 1."}


def test_buy_get_free_needs_how_many_are_bought():
    found = problems(entered(type="bogo", get_quantity=1), SHOP)
    assert found == {"buy_quantity": "Enter how many the customer buys (at least 1)."}


def test_buy_get_free_needs_how_many_are_free():
    found = problems(entered(type="bogo", buy_quantity=2, get_quantity=0), SHOP)
    assert found == {"get_quantity": "Enter how many they get free (at least 1)."}


def test_a_negative_minimum_is_worded_in_the_shops_currency():
    found = problems(entered(minimum_purchase_cents=-100), SHOP)
    assert found == {"minimum_purchase_cents": "Enter an amount of at least €0."}


def test_the_last_day_may_not_come_before_the_first():
    found = problems(entered(valid_from="2026-03-31", valid_to="2026-03-01"), SHOP)
    assert found == {"valid_to": "The last day must not be before the first day."}


def test_a_day_outside_the_shops_years_is_refused():
    found = problems(entered(valid_to="9999-12-31"), SHOP)
    assert found == {"valid_to": "Enter a day in the years 2000 to 2100."}


def test_a_field_that_does_not_parse_is_reported_with_the_other_problems():
    found = problems(entered(valid_from="soon", percent=None), SHOP)
    assert set(found) == {"valid_from", "percent"}
    assert found["percent"] == "Enter the additional discount in percent (e.g. 10)."


def test_a_name_that_does_not_parse_still_leaves_the_rest_checked():
    found = problems(entered(name="Spring\u202esale", target_group_ids=[9]), SHOP)
    assert found == {
        "name": "Name contains hidden characters (such as tabs, line breaks or direction marks): remove them.",
        "target_group_ids": "Some of the chosen groups no longer exist; choose again.",
    }


def test_each_target_is_saved_once_in_the_order_given():
    parsed, _ = parsed_input(entered(target_group_ids=[2, 1, 2]))
    assert normalised(parsed).target_group_ids == [2, 1]


def test_the_input_is_tidied_and_takes_its_defaults():
    parsed, errors = parsed_input({"name": "  Spring \t sale "})
    assert errors == {}
    assert parsed == PromotionInput(name="Spring sale", valid_from=None)
    assert (parsed.status, parsed.include_subgroups, parsed.free_item_quantity) == ("draft", True, 1)
    assert parsed_input(entered(valid_from=date(2026, 3, 1)))[0].valid_from == date(2026, 3, 1)
