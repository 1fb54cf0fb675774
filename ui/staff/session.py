"""Who is signed in, as the pages and their event handlers see it (kept in the browser's user storage,
which NiceGUI signs with the shop's persisted secret).

NiceGUI finds a browser's user storage by the id in its session cookie. Signing in starts a new id,
so a session cookie someone got hold of before (say, planted in the browser of the person signing
in) never becomes a signed-in one. The password is checked over the page's websocket, which cannot
set a cookie; so the check gives the page a one-time ticket, and the browser then fetches
`/login?ticket=...` (`ticket_address`), whose answer carries the new cookie."""

import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request
from nicegui import app

from models.staff import Role
from services.staff.actor import Actor

KEY = "staff"
TICKET_SECONDS = 60  # the browser fetches its ticket's address at once; a little slack for a slow one


@dataclass(frozen=True)
class _Ticket:
    actor: Actor
    session_id: str  # of the browser that signed in: nobody else's request may use it
    expires: float  # time.monotonic()


# The tickets of this process: the ticket's request comes with the same cookie as the page's websocket,
# so a proxy with sticky sessions sends it to the same instance.
_tickets: dict[str, _Ticket] = {}


def sign_in(actor: Actor) -> None:
    """Record `actor` as this browser's signed-in person (the session keeps its id: see `ticket_address`)."""
    app.storage.user[KEY] = {"id": actor.id, "name": actor.name, "email": actor.email, "role": actor.role.value}


def ticket_address(actor: Actor, *, next: str) -> str:
    """Where to send the browser (from an event handler) once `actor`'s password was right: to a
    one-time address that signs it in with a new session id, then leads on to `next`."""
    now = time.monotonic()
    for ticket in [ticket for ticket, pending in _tickets.items() if pending.expires < now]:
        del _tickets[ticket]
    ticket = secrets.token_urlsafe(32)
    _tickets[ticket] = _Ticket(actor=actor, session_id=app.storage.browser["id"], expires=now + TICKET_SECONDS)
    return "/login?" + urlencode({"ticket": ticket, "next": next})


async def sign_in_with_new_session(request: Request, ticket: str) -> bool:
    """Sign in the person `ticket` was given for, in a new session: the old session id and what its
    user storage held are dropped, and the answer to `request` carries a cookie with the new id.
    False (nothing changed) if the ticket is unknown, used, expired or was given to another browser."""
    pending = _tickets.pop(ticket, None)
    if pending is None or pending.expires < time.monotonic() or pending.session_id != request.session.get("id"):
        return False
    app.storage.user.clear()
    request.session["id"] = str(uuid.uuid4())
    # NiceGUI makes a session's user storage when a request with that id comes in (its request
    # tracking middleware, through this same method); this request came with the old id.
    await app.storage._create_user_storage(request.session["id"])
    sign_in(pending.actor)
    return True


def sign_out() -> None:
    app.storage.user.pop(KEY, None)


def signed_in() -> Actor | None:
    data = app.storage.user.get(KEY)
    if not data:
        return None
    return Actor(id=data["id"], name=data["name"], email=data["email"], role=Role(data["role"]))


def current_actor() -> Actor:
    """The signed-in staff member; every page but sign-in and setup has one (the guard sees to it)."""
    actor = signed_in()
    if actor is None:
        raise PermissionError("Nobody is signed in.")
    return actor
