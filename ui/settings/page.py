"""Settings: the shop-wide membership choices (one group per customer, the default group) and
daily backups."""

from nicegui import ui

from services.groups.group import default_group_choices
from services.shop import get_shop, update_settings
from services.staff.actor import Permission
from services.storage.daily_backups import BackupPlace
from services.webhooks.endpoints import switched_off_endpoints
from ui.actions import run_action
from ui.settings.backups import backup_card
from ui.shell import frame, page_heading
from ui.staff.permissions import guard
from ui.staff.session import current_actor


async def settings_page(*, backups: BackupPlace) -> None:
    shop = await get_shop()
    choices = {c.id: c.name for c in await default_group_choices()}
    if shop.default_group_id is not None and shop.default_group_id not in choices:
        # The current default no longer qualifies (made automatic, switched off, made a ladder): still show it,
        # so saving explains the problem instead of the choice silently vanishing.
        choices[shop.default_group_id] = shop.default_group_name or "?"
    async with frame("Settings", section="settings"):
        page_heading("Settings", "Shop-wide choices that apply to every group.")
        with ui.card().classes("w-full max-w-3xl gap-4").mark("membership-settings"):
            ui.label("Membership").classes("text-base font-medium")

            with ui.column().classes("gap-1"):
                exclusive = ui.switch("One group per customer", value=shop.one_group_per_customer)
                exclusive.mark("one-group-per-customer")
                ui.label(
                    "When on, each customer can only be assigned to one customer group. Adding a customer who is "
                    'already in another group is refused, unless you choose "Move from current group".'
                ).classes("text-sm text-slate-500 max-w-2xl")
                exclusive_error = ui.label().classes("text-sm text-negative max-w-2xl").mark("one-group-error")
                exclusive_error.set_visibility(False)

            ui.separator()

            with ui.column().classes("gap-1 max-w-full"):
                default = (
                    ui.select(
                        {None: "(No default group)", **choices}, value=shop.default_group_id, label="Default group"
                    )
                    .props("outlined")
                    .classes("w-96 max-w-full")  # on a phone, no wider than the screen (with its column)
                    .mark("default-group")
                )
                ui.label(
                    '"Move to default group" moves customers taken out of a group here. '
                    "Only active manual and hybrid groups can be the default, and not a ladder's own group: "
                    "its customers are on its rungs."
                ).classes("text-sm text-slate-500 max-w-2xl")

            def show_errors(errors: dict[str, str]) -> None:
                message = errors.get("one_group_per_customer")
                exclusive_error.text = message or ""
                exclusive_error.set_visibility(bool(message))
                default.error = errors.get("default_group_id")

            def not_saved(errors: dict[str, str]) -> None:
                show_errors(errors)
                ui.notify("The settings were not saved. See the highlighted fields.", type="warning")

            async def save() -> None:
                if await run_action(
                    lambda: update_settings(
                        one_group_per_customer=exclusive.value, default_group_id=default.value, actor=current_actor()
                    ),
                    errors=not_saved,
                ):
                    show_errors({})
                    ui.notify("Settings saved.", type="positive")

            exclusive.on_value_change(lambda: exclusive_error.set_visibility(False))
            default.on_value_change(lambda: setattr(default, "error", None))

            with ui.row().classes("w-full justify-end"):
                guard(ui.button("Save", icon="save", on_click=save).mark("save-settings"), Permission.MANAGE_SETTINGS)

        await backup_card(place=backups)

        with ui.card().classes("w-full max-w-3xl gap-2").mark("webhooks-settings"):
            ui.label("Webhooks").classes("text-base font-medium")
            ui.label(
                "Send group changes (joins, leaves, moves, groups and rule runs) to your storefront or mailing tool "
                "as they happen, signed and in order."
            ).classes("text-sm text-slate-500 max-w-2xl")
            for name in await switched_off_endpoints(actor=current_actor()):
                ui.label(f"{name} was switched off after days of failed deliveries.").classes(
                    "text-sm text-negative"
                ).mark("webhook-switched-off")
            with ui.row().classes("w-full justify-end"):
                ui.button(
                    "Manage webhooks", icon="webhook", on_click=lambda: ui.navigate.to("/settings/webhooks")
                ).mark("open-webhooks")
