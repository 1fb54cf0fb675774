"""API tokens: create one (its secret is shown once), see which exist, revoke them."""

from nicegui import ui

from services.staff.actor import ROLE_LABELS, Permission
from services.staff.tokens import ApiTokenRow, create_token, list_tokens, revoke_token
from services.wording import date_time
from ui.actions import beside, notify_refused, run_action
from ui.shell import frame, page_heading
from ui.staff.session import current_actor


async def api_tokens_page() -> None:
    actor = current_actor()
    async with frame("API tokens", section="account"):
        page_heading(
            "API tokens",
            "Keys for programs that use the shop's REST API (/api/v1). "
            f"A token acts as you, with your role ({ROLE_LABELS[actor.role]}).",
        )
        with ui.card().classes("w-full max-w-3xl gap-3").mark("new-token"):
            ui.label("New token").classes("text-base font-medium")
            with ui.row().classes("items-start gap-3"):
                name = ui.input("Name", placeholder="e.g. Inventory sync").props("outlined").classes("w-96")
                name.mark("token-name")
                create_button = ui.button("Create token", icon="key").classes("mt-2").mark("create-token")
        shown_once = ui.column().classes("w-full max-w-3xl")

        @ui.refreshable
        async def token_list() -> None:
            tokens = await list_tokens(actor=current_actor())
            others = any(t.user_id != actor.id for t in tokens)
            with ui.card().classes("w-full max-w-3xl gap-2").mark("token-list"):
                ui.label("Tokens").classes("text-base font-medium")
                if not tokens:
                    ui.label("No tokens yet.").classes("text-slate-500").mark("no-tokens")
                for token in tokens:
                    _token_row(token, show_owner=others, revoke=ask_revoke)

        async def create() -> None:
            name.error = None
            created = await run_action(
                lambda: create_token(actor=current_actor(), name=name.value or ""), errors=beside({"name": name})
            )
            if not created:
                return
            row, secret = created.value
            name.value = ""
            shown_once.clear()
            with shown_once, ui.card().classes("w-full gap-2 bg-amber-50").mark("new-secret"):
                ui.label(f"Your new token “{row.name}”").classes("text-base font-medium")
                ui.label("Copy it now: you will not see it again. Only its fingerprint is kept.").classes(
                    "text-sm text-amber-800"
                )
                with ui.row().classes("w-full items-center no-wrap gap-2"):
                    field = ui.input(value=secret).props("outlined readonly dense").classes("grow font-mono")
                    field.mark("secret")

                    def copy() -> None:
                        ui.clipboard.write(secret)
                        ui.notify("Copied.", type="positive")

                    ui.button("Copy", icon="content_copy", on_click=copy).mark("copy-secret")
                ui.label("Send it with each request as: Authorization: Bearer <token>").classes(
                    "text-xs text-slate-500 font-mono"
                )
            token_list.refresh()

        async def ask_revoke(token: ApiTokenRow) -> None:
            with ui.dialog() as dialog, ui.card().classes("max-w-md").mark("revoke-dialog"):
                ui.label(f"Revoke “{token.name}”?").classes("text-lg font-medium")
                ui.label("Programs using this token are refused from their next request. This cannot be undone.")
                with ui.row().classes("w-full justify-end"):
                    ui.button("Cancel", on_click=dialog.close).props("flat")
                    confirm = ui.button("Revoke token", icon="block").props("color=negative").mark("confirm-revoke")

            async def revoke() -> None:
                if await run_action(
                    lambda: revoke_token(actor=current_actor(), token_id=token.id), missing=notify_refused
                ):
                    ui.notify(f"“{token.name}” was revoked.", type="positive")
                dialog.close()
                token_list.refresh()

            confirm.on_click(revoke)
            dialog.open()

        create_button.on_click(create)
        name.on("keydown.enter", create)
        await token_list()


def _token_row(token: ApiTokenRow, *, show_owner: bool, revoke) -> None:
    with ui.row().classes("w-full items-center gap-4 py-2 border-t border-slate-100").mark(f"token-{token.id}"):
        with ui.column().classes("gap-0 grow"):
            ui.label(token.name).classes("font-medium" if token.active else "text-slate-400 line-through")
            details = [f"{token.prefix}…", f"created {date_time(token.created_at)}"]
            details.append(f"last used {date_time(token.last_used_at)}" if token.last_used_at else "never used")
            if show_owner:
                details.insert(0, token.user_name)
            ui.label(" · ".join(details)).classes("text-xs text-slate-500")
        if not token.active:
            ui.label(f"Revoked {date_time(token.revoked_at)}").classes("text-sm text-slate-500")
            return
        mine = token.user_id == current_actor().id
        if mine or current_actor().can(Permission.MANAGE_STAFF):
            ui.button("Revoke", icon="block", on_click=lambda t=token: revoke(t)).props("flat color=negative").mark(
                f"revoke-{token.id}"
            )
