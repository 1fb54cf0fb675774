"""The page shell every page shares: header with the shop's name, navigation, content column."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from nicegui import app, ui

from services.shop import get_shop
from services.staff.actor import ROLE_LABELS, Actor, Permission
from ui.dialog_title import dialog_title
from ui.lazy_menu import lazy_menu
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


# Below Tailwind's `xl` (1280 px) the header is one line: the navigation and the account menu move
# into a drawer opened by "Menu", so a phone or a tablet shows the page, not 200 px of buttons (the
# seven sections and the account's name need about 1,180 px on one line).
PHONE_ONLY = "xl:hidden"
WIDE_ONLY = "max-xl:hidden"

# Arrow keys move between the drawer's entries (Tab does too), as in any menu; it runs in the browser.
MENU_ARROW_KEYS = """(event) => {
    const moves = {ArrowDown: 1, ArrowUp: -1, Home: 'first', End: 'last'};
    if (!(event.key in moves)) return;
    const entries = [...event.currentTarget.querySelectorAll('nav a')];
    if (!entries.length) return;
    event.preventDefault();
    const here = entries.indexOf(document.activeElement);
    const move = moves[event.key];
    const last = entries.length - 1;
    const next = move === 'first' ? 0 : move === 'last' ? last
        : here < 0 ? (move > 0 ? 0 : last) : (here + move + entries.length) % entries.length;
    entries[next].focus();
}"""


# A table wider than its box (on a phone most are) scrolls inside it. The browser marks such a box:
# it takes the keyboard's focus and has a name, so arrow keys can scroll it (WCAG 2.1.1), and its
# table gets data-overflows, which shows a line saying so and shadows on the edge that hides columns
# (ui/styles/tailwind.input.css). Checked again, once a frame at most, when the page's elements or
# its width change.
WIDE_TABLES = """<script>
(() => {
  let queued = false;
  const mark = () => {
    queued = false;
    for (const box of document.querySelectorAll('.q-table__middle')) {
      const overflows = box.scrollWidth > box.clientWidth + 1;
      box.closest('.q-table__container')?.toggleAttribute('data-overflows', overflows);
      if (overflows === box.hasAttribute('tabindex')) continue;
      if (overflows) {
        box.tabIndex = 0;
        box.setAttribute('role', 'region');
        box.setAttribute('aria-label', 'Table, scrolls sideways');
      } else {
        ['tabindex', 'role', 'aria-label'].forEach(name => box.removeAttribute(name));
      }
    }
  };
  const queue = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(mark);
    }
  };
  new MutationObserver(queue).observe(document.documentElement, {childList: true, subtree: true});
  addEventListener('resize', queue);
})();
</script>"""


def _account_entries(actor: Actor) -> list[tuple[str, str, str, str]]:
    """The account menu's entries (mark, label, address, icon), the same on a laptop and a phone."""
    entries = [
        ("account", "My account", "/account", "manage_accounts"),
        ("tokens", "API tokens", "/account/tokens", "key"),
    ]
    if actor.can(Permission.MANAGE_STAFF):
        entries += [("staff", "Staff", "/staff", "badge"), ("audit", "Audit log", "/audit", "history")]
    return entries


@asynccontextmanager
async def frame(title: str, *, section: str) -> AsyncIterator[None]:
    """Render the shell around a page's content. `section` marks the active navigation entry."""
    shop = await get_shop()
    ui.page_title(f"{title} · {shop.name}")
    ui.add_head_html(WIDE_TABLES)
    # positive and secondary darker than Quasar's own, so white text on a badge and green text on
    # white keep a 4.5:1 contrast (WCAG AA).
    ui.colors(primary="#1f4e79", secondary="#4a6a8a", accent="#c8891b", positive="#15803d")
    actor = signed_in()
    with ui.header().classes(
        "items-center px-3 md:px-6 py-2 gap-3 md:gap-6 max-xl:flex-nowrap bg-white text-slate-800 border-b border-slate-200"
    ):
        with ui.link(target="/groups").classes("flex items-center gap-2 min-w-0 no-underline text-inherit"):
            ui.icon("groups", size="28px").classes("text-primary")
            with ui.column().classes("gap-0 min-w-0"):
                ui.label("Customer Groups").classes("text-xs uppercase tracking-wider text-slate-500")
                ui.label(shop.name).classes("text-base font-semibold leading-tight truncate").mark("shop-name")
        with ui.row().classes(f"gap-1 ml-4 no-wrap {WIDE_ONLY}"):
            for key, label, target, icon in NAVIGATION:
                active = key == section
                button = ui.button(label, icon=icon, on_click=lambda t=target: ui.navigate.to(t))
                # Narrow padding: with the account menu's name the header still fits one line at 1366 px.
                button.props(f"flat no-caps padding='xs sm' {'color=primary' if active else 'color=grey-8'}")
                button.mark(f"nav-{key}")
                if active:
                    button.classes("bg-blue-50")
        if actor:
            # Labelled with the person's name: Staff, Audit log and API tokens live in this menu, and
            # a bare avatar does not say so.
            account = ui.button(actor.name, icon="account_circle").props(
                "flat no-caps color=grey-8 icon-right=expand_more"
            )
            account.props["aria-label"] = f"Account menu: {actor.name}"
            lazy_menu(account.classes(f"ml-auto {WIDE_ONLY}").mark("account"), lambda: _account_menu(actor))
        _phone_menu(section, actor)
    message = app.storage.user.pop("next_page_message", None)
    with ui.column().classes("w-full max-w-6xl mx-auto px-3 py-4 md:px-6 md:py-6 gap-4"):
        if message:
            outcome(message["text"], type=message["type"])
        yield


