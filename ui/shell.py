"""The page shell every page shares: header with the shop's name, navigation, content column."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from nicegui import app, ui

from services.shop import get_shop
from services.staff.actor import ROLE_LABELS, Permission
from ui.staff.session import signed_in

# Buttons read as written ("Add to Group"), not in Quasar's capitals.
ui.button.default_props("no-caps")

NAVIGATION = [
    ("groups", "Groups", "/groups", "groups"),
    ("customers", "Customers", "/customers", "person"),
    ("catalog", "Catalog", "/catalog", "inventory_2"),
    ("promotions", "Promotions", "/promotions", "local_offer"),
    ("price-check", "Price check", "/price-check", "calculate"),
    ("reports", "Reports", "/reports", "insights"),
    ("settings", "Settings", "/settings", "settings"),
]


@asynccontextmanager
async def frame(title: str, *, section: str) -> AsyncIterator[None]:
    """Render the shell around a page's content. `section` marks the active navigation entry."""
    shop = await get_shop()
    ui.page_title(f"{title} · {shop.name}")
    # positive and secondary darker than Quasar's own, so white text on a badge and green text on
    # white keep a 4.5:1 contrast (WCAG AA).
    ui.colors(primary="#1f4e79", secondary="#4a6a8a", accent="#c8891b", positive="#15803d")
    with ui.header().classes("items-center px-6 py-2 gap-6 bg-white text-slate-800 border-b border-slate-200"):
        with ui.link(target="/groups").classes("flex items-center gap-2 no-underline text-inherit"):
            ui.icon("groups", size="28px").classes("text-primary")
            with ui.column().classes("gap-0"):
                ui.label("Customer Groups").classes("text-xs uppercase tracking-wider text-slate-500")
                ui.label(shop.name).classes("text-base font-semibold leading-tight").mark("shop-name")
        with ui.row().classes("gap-1 ml-4 no-wrap"):
            for key, label, target, icon in NAVIGATION:
                active = key == section
                button = ui.button(label, icon=icon, on_click=lambda t=target: ui.navigate.to(t))
                # Narrow padding: with the account menu's name the header still fits one line at 1366 px.
                button.props(f"flat no-caps padding='xs sm' {'color=primary' if active else 'color=grey-8'}")
                button.mark(f"nav-{key}")
                if active:
                    button.classes("bg-blue-50")
        if actor := signed_in():
            # Labelled with the person's name: Staff, Audit log and API tokens live in this menu, and
            # a bare avatar does not say so.
            account = ui.button(actor.name, icon="account_circle").props(
                "flat no-caps color=grey-8 icon-right=expand_more"
            )
            account.props["aria-label"] = f"Account menu: {actor.name}"
            with account.classes("ml-auto").mark("account"):
                with ui.menu():
                    ui.label(f"{actor.name} · {ROLE_LABELS[actor.role]}").classes("px-4 py-2 text-sm text-slate-600")
                    ui.menu_item("My account", on_click=lambda: ui.navigate.to("/account")).mark("menu-account")
                    ui.menu_item("API tokens", on_click=lambda: ui.navigate.to("/account/tokens")).mark("menu-tokens")
                    if actor.can(Permission.MANAGE_STAFF):
                        ui.menu_item("Staff", on_click=lambda: ui.navigate.to("/staff")).mark("menu-staff")
                        ui.menu_item("Audit log", on_click=lambda: ui.navigate.to("/audit")).mark("menu-audit")
                    ui.separator()
                    ui.menu_item("Sign out", on_click=lambda: ui.navigate.to("/logout")).mark("sign-out")
    message = app.storage.user.pop("next_page_message", None)
    with ui.column().classes("w-full max-w-6xl mx-auto px-6 py-6 gap-4"):
        if message:
            outcome(message["text"], type=message["type"])
        yield


OUTCOME_STYLES = {
    "positive": ("check_circle", "bg-green-50 border-green-700 text-green-900"),
    "warning": ("warning", "bg-amber-50 border-amber-700 text-amber-800"),
    "negative": ("error", "bg-red-50 border-red-800 text-red-900"),
    "info": ("info", "bg-blue-50 border-slate-300 text-slate-800"),
}


def outcome(text: str, *, type: str = "positive") -> ui.row:
    """What the last action did, at the top of the page it led to: in the page's flow, so it covers
    no button the owner needs next (a notification floats over the page), and it stays until read."""
    icon, colours = OUTCOME_STYLES.get(type, OUTCOME_STYLES["info"])
    with ui.row().classes(f"w-full items-center gap-3 rounded border-l-4 px-4 py-2 no-wrap {colours}") as box:
        box.props('role="status"').mark("outcome")
        ui.icon(icon, size="22px").props('aria-hidden="true"')
        ui.label(text).classes("flex-1").mark("outcome-text")
        close = ui.button(icon="close", on_click=box.delete).props("flat round dense size=sm color=grey-8")
        close.props["aria-label"] = "Dismiss this message"
    return box


def go_to_with_message(target: str, text: str, *, type: str = "positive") -> None:
    """Open another page and tell the owner what just happened there; a notification on the
    page being left would vanish with it."""
    app.storage.user["next_page_message"] = {"text": text, "type": type}
    ui.navigate.to(target)


def page_heading(title: str, subtitle: str = "") -> None:
    with ui.column().classes("gap-0"):
        # The page's one heading, as screen readers' "next heading" finds it.
        ui.label(title).classes("text-2xl font-semibold text-slate-800").props("role=heading aria-level=1")
        if subtitle:
            ui.label(subtitle).classes("text-slate-500")


def empty_state(icon: str, title: str, text: str) -> ui.column:
    """A calm, centred message for a page or list with nothing to show yet."""
    with ui.column().classes("w-full items-center py-16 gap-2 text-center") as box:
        ui.icon(icon, size="56px").classes("text-slate-300")
        ui.label(title).classes("text-lg font-medium text-slate-700")
        ui.label(text).classes("text-slate-500 max-w-md")
    return box


def no_results(
    text: str, *, on_clear: Callable[[], Awaitable[None] | None], mark: str, clear: str = "Clear filters"
) -> ui.row:
    """What a filtered list shows when nothing matches: what happened and the way back to everything."""
    with ui.row().classes("w-full items-center justify-center gap-3 py-8 text-center").mark(f"{mark}-none") as box:
        ui.icon("search_off", size="32px").classes("text-slate-400")
        ui.label(text).classes("text-slate-700")
        ui.button(clear, icon="filter_alt_off", on_click=on_clear).props("outline").mark(f"{mark}-clear")
    return box
