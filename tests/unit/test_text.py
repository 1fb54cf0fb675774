"""Names and descriptions hold what is shown: no hidden characters that reorder or hide text."""

import pytest

from services.text import plain_text


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
