"""The Backups card of the Settings page: daily backups on or off, how many to keep, the folder,
the last backup's result, and "Back up now"."""

from datetime import UTC, datetime
from pathlib import Path

from nicegui import ui

from services.staff.actor import Permission
from services.storage.daily_backups import (
    KEEP_MAX,
    KEEP_MIN,
    BackupPlace,
    BackupStatus,
    get_backup_status,
    take_backup,
    update_backup_settings,
)
from ui.actions import run_action
from ui.format import day_and_time, file_size
from ui.staff.permissions import guard
from ui.staff.session import current_actor


class BackupCard:
    def __init__(self, place: BackupPlace, status: BackupStatus) -> None:
        self.place = place
        self.status = status

    @ui.refreshable_method
    def show_status(self) -> None:
        last, next_at = self.status.last, self.status.next_at
        with ui.column().classes("gap-1").mark("last-backup"):
            if last is None:
                ui.label("No backup has been taken yet.").classes("text-sm text-slate-600")
            elif last.ok:
                size = file_size(last.size_bytes or 0)
                ui.label(f"Last backup: {day_and_time(last.at)}, {size}").classes("text-sm text-slate-700")
                ui.label(last.file).classes("text-xs text-slate-500 font-mono break-all")
            else:
                ui.label(f"Last backup failed {day_and_time(last.at)}: {last.error}").classes(
                    "text-sm text-negative max-w-2xl"
                )
                good = self.status.last_success
                ui.label(
                    f"Last successful backup: {day_and_time(good.at)}, {file_size(good.size_bytes or 0)}"
                    if good
                    else "No backup has been taken successfully yet."
                ).classes("text-sm text-slate-700")
            if next_at is not None:
                when = day_and_time(next_at) if next_at > datetime.now(UTC) else "within a minute"
                ui.label(f"Next daily backup: {when}").classes("text-sm text-slate-500")

    async def reload(self) -> None:
        self.status = await get_backup_status(place=self.place)
        self.show_status.refresh()


async def backup_card(*, place: BackupPlace) -> None:
    card = BackupCard(place, await get_backup_status(place=place))
    status = card.status
    with ui.card().classes("w-full max-w-3xl gap-4").mark("backup-settings"):
        ui.label("Backups").classes("text-base font-medium")
        with ui.column().classes("gap-1"):
            enabled = ui.switch("Back up the database every day", value=status.enabled).mark("backups-enabled")
            ui.label(
                "A complete copy of the shop's database, taken while the shop stays open. Files are named by "
                "date and time (UTC); the oldest beyond the number to keep are deleted."
            ).classes("text-sm text-slate-500 max-w-2xl")
        with ui.row().classes("w-full items-start gap-4"):
            keep = (
                ui.number("Backups to keep", value=status.keep, min=KEEP_MIN, max=KEEP_MAX, precision=0, format="%d")
                .props("outlined")
                .classes("w-40")
                .mark("backup-keep")
            )
            folder = (
                ui.input("Folder", value=status.folder, placeholder=str(place.default_folder))
                .props("outlined")
                .classes("grow min-w-[16rem]")
                .mark("backup-folder")
            )
            folder.props["hint"] = f"Empty: {place.default_folder}"
        card.show_status()

        def show_errors(errors: dict[str, str]) -> None:
            keep.error = errors.get("keep")
            folder.error = errors.get("folder")

        def not_saved(errors: dict[str, str]) -> None:
            show_errors(errors)
            ui.notify("The backup settings were not saved. See the highlighted fields.", type="warning")

        async def save() -> None:
            saved = await run_action(
                lambda: update_backup_settings(
                    enabled=enabled.value,
                    keep=int(keep.value) if keep.value is not None else 0,
                    folder=folder.value or "",
                    place=place,
                    actor=current_actor(),
                ),
                errors=not_saved,
            )
            if saved:
                card.status = saved.value
                show_errors({})
                card.show_status.refresh()
                ui.notify("Backup settings saved.", type="positive")

        async def back_up_now() -> None:
            now.props("loading")
            working = ui.notification("Backing up the database…", spinner=True, timeout=None)
            try:
                taken = await run_action(lambda: take_backup(place=place, actor=current_actor()))
            finally:
                working.dismiss()
                now.props(remove="loading")
            if not taken:
                return
            taken = taken.value
            await card.reload()
            if taken.ok:
                size = file_size(taken.size_bytes or 0)
                ui.notify(f"Backed up to {Path(taken.file).name} ({size}).", type="positive")
            else:
                ui.notify(f"The backup failed: {taken.error}", type="negative", multi_line=True)

        keep.on_value_change(lambda: setattr(keep, "error", None))
        folder.on_value_change(lambda: setattr(folder, "error", None))

        with ui.row().classes("w-full justify-end gap-2"):
            now = ui.button("Back up now", icon="backup", on_click=back_up_now).props("outline").mark("backup-now")
            guard(now, Permission.MANAGE_SETTINGS)
            guard(ui.button("Save", icon="save", on_click=save).mark("save-backups"), Permission.MANAGE_SETTINGS)
