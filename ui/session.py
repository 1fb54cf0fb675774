"""Who is signed in, as the pages and their event handlers see it (kept in the browser's user storage,
which NiceGUI signs with the shop's persisted secret)."""

from nicegui import app

from models.staff import Role
from services.staff import Actor

KEY = "staff"


def sign_in(actor: Actor) -> None:
    app.storage.user[KEY] = {"id": actor.id, "name": actor.name, "email": actor.email, "role": actor.role.value}


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
