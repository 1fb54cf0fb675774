"""Reading a long list sorted by name to its end: each page's `next`, and `after=<next>` to read the
page that follows it.

A page asked for by its number (`page=20000`) makes the database count off every row before it;
`after` starts at the last row the client saw, so a client that syncs a million customers reads
each page in the same few milliseconds (services.paging.Seek). The cursor is opaque to clients:
the last row's name and id, as URL-safe base64 of JSON.
"""

import base64
import binascii
import json

from pydantic import BaseModel

from api.schemas import PagedByName
from services.customers import NAME_MAX
from services.errors import FormError
from services.fields import MAX_ID
from services.paging import Page, Seek

NOT_A_CURSOR = "Not a cursor from this list: pass a page's `next` as it came."
AFTER_WITH_PAGE = "Leave `page` out with `after`: the answer is the page that follows the cursor."


def next_cursor(page: Page, *, last_page: bool) -> str | None:
    """Where the page after `page` starts; None when nothing follows."""
    if last_page or page.last is None or len(page.rows) < page.per_page:
        return None
    name, customer_id = page.last
    text = json.dumps([name, customer_id], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def seek_after(after: str | None, *, page: int) -> Seek | None:
    """The Seek an `after` cursor names (None without one); FormError for one this API did not give."""
    if after is None:
        return None
    if page != 1:
        raise FormError({"page": AFTER_WITH_PAGE})
    try:
        decoded = json.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):  # [[[[... nests past Python's stack
        raise FormError({"after": NOT_A_CURSOR}) from None
    match decoded:
        case [str() as name, int() as last_id] if _could_be_a_name(name) and _could_be_an_id(last_id):
            return Seek(after=(name, last_id))
    raise FormError({"after": NOT_A_CURSOR})


def _could_be_a_name(name: str) -> bool:
    """A name the shop could hold: the databases refuse a NUL or half a surrogate pair outright."""
    if len(name) > NAME_MAX or "\x00" in name:
        return False
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def _could_be_an_id(value: int) -> bool:
    return not isinstance(value, bool) and 1 <= value <= MAX_ID


def paged_by_name(found: Page, item: type[BaseModel], *, after: str | None) -> PagedByName:
    """The API's answer for a page read by number or after a cursor, with the next page's cursor."""
    return PagedByName[item](  # type: ignore[valid-type]
        items=[item.model_validate(row) for row in found.rows],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        next=next_cursor(found, last_page=after is None and found.page >= found.pages),
    )
