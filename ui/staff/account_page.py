"""My account: who I am signed in as, and changing my password."""

from nicegui import ui

from services.staff.accounts import PASSWORD_MIN, change_password
from services.staff.actor import ROLE_LABELS
from ui.actions import beside, run_action
from ui.shell import frame, page_heading
from ui.staff.session import current_actor


async def account_page() -> None:
    actor = current_actor()
    async with frame("My account", section="account"):
        page_heading("My account", f"{actor.name} · {actor.email} · {ROLE_LABELS[actor.role]}")
        with ui.card().classes("w-full max-w-md gap-3").mark("change-password"):
            ui.label("Change my password").classes("text-base font-medium")
            current = ui.input("Current password", password=True, password_toggle_button=True)
            current.props("outlined autocomplete=current-password").classes("w-full").mark("current-password")
            new = ui.input("New password", password=True, password_toggle_button=True)
            new.props("outlined autocomplete=new-password").classes("w-full").mark("new-password")
            new.props["hint"] = f"At least {PASSWORD_MIN} characters."
            repeat = ui.input("Repeat the new password", password=True)
            repeat.props("outlined autocomplete=new-password").classes("w-full").mark("repeat-password")

            async def save() -> None:
                for field in (current, new, repeat):
                    field.error = None
                if (new.value or "") != (repeat.value or ""):
                    repeat.error = "The two passwords differ."
                    return
                if not await run_action(
                    lambda: change_password(actor=current_actor(), current=current.value or "", new=new.value or ""),
                    errors=beside({"current": current, "new": new}),
                ):
                    return
                for field in (current, new, repeat):
                    field.value = ""
                ui.notify("Your password was changed.", type="positive")

            with ui.row().classes("w-full justify-end"):
                ui.button("Change password", icon="key", on_click=save).mark("save-password")
