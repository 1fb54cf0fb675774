"""The `next` cursor of a page sorted by name and the Seek an `after` cursor names: what one page
says is where the following page starts, and a cursor the API never gave is refused with a message."""

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.cursors import AFTER_WITH_PAGE, NOT_A_CURSOR, next_cursor, seek_after
from services.errors import FormError
from services.fields import MAX_ID
from services.paging import Page, Seek


def full_page(last: tuple[str, int]) -> Page:
    return Page(rows=[object()] * 25, total=1000, page=3, per_page=25, first=("Aaron", 1), last=last)


@given(
    # Names a shop can hold: the databases refuse a NUL or half a surrogate pair (see the refusals below).
    name=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=200),
    customer_id=st.integers(min_value=1, max_value=MAX_ID),
)
def test_the_next_page_starts_after_the_last_row_shown(name: str, customer_id: int):
    cursor = next_cursor(full_page((name, customer_id)), last_page=False)
    assert cursor is not None and "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe
    assert seek_after(cursor, page=1) == Seek(after=(name, customer_id))


def test_nothing_follows_the_last_page_or_a_short_one():
    assert next_cursor(full_page(("Zoe", 9)), last_page=True) is None
    short = Page(rows=[object()] * 3, total=1000, page=1, per_page=25, first=("Ann", 2), last=("Bo", 5))
    assert next_cursor(short, last_page=False) is None
    empty = Page(rows=[], total=0, page=1, per_page=25)
    assert next_cursor(empty, last_page=False) is None


def test_without_a_cursor_the_page_number_is_read():
    assert seek_after(None, page=7) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%",
        "W10",  # []
        "WyJBZGEiLCJ4Il0",  # ["Ada","x"]
        "WyJBZGEiLDAsMV0",  # ["Ada",0,1]
        "WyJBZGEiLDBd",  # ["Ada",0]
        "WyJBZGEiLHRydWVd",  # ["Ada",true]
        "WyJBZGEiLDk5OTk5OTk5OTk5OTk5OTk5OTk5XQ",  # an id beyond what the database stores
        "_w",  # not UTF-8
        "WyJcdWQ4MDAiLDVd",  # ["\ud800",5]: half a surrogate pair
        "WyJhXHUwMDAwIiw1XQ",  # ["a\u0000",5]
        base64.urlsafe_b64encode(("[" * 1000).encode()).decode(),  # nested past Python's stack
        base64.urlsafe_b64encode(json.dumps(["x" * 201, 5]).encode()).decode(),  # longer than any name
    ],
)
def test_a_cursor_the_api_did_not_give_is_refused(cursor: str):
    with pytest.raises(FormError) as refused:
        seek_after(cursor, page=1)
    assert refused.value.errors == {"after": NOT_A_CURSOR}


def test_a_cursor_with_a_page_number_is_refused_at_the_page():
    cursor = next_cursor(full_page(("Ada", 4)), last_page=False)
    with pytest.raises(FormError) as refused:
        seek_after(cursor, page=2)
    assert refused.value.errors == {"page": AFTER_WITH_PAGE}


@given(st.text(max_size=60))
def test_any_text_is_a_seek_or_a_message_never_a_crash(text: str):
    try:
        seek = seek_after(text, page=1)
    except FormError as refused:
        assert refused.errors == {"after": NOT_A_CURSOR}
    else:
        assert seek is not None and seek.after is not None
