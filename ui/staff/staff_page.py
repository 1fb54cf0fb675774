"""Staff: the owner invites people, changes their roles and deactivates or reactivates accounts.

Everyone else sees a plain "owner only" state; the services refuse the changes anyway.
"""

import secrets

from nicegui import ui

from models.staff import Role
from services.staff.accounts import StaffRow, change_role, create_user, list_staff, set_active
from services.staff.actor import ROLE_LABELS, Permission
from services.wording import date_time
from ui.actions import beside, run_action
from ui.shell import empty_state, frame, page_heading
from ui.staff.permissions import can
from ui.staff.session import current_actor

ROLE_HINTS = {
    Role.OWNER: "Everything, including staff and settings.",
    Role.MANAGER: "Groups, members, rules, benefits, catalog and promotions; no staff or settings.",
    Role.VIEWER: "Reads and reports only.",
}


# The app sends no email: the owner hands the password over, so the page must not suggest otherwise.
INVITE_DOES = "Invite creates the account and shows a first password for you to hand over. No email is sent."


def first_password() -> str:
    """A password the owner hands over; the new person changes it after signing in."""
    return secrets.token_urlsafe(12)


class StaffList:
    """The staff, one row each, with an error beside the row whose change was refused."""

    def __init__(self) -> None:
        self.rows: list[StaffRow] = []
        self.errors: dict[int, str] = {}

    async def load(self) -> None:
        self.rows = await list_staff(actor=current_actor())

    @ui.refreshable_method
    def render(self) -> None:
        me = current_actor().id
        with ui.card().classes("w-full p-0 gap-0").mark("staff-list"):
            with ui.row().classes("w-full px-4 py-2 text-xs uppercase tracking-wider text-slate-500 no-wrap"):
                ui.label("Name").classes("w-64")
                ui.label("Role").classes("w-44")
                ui.label("Status").classes("w-28")
                ui.label("Last sign-in").classes("w-44")
            for row in self.rows:
                ui.separator()
                self._row(row, is_me=row.id == me)

    def _row(self, row: StaffRow, *, is_me: bool) -> None:
        with ui.row().classes("w-full px-4 py-3 items-center no-wrap").mark(f"staff-{row.id}"):
            with ui.column().classes("w-64 gap-0"):
                ui.label(row.name + (" (you)" if is_me else "")).classes("font-medium").mark(f"staff-name-{row.id}")
                ui.label(row.email).classes("text-sm text-slate-500")
            role = ui.select({r: ROLE_LABELS[r] for r in Role}, value=row.role).props("outlined dense")
            role.classes("w-44").mark(f"role-{row.id}")
            role.error = self.errors.get(row.id)
            role.on_value_change(lambda event, row=row: self.change_role(row, event.value))
            status = "Active" if row.active else "Deactivated"
            ui.badge(status, color="positive" if row.active else "grey").classes("w-28").mark(f"status-{row.id}")
            ui.label(date_time(row.last_login_at) if row.last_login_at else "Never").classes(
                "w-44 text-slate-600"
            ).mark(f"last-sign-in-{row.id}")
            ui.space()
            if row.active:
                ui.button("Deactivate", icon="person_off", on_click=lambda row=row: self.confirm(row, False)).props(
                    "flat color=negative"
                ).mark(f"deactivate-{row.id}")
            else:
                ui.button("Reactivate", icon="person", on_click=lambda row=row: self.confirm(row, True)).props(
                    "flat color=primary"
                ).mark(f"reactivate-{row.id}")

    async def reload(self) -> None:
        await self.load()
        self.render.refresh()

    async def change_role(self, row: StaffRow, role: Role) -> None:
        if role == row.role:
            return
        self.errors.pop(row.id, None)
        if await self._run(row, lambda: change_role(user_id=row.id, role=role, actor=current_actor())):
            ui.notify(f"{row.name} is now {ROLE_LABELS[role]}.", type="positive")
        if row.id in self.errors:
            ui.notify(self.errors[row.id], type="warning")
        await self.reload()

    async def _run(self, row: StaffRow, action) -> bool:
        """Run a change to `row`; a refusal is kept as the row's error (the first, for a FormError)."""

        def refused(text: str) -> None:
            self.errors[row.id] = text

        return bool(
            await run_action(
                action,
                errors=lambda errors: refused(next(iter(errors.values()))),
                refused=refused,
                missing=refused,
            )
        )

    def confirm(self, row: StaffRow, active: bool) -> None:
        verb = "Reactivate" if active else "Deactivate"
        text = (
            f"{row.name} can sign in again with their password."
            if active
            else f"{row.name} can no longer sign in and is signed out at their next step. Nothing they did is lost."
        )
        with ui.dialog() as dialog, ui.card().classes("w-[28rem] gap-3").mark("confirm-staff"):
            ui.label(f"{verb} {row.name}?").classes("text-lg font-semibold")
            ui.label(text).classes("text-slate-600")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat").mark("cancel")

                async def done() -> None:
                    dialog.close()
                    await self.set_active(row, active)

                ui.button(verb, on_click=done).props(f"color={'primary' if active else 'negative'}").mark("confirm")
        dialog.open()

    async def set_active(self, row: StaffRow, active: bool) -> None:
        self.errors.pop(row.id, None)
        if await self._run(row, lambda: set_active(user_id=row.id, active=active, actor=current_actor())):
            ui.notify(f"{row.name} was {'reactivated' if active else 'deactivated'}.", type="positive")
        if row.id in self.errors:
            ui.notify(self.errors[row.id], type="warning")
        await self.reload()


