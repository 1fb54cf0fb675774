"""A group's custom data (seed 002, Medusa's "metadata"): keys and text values the shop keeps about
the group for its own tools. What is wrong with it is said per key, without a database; saving it
is kept in the audit log like any other field."""

import pytest

from services.errors import FormError
from services.groups.checks import GroupFacts, metadata_pairs, problems
from services.groups.group import create_group, get_group, update_group
from services.staff.accounts import create_first_owner
from services.staff.audit import list_audit


def entered(metadata) -> dict:
    return {"name": "Wholesale", "code": "WHOLESALE", "metadata": metadata}


def test_keys_with_text_values_have_no_problem():
    data = {"erp_id": "C-1042", "mailchimp.list": "wholesale-2026", "note-for-staff": ""}
    assert problems(entered(data), GroupFacts()) == {}


def test_a_key_with_a_space_is_refused_at_that_key():
    assert problems(entered({"erp id": "C-1042", "ok": "yes"}), GroupFacts()) == {
        "metadata.erp id": "The key “erp id” cannot be used: keys have up to 40 letters, digits, '_', '-' or '.'."
    }


def test_a_key_over_40_characters_is_refused():
    key = "k" * 41
    found = problems(entered({key: "x"}), GroupFacts())
    assert list(found) == [f"metadata.{key}"]
    assert "up to 40 letters" in found[f"metadata.{key}"]


def test_a_value_without_a_key_is_refused():
    assert problems(entered({"": "orphan"}), GroupFacts()) == {
        "metadata.": "A value has no key: give it a key, or remove it."
    }


def test_a_value_over_500_characters_says_the_limit_and_its_length():
    assert problems(entered({"notes": "x" * 612}), GroupFacts()) == {
        "metadata.notes": "Use at most 500 characters: this value has 612."
    }


def test_a_value_with_a_direction_mark_or_a_line_break_is_refused():
    found = problems(entered({"a": "gold\u202eTier", "b": "two\nlines"}), GroupFacts())
    assert found == {
        "metadata.a": "The value contains hidden characters (such as tabs, line breaks or direction marks): remove them.",
        "metadata.b": "The value contains hidden characters (such as tabs, line breaks or direction marks): remove them.",
    }


def test_a_value_that_is_not_text_is_refused():
    assert problems(entered({"count": 5}), GroupFacts()) == {"metadata.count": "Write the value as text."}


def test_more_than_50_keys_are_refused_as_a_whole():
    assert problems(entered({f"k{i}": "x" for i in range(51)}), GroupFacts()) == {
        "metadata": "Use at most 50 keys: there are 51."
    }


def test_custom_data_that_is_not_a_set_of_keys_is_refused():
    assert problems(entered(["erp_id", "C-1042"]), GroupFacts()) == {
        "metadata": "Custom data is a set of keys, each with a text value."
    }


def test_other_fields_problems_are_still_said_beside_the_custom_datas():
    found = problems({"name": "", "code": "W", "metadata": {"a b": "x"}}, GroupFacts())
    assert set(found) == {"name", "metadata.a b"}


def test_rows_from_the_editor_become_the_data_and_a_repeated_key_is_pointed_out():
    data, found = metadata_pairs([(" erp_id ", " C-1042 "), ("", ""), ("tier", "gold"), ("tier", "silver")])
    assert data == {"erp_id": "C-1042", "tier": "silver"}
    assert found == {"metadata.tier": "The key “tier” is given twice: keep one."}


@pytest.fixture
async def olivia(db):
    return await create_first_owner(email="olivia@example.com", name="Olivia Owner", password="a long password")


async def test_custom_data_is_saved_read_back_and_kept_in_the_audit_log(olivia):
    group = await create_group(data=entered({"erp_id": "C-1042"}), actor=olivia)
    assert group.metadata == {"erp_id": "C-1042"}

    data = group.as_input()
    data.metadata = {"erp_id": "C-2000", "mailchimp_list": "wholesale"}
    await update_group(group_id=group.id, version=group.version, data=data, actor=olivia)

    assert (await get_group(group_id=group.id)).metadata == {"erp_id": "C-2000", "mailchimp_list": "wholesale"}
    entry = (await list_audit(actor=olivia, subject_type="group", page=1, per_page=1)).rows[0]
    assert [(c.field, c.before, c.after) for c in entry.changes] == [
        ("metadata", {"erp_id": "C-1042"}, {"erp_id": "C-2000", "mailchimp_list": "wholesale"})
    ]


async def test_an_edit_that_leaves_out_nothing_keeps_the_custom_data(olivia):
    # The wizard, the hierarchy page and a rule restore save the group's whole input: the data stays.
    group = await create_group(data=entered({"erp_id": "C-1042"}), actor=olivia)
    data = group.as_input()
    data.description = "Trade accounts"
    saved = await update_group(group_id=group.id, version=group.version, data=data, actor=olivia)
    assert saved.metadata == {"erp_id": "C-1042"}


async def test_saving_bad_custom_data_is_refused_with_nothing_saved(olivia):
    group = await create_group(data=entered({}), actor=olivia)
    with pytest.raises(FormError) as refused:
        await update_group(group_id=group.id, version=group.version, data=entered({"bad key": "x"}), actor=olivia)
    assert list(refused.value.errors) == ["metadata.bad key"]
    assert (await get_group(group_id=group.id)).metadata == {}