def _account_menu(actor: Actor) -> None:
    ui.label(f"{actor.name} · {ROLE_LABELS[actor.role]}").classes("px-4 py-2 text-sm text-slate-600")
    for key, label, target, _icon in _account_entries(actor):
        ui.menu_item(label, on_click=lambda t=target: ui.navigate.to(t)).mark(f"menu-{key}")
    ui.separator()
    ui.menu_item("Sign out", on_click=lambda: ui.navigate.to("/logout")).mark("sign-out")


def _phone_menu(section: str, actor: Actor | None) -> None:
    """The header's "Menu" button below `xl` and the drawer it opens: the navigation, the current
    page marked, then the account's entries. Escape or a tap beside it closes it, and the focus goes
    back to the button (Quasar's dialog does both). Its entries are built when it first opens: on
    every page they were half the elements of the shell, most of them never opened."""
    drawer = ui.dialog().props("position=right full-height").classes("phone-menu")

    def open_menu() -> None:
        if not drawer.default_slot.children:
            with drawer:
                _phone_menu_entries(drawer, section, actor)
        drawer.open()

    button = ui.button("Menu", icon="menu", on_click=open_menu).props("flat no-caps color=grey-8")
    button.props["aria-label"] = "Open the menu"
    button.props["aria-haspopup"] = "dialog"
    button.classes(f"ml-auto {PHONE_ONLY}").mark("phone-menu-button")


def _phone_menu_entries(drawer: ui.dialog, section: str, actor: Actor | None) -> None:
    with ui.card().classes("w-72 max-w-[85vw] h-full p-0 gap-0 rounded-none").mark("phone-menu") as card:
        card.on("keydown", js_handler=MENU_ARROW_KEYS)
        with ui.row().classes("w-full items-center justify-between no-wrap pl-4 pr-2 py-2"):
            dialog_title(drawer, "Menu")
            close = ui.button(icon="close", on_click=drawer.close).props("flat round dense color=grey-8")
            close.props["aria-label"] = "Close the menu"
        with ui.element("nav").classes("w-full flex flex-col").props('aria-label="Sections"'):
            for key, label, target, icon in NAVIGATION:
                _drawer_entry(label, target, icon=icon, mark=f"phone-nav-{key}", active=key == section)
        if actor:
            ui.separator().classes("my-2")
            with ui.element("nav").classes("w-full flex flex-col").props('aria-label="Your account"'):
                ui.label(f"{actor.name} · {ROLE_LABELS[actor.role]}").classes("px-4 py-2 text-sm text-slate-600")
                for key, label, target, icon in _account_entries(actor):
                    _drawer_entry(label, target, icon=icon, mark=f"phone-menu-{key}")
                _drawer_entry("Sign out", "/logout", icon="logout", mark="phone-sign-out")


def _drawer_entry(label: str, target: str, *, icon: str, mark: str, active: bool = False) -> None:
    """A link, not a button: it opens a page, and a long press can open it in a new tab."""
    entry = ui.link(target=target).classes(
        "flex items-center gap-4 px-4 py-3 no-underline text-slate-800 hover:bg-slate-100"
    )
    if active:
        # The current page, marked for the eye and (aria-current) for a screen reader; the drawer
        # opens with the focus on it.
        entry.classes("bg-blue-50 text-primary font-medium").props("aria-current=page autofocus")
    with entry.mark(mark):
        ui.icon(icon, size="22px").props('aria-hidden="true"')
        ui.label(label)


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
