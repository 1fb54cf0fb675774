"""Settings → Webhooks (owner only): the shop's endpoints, each with its events, its secret's hint,
how sending to it stands and its delivery log, with "Resend" and "Send a test event". A new
endpoint's signing secret is shown once; an endpoint switched off after days of failures says so
at the top of the page and above its log."""

from nicegui import ui

from services.staff.actor import Permission
from services.webhooks.endpoints import (
    DeliveryRow,
    EndpointRow,
    create_endpoint,
    delete_endpoint,
    list_deliveries,
    list_endpoints,
    resend,
    send_test_event,
    set_enabled,
    update_endpoint,
)
from services.webhooks.payloads import EVENT_TYPES
from services.wording import date_time
from ui.actions import beside, notify_refused, run_action
from ui.dialog_title import dialog_title
from ui.shell import empty_state, frame, page_heading
from ui.staff.permissions import can, missing_text
from ui.staff.session import current_actor

LOG_ROWS = 20
STATUS_WORDS = {"delivered": "Delivered", "retrying": "Retrying", "queued": "Queued", "failed": "Failed"}
STATUS_COLOURS = {"delivered": "positive", "retrying": "warning", "queued": "grey-7", "failed": "negative"}


class WebhooksPage:
    def __init__(self) -> None:
        self.endpoints: list[EndpointRow] = []
        self.logs: dict[int, tuple[list[DeliveryRow], int]] = {}
        # Outside the refreshed part, so a dialog or the secret outlives the log's refreshes.
        self.secret_box = ui.column().classes("w-full")
        self.dialogs = ui.element()

    async def load(self) -> None:
        actor = current_actor()
        self.endpoints = await list_endpoints(actor=actor)
        self.logs = {e.id: await list_deliveries(endpoint_id=e.id, actor=actor, limit=LOG_ROWS) for e in self.endpoints}

    async def reload(self) -> None:
        await self.load()
        self.show.refresh()

    async def reload_if_changed(self) -> None:
        before = (self.endpoints, self.logs)
        await self.load()
        if (self.endpoints, self.logs) != before:
            self.show.refresh()

    @ui.refreshable_method
    def show(self) -> None:
        for endpoint in self.endpoints:
            if endpoint.disabled_reason and not endpoint.enabled:
                with ui.card().classes("w-full bg-red-50 border-l-4 gap-1").mark("switched-off-notice"):
                    with ui.row().classes("items-center gap-2 no-wrap"):
                        ui.icon("error", size="22px").classes("text-negative")
                        ui.label(f"{endpoint.description or endpoint.url} is switched off").classes("font-medium")
                    ui.label(endpoint.disabled_reason).classes("text-sm text-slate-700")
        if not self.endpoints:
            empty_state(
                "webhook",
                "No webhook endpoints yet",
                "Add your storefront's or mailing tool's address to hear of every join, leave and group change as "
                "it happens.",
            ).mark("no-endpoints")
        for endpoint in self.endpoints:
            self._endpoint_card(endpoint)

    def _endpoint_card(self, endpoint: EndpointRow) -> None:
        with ui.card().classes("w-full gap-3").mark(f"endpoint-{endpoint.id}"):
            with ui.row().classes("w-full items-start no-wrap gap-4"):
                with ui.column().classes("gap-1 grow min-w-0"):
                    ui.label(endpoint.description or endpoint.url).classes("text-base font-medium")
                    if endpoint.description:
                        ui.label(endpoint.url).classes("text-sm text-slate-600 font-mono break-all")
                    ui.label(
                        f"Signing secret {endpoint.secret_hint} · created {date_time(endpoint.created_at)}"
                    ).classes("text-xs text-slate-500")
                    with ui.row().classes("gap-1"):
                        for kind in endpoint.events:
                            ui.badge(kind, color="blue-1", text_color="primary").classes("font-mono")
                self._state(endpoint)
            with ui.row().classes("gap-2"):
                ui.button("Send a test event", icon="send", on_click=lambda e=endpoint: self.test(e)).props(
                    "outline"
                ).mark(f"test-{endpoint.id}")
                ui.button("Edit", icon="edit", on_click=lambda e=endpoint: self.edit(e)).props("flat").mark(
                    f"edit-{endpoint.id}"
                )
                ui.button(
                    "Switch off" if endpoint.enabled else "Switch on again",
                    icon="pause" if endpoint.enabled else "play_arrow",
                    on_click=lambda e=endpoint: self.toggle(e),
                ).props("flat").mark(f"toggle-{endpoint.id}")
                ui.button("Delete", icon="delete", on_click=lambda e=endpoint: self.ask_delete(e)).props(
                    "flat color=negative"
                ).mark(f"delete-{endpoint.id}")
            self._log(endpoint)

    def _state(self, endpoint: EndpointRow) -> None:
        with ui.column().classes("gap-0 items-end shrink-0").mark(f"state-{endpoint.id}"):
            if not endpoint.enabled:
                ui.badge("Switched off", color="negative")
            elif endpoint.failing_since:
                ui.badge("Failing", color="warning")
                ui.label(f"since {date_time(endpoint.failing_since)}").classes("text-xs text-slate-500")
                if endpoint.next_try_at:
                    ui.label(f"next try {date_time(endpoint.next_try_at)}").classes("text-xs text-slate-500")
            else:
                ui.badge("Active", color="positive")
            if endpoint.waiting:
                ui.label(f"{endpoint.waiting:,} waiting").classes("text-xs text-slate-500")

    def _log(self, endpoint: EndpointRow) -> None:
        rows, total = self.logs.get(endpoint.id, ([], 0))
        with ui.column().classes("w-full gap-1").mark(f"log-{endpoint.id}"):
            ui.label(
                f"Delivery log: the newest {len(rows)} of {total:,}" if total > len(rows) else "Delivery log"
            ).classes("text-sm font-medium text-slate-700")
            if not endpoint.enabled and endpoint.disabled_reason:
                ui.label(endpoint.disabled_reason).classes("text-sm text-negative")
            if not rows:
                ui.label("Nothing sent yet.").classes("text-sm text-slate-500")
                return
            with ui.grid(columns="auto auto auto auto auto auto minmax(0,1fr) auto").classes(
                "w-full gap-x-4 gap-y-1 items-center text-sm"
            ):
                for heading in ("Event", "Type", "Status", "Attempts", "Answer", "Last try", "Next try / error", ""):
                    ui.label(heading).classes("text-xs uppercase tracking-wide text-slate-500")
                for row in rows:
                    self._log_row(row)

    def _log_row(self, row: DeliveryRow) -> None:
        ui.label(row.event_id).classes("font-mono text-xs")
        ui.label(row.event_type).classes("font-mono text-xs")
        ui.badge(STATUS_WORDS[row.status], color=STATUS_COLOURS[row.status]).mark(f"delivery-{row.id}-status")
        ui.label(str(row.attempts))
        ui.label(str(row.status_code) if row.status_code else "–")
        ui.label(date_time(row.last_tried_at) if row.last_tried_at else "–")
        detail = row.last_error
        if row.next_try_at and row.status == "retrying":
            detail = f"next try {date_time(row.next_try_at)}; {detail}"
        shown = ui.label(detail or "–").classes("text-xs text-slate-600 truncate")
        if detail:
            shown.tooltip(detail)
        ui.button("Resend", on_click=lambda r=row: self.resend(r)).props("flat dense size=sm").mark(f"resend-{row.id}")

    # --- Actions ------------------------------------------------------------------------------

    async def test(self, endpoint: EndpointRow) -> None:
        if await run_action(
            lambda: send_test_event(endpoint_id=endpoint.id, actor=current_actor()), missing=notify_refused
        ):
            ui.notify("A test event is on its way; it shows in the delivery log.", type="positive")
            await self.reload()

    async def resend(self, row: DeliveryRow) -> None:
        if await run_action(lambda: resend(delivery_id=row.id, actor=current_actor()), missing=notify_refused):
            ui.notify(f"{row.event_id} is sent again, with the same id.", type="positive")
            await self.reload()

    async def toggle(self, endpoint: EndpointRow) -> None:
        if await run_action(
            lambda: set_enabled(endpoint_id=endpoint.id, enabled=not endpoint.enabled, actor=current_actor()),
            missing=notify_refused,
        ):
            ui.notify("Switched on again." if not endpoint.enabled else "Switched off.", type="positive")
            await self.reload()

    def ask_delete(self, endpoint: EndpointRow) -> None:
        with self.dialogs, ui.dialog() as dialog, ui.card().classes("max-w-md").mark("delete-endpoint-dialog"):
            dialog_title(dialog, "Delete this endpoint?")
            ui.label(f"{endpoint.url} receives nothing more, and its delivery log goes with it.")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                confirm = ui.button("Delete endpoint", icon="delete").props("color=negative").mark("confirm-delete")

        async def delete() -> None:
            if await run_action(
                lambda: delete_endpoint(endpoint_id=endpoint.id, actor=current_actor()), missing=notify_refused
            ):
                ui.notify("The endpoint was deleted.", type="positive")
            dialog.close()
            await self.reload()

        confirm.on_click(delete)
        dialog.open()

    def edit(self, endpoint: EndpointRow | None = None) -> None:
        """The form for a new endpoint (`endpoint` None) or a change to one."""
        with self.dialogs, ui.dialog() as dialog, ui.card().classes("w-full max-w-xl gap-3").mark("endpoint-dialog"):
            dialog_title(dialog, "Change endpoint" if endpoint else "Add endpoint")
            url = ui.input("Address (URL)", value=endpoint.url if endpoint else "", placeholder="https://")
            url.props("outlined").classes("w-full").mark("endpoint-url")
            description = ui.input(
                "Description", value=endpoint.description if endpoint else "", placeholder="e.g. Storefront tags"
            )
            description.props("outlined").classes("w-full").mark("endpoint-description")
            ui.label("Events to send").classes("text-sm font-medium text-slate-700")
            chosen = set(endpoint.events) if endpoint else set(EVENT_TYPES)
            boxes = {}
            with ui.column().classes("gap-0"):
                for kind, label in EVENT_TYPES.items():
                    boxes[kind] = ui.checkbox(f"{label} ({kind})", value=kind in chosen).mark(f"event-{kind}")
            events_error = ui.label().classes("text-sm text-negative").mark("events-error")
            events_error.set_visibility(False)
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                save = ui.button("Save" if endpoint else "Add endpoint", icon="save").mark("save-endpoint")

        def show_events_error(message: str) -> None:
            events_error.text = message
            events_error.set_visibility(bool(message))

        async def submit() -> None:
            url.error = description.error = None
            show_events_error("")
            picked = [kind for kind, box in boxes.items() if box.value]
            show = beside({"url": url, "description": description}, rest=show_events_error)
            if endpoint:
                done = await run_action(
                    lambda: update_endpoint(
                        endpoint_id=endpoint.id,
                        url=url.value or "",
                        events=picked,
                        description=description.value or "",
                        actor=current_actor(),
                    ),
                    errors=show,
                    missing=notify_refused,
                )
            else:
                done = await run_action(
                    lambda: create_endpoint(
                        url=url.value or "", events=picked, description=description.value or "", actor=current_actor()
                    ),
                    errors=show,
                )
            if not done:
                return
            dialog.close()
            if endpoint is None:
                self.show_secret(done.value.secret)
            else:
                ui.notify("Endpoint saved.", type="positive")
            await self.reload()

        save.on_click(submit)
        dialog.open()

    def show_secret(self, secret: str) -> None:
        self.secret_box.clear()
        with self.secret_box, ui.card().classes("w-full gap-2 bg-amber-50").mark("new-secret"):
            ui.label("The new endpoint's signing secret").classes("text-base font-medium")
            ui.label(
                "Copy it now into your receiver: you will not see it again, only its last four characters."
            ).classes("text-sm text-amber-800")
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                ui.input(value=secret).props("outlined readonly dense").classes("grow font-mono").mark("secret")

                def copy() -> None:
                    ui.clipboard.write(secret)
                    ui.notify("Copied.", type="positive")

                ui.button("Copy", icon="content_copy", on_click=copy).mark("copy-secret")
            ui.label(
                "Check each delivery with it as the Standard Webhooks spec says, e.g. in Python "
                "standardwebhooks.Webhook(secret).verify(body, headers)."
            ).classes("text-xs text-slate-500")


async def webhooks_page() -> None:
    async with frame("Webhooks", section="settings"):
        with ui.row().classes("w-full items-end justify-between"):
            page_heading(
                "Webhooks",
                "Tell your storefront, mailing tool or CRM about group changes as they happen: each event is "
                "signed (Standard Webhooks) and sent in order, and retried until it arrives.",
            )
            add = ui.button("Add endpoint", icon="add").mark("add-endpoint")
        if not can(Permission.MANAGE_SETTINGS):
            add.disable()
            empty_state("lock", "Only the shop's owner manages webhooks", missing_text(Permission.MANAGE_SETTINGS))
            return
        page = WebhooksPage()
        await page.load()
        page.show()
        add.on_click(lambda: page.edit())
        with ui.row().classes("w-full justify-between items-center text-xs text-slate-500"):
            ui.label("The delivery log refreshes every few seconds. Polling instead? GET /api/v1/membership-events.")
        ui.timer(3.0, page.reload_if_changed)
