"""Signing in and out, and the first start's setup of the owner account."""

from urllib.parse import urlparse

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from services.shop import get_shop
from services.staff.accounts import authenticate, create_first_owner, has_staff, note_sign_in
from ui.actions import beside, run_action
from ui.staff.session import sign_in_with_new_session, sign_out, ticket_address

PUBLIC_PAGES = frozenset({"/login", "/setup"})


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of this app (never another site).

    Browsers read a backslash as a slash and drop tabs and line breaks, so "/\\evil.com", or "/" and a
    tab before "/evil.com", would lead to another site as "//evil.com" does: each is refused."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/groups"
    if any(ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F for character in target):
        return "/groups"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc:
        return "/groups"
    return target


async def _card(title: str, subtitle: str):
    shop = await get_shop()
    ui.page_title(f"{title} · {shop.name}")
    ui.colors(primary="#1f4e79", secondary="#5b7a99", accent="#c8891b")
    with ui.column().classes("w-full items-center pt-24"):
        with ui.card().classes("w-[26rem] max-w-full gap-3 p-6") as card:
            with ui.row().classes("items-center gap-2"):
                ui.icon("groups", size="28px").classes("text-primary")
                with ui.column().classes("gap-0"):
                    ui.label("Customer Groups").classes("text-xs uppercase tracking-wider text-slate-500")
                    ui.label(shop.name).classes("text-base font-semibold leading-tight")
            ui.label(title).classes("text-xl font-semibold text-slate-800 mt-2")
            ui.label(subtitle).classes("text-slate-500 text-sm")
    return card


async def login_page(request: Request, next: str = "", ticket: str = "") -> RedirectResponse | None:
    # The browser comes back with the ticket its right password earned (see ui/staff/session.py).
    if ticket and await sign_in_with_new_session(request, ticket):
        return RedirectResponse(safe_next(next), status_code=303)
    if not await has_staff():
        ui.navigate.to("/setup")
        return
    address = request.client.host if request.client else "unknown"
    card = await _card("Sign in", "Staff only. Ask the shop's owner for an account.")
    with card:
        email = ui.input("Email").props("outlined autofocus autocomplete=username").classes("w-full").mark("email")
        password = (
            ui.input("Password", password=True, password_toggle_button=True)
            .props("outlined autocomplete=current-password")
            .classes("w-full")
            .mark("password")
        )
        submit = ui.button("Sign in", icon="login").classes("w-full").mark("sign-in")
    if ticket:  # used already, expired, or from another browser
        password.error = "Signing in did not finish. Please sign in again."

    async def attempt() -> None:
        email.error = password.error = None
        signed_in = await run_action(
            lambda: authenticate(email=email.value or "", password=password.value or "", address=address),
            errors=beside({"email": email, "password": password}),
        )
        if signed_in:
            ui.navigate.to(ticket_address(signed_in.value, next=safe_next(next)))

    submit.on_click(attempt)
    password.on("keydown.enter", attempt)
    email.on("keydown.enter", attempt)


async def setup_page() -> None:
    if await has_staff():
        ui.navigate.to("/login")
        return
    card = await _card(
        "Welcome! Create the owner account", "The owner can do everything and invite the rest of the staff."
    )
    with card:
        name = ui.input("Your name").props("outlined autofocus autocomplete=name").classes("w-full").mark("name")
        email = ui.input("Email").props("outlined autocomplete=username").classes("w-full").mark("email")
        password = (
            ui.input("Password", password=True, password_toggle_button=True)
            .props("outlined autocomplete=new-password")
            .classes("w-full")
            .mark("password")
        )
        password.props["hint"] = "At least 10 characters."
        repeat = (
            ui.input("Repeat the password", password=True)
            .props("outlined autocomplete=new-password")
            .classes("w-full")
            .mark("repeat")
        )
        submit = ui.button("Create owner account", icon="person_add").classes("w-full").mark("create-owner")

    async def create() -> None:
        for field in (name, email, password, repeat):
            field.error = None
        if (password.value or "") != (repeat.value or ""):
            repeat.error = "The two passwords differ."
            return
        created = await run_action(
            lambda: create_first_owner(email=email.value or "", name=name.value or "", password=password.value or ""),
            errors=beside({"name": name, "email": email, "password": password}),
        )
        if created:
            await note_sign_in(user_id=created.value.id)
            ui.navigate.to(ticket_address(created.value, next="/groups"))

    submit.on_click(create)
    repeat.on("keydown.enter", create)


def logout_page() -> None:
    sign_out()
    ui.navigate.to("/login")