def invite_dialog(staff: StaffList) -> ui.dialog:
    with ui.dialog() as dialog, ui.card().classes("w-[30rem] gap-3").mark("invite-dialog"):
        ui.label("Invite a staff member").classes("text-lg font-semibold")
        ui.label(
            "This creates their account now. Nothing is sent: give them the first password below yourself, "
            "and they change it under My account after signing in."
        ).classes("text-sm text-slate-600")
        with ui.column().classes("w-full gap-3") as form:
            name = ui.input("Name").props("outlined autocomplete=off").classes("w-full").mark("invite-name")
            email = ui.input("Email").props("outlined autocomplete=off").classes("w-full").mark("invite-email")
            role = ui.select({r: ROLE_LABELS[r] for r in Role}, value=Role.MANAGER, label="Role")
            role.props("outlined").classes("w-full").mark("invite-role")
            hint = ui.label(ROLE_HINTS[Role.MANAGER]).classes("text-sm text-slate-500 -mt-2")
            role.on_value_change(lambda event: hint.set_text(ROLE_HINTS[event.value]))
            password = ui.input("First password", value=first_password()).props("outlined autocomplete=off")
            password.classes("w-full font-mono").mark("invite-password")
            password.props["hint"] = "Copy it now: it is not shown again once you close this dialog."
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                submit = ui.button("Invite", icon="person_add").mark("invite-submit")
        with ui.column().classes("w-full gap-3") as done:
            handed = ui.label().classes("text-slate-700").mark("invite-done")
            given = ui.label().classes("font-mono text-lg bg-slate-100 rounded px-3 py-2").mark("invite-given")
            with ui.row().classes("w-full justify-end"):
                ui.button("Done", on_click=dialog.close).mark("invite-close")
        done.set_visibility(False)

    async def invite() -> None:
        for field in (name, email, role, password):
            field.error = None
        created = await run_action(
            lambda: create_user(
                email=email.value or "",
                name=name.value or "",
                password=password.value or "",
                role=role.value,
                actor=current_actor(),
            ),
            errors=beside({"name": name, "email": email, "password": password, "role": role}),
            refused=lambda text: setattr(role, "error", text),
        )
        if not created:
            return
        row = created.value
        handed.text = (
            f"{row.name} ({row.email}) can now sign in as {ROLE_LABELS[row.role]} with this first password. "
            "Nothing was sent to them: hand it over yourself."
        )
        given.text = password.value
        form.set_visibility(False)
        done.set_visibility(True)
        await staff.reload()

    submit.on_click(invite)
    return dialog


async def staff_page() -> None:
    async with frame("Staff", section="staff"):
        allowed = can(Permission.MANAGE_STAFF)
        staff = StaffList()
        with ui.row().classes("w-full items-center justify-between"):
            page_heading("Staff", "Who can sign in to this app, and what each of them may do.")
            if allowed:
                with ui.column().classes("items-end gap-1"):
                    ui.button("Invite", icon="person_add", on_click=lambda: invite_dialog(staff).open()).mark("invite")
                    ui.label(INVITE_DOES).classes("text-xs text-slate-500 max-w-xs text-right").mark("invite-explained")
        if not allowed:
            empty_state(
                "lock",
                "Only the shop's owner manages staff",
                "Ask the owner if you need an account for someone, or a different role.",
            ).mark("owner-only")
            return
        await staff.load()
        staff.render()
        with ui.column().classes("gap-1 text-sm text-slate-500"):
            for role in Role:
                ui.label(f"{ROLE_LABELS[role]}: {ROLE_HINTS[role]}")
