"""Names and descriptions hold what is shown: no hidden characters that reorder or hide text."""

import pytest

from services.text import plain_lines, plain_text


@pytest.mark.parametrize(
    "typed", ["VIP\u202eSREMOTSUC", "Gold\u200fTier", "Silver\u061c", "Tab\there", "Two\nlines", "\u2066Isolated\u2069"]
)
def test_hidden_characters_are_refused_with_the_fields_label(typed):
    with pytest.raises(ValueError, match=r"^Name contains hidden characters"):
        plain_text(typed, label="Name", limit=100)


def test_plain_text_is_kept_without_surrounding_spaces():
    assert plain_text("  Café Müller – Großhandel  ", label="Name", limit=100) == "Café Müller – Großhandel"


def test_too_long_text_says_the_limit():
    with pytest.raises(ValueError, match=r"Use at most 5 characters\."):
        plain_text("Wholesale", label="Name", limit=5)


def test_a_description_keeps_its_lines_but_no_other_hidden_character():
    assert plain_lines("Resellers.\r\nNet 30 terms.\n", label="Description", limit=100) == "Resellers.\nNet 30 terms."
    for typed in ("line one\t\nline two", "line one\nline\x1f two", "Gold\u202e"):
        with pytest.raises(ValueError, match=r"^Description contains hidden characters \(such as tabs or direction"):
            plain_lines(typed, label="Description", limit=100)
