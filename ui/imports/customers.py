"""Import customers, group memberships or orders from a CSV file, step by step on one page:
what to import, the file, its columns, a check with a preview and the row errors, then import."""

from nicegui import events, ui

from services.errors import FormError
from services.imports.customers import ImportCheck, ImportResult, check_customers, import_customers
from services.imports.files import (
    MAX_BYTES,
    CsvFile,
    ImportKind,
    PreviewRow,
    RowError,
    fields_for,
    read_csv,
    suggest_mapping,
)
from services.imports.memberships import MembershipCheck, MembershipImportResult, check_memberships, import_memberships
from services.imports.orders import OrderCheck, OrderImportResult, check_orders, import_orders
from services.imports.products import ProductCheck, ProductImportResult, check_products, import_products
from services.membership.changes import AddMode
from services.staff.actor import Permission
from services.wording import count
from ui.actions import in_words, run_action
from ui.shell import frame, page_heading
from ui.staff.permissions import guard
from ui.staff.session import current_actor

MAX_ERRORS_SHOWN = 200
NOT_IN_FILE = "— not in the file —"
KIND_LABELS = {
    ImportKind.CUSTOMERS: "Customers",
    ImportKind.MEMBERSHIPS: "Group memberships",
    ImportKind.ORDERS: "Orders",
    ImportKind.PRODUCTS: "Products",
}
KIND_HINTS = {
    ImportKind.PRODUCTS: "One product per row, found by its SKU: a known SKU updates that product and empty cells "
    "keep what is saved (a file of SKUs and costs fills in the costs). A new product needs a name, a category and "
    "a base price; a category you do not have yet is created.",
    ImportKind.CUSTOMERS: "One customer per row. A known email updates that customer; empty cells leave "
    "saved values as they are.",
    ImportKind.MEMBERSHIPS: "One membership per row: a customer's email and the code of a group.",
    ImportKind.ORDERS: "One row per order, or per line item with the rows of an order together (Shopify's and "
    "WooCommerce's order exports as they are). A known order number updates that order.",
}
# What the preview shows of each order (one row per order, not per line item).
PREVIEW_FIELDS = {
    ImportKind.ORDERS: (
        ("number", "Order"),
        ("email", "Customer"),
        ("placed_at", "Placed at"),
        ("total", "Total"),
        ("status", "Status"),
        ("lines", "Items"),
    )
}
Check = ImportCheck | MembershipCheck | OrderCheck | ProductCheck
Result = ImportResult | MembershipImportResult | OrderImportResult | ProductImportResult
MODE_LABELS = {
    AddMode.ADD: "Add to group only",
    AddMode.MOVE: "Move from current group",
    AddMode.PRIMARY: "Add as primary",
}
ACTION_LABELS = {"new": "New", "update": "Update", "unchanged": "No change", "add": "Add", "error": "Error"}
ACTION_CELL = r"""
<q-td :props="props">
  <q-badge :color="{New: 'positive', Update: 'primary', Add: 'positive', Error: 'negative'}[props.value] || 'grey-8'"
           :label="props.value" />
</q-td>
"""
ERROR_COLUMNS = [
    {"name": "row", "label": "Row", "field": "row", "align": "right"},
    {"name": "column", "label": "Column", "field": "column", "align": "left"},
    {"name": "message", "label": "Problem", "field": "message", "align": "left"},
]


class ImportPage:
    """The page's state; each step is a refreshable that renders from it."""

    def __init__(self) -> None:
        self.kind = ImportKind.CUSTOMERS
        self.file: CsvFile | None = None
        self.filename = ""
        self.file_error = ""
        self.mapping: dict[str, str | None] = {}
        self.mapping_errors: dict[str, str] = {}
        self.check: Check | None = None
        self.create_customers = False
        self.all_or_nothing = False
        self.mode = AddMode.ADD
        self.running = False
        self.result: Result | None = None
        self.refused = ""
        self.progress: ui.linear_progress | None = None
        self.upload: ui.upload | None = None
        self.kind_hint: ui.label | None = None

    # --- Events -------------------------------------------------------------------------------

    async def receive(self, data: bytes, filename: str) -> None:
        """A file arrived: read it, suggest the mapping and check it."""
        self.file, self.filename, self.file_error = None, filename, ""
        self.check, self.result, self.refused = None, None, ""
        read = await run_action(lambda: read_csv(data=data), errors=self._file_refused)
        if read:
            self.file = read.value
            self.mapping = suggest_mapping(headers=self.file.headers, kind=self.kind)
        self.file_view.refresh()
        await self.recheck()

    def _file_refused(self, errors: dict[str, str]) -> None:
        self.file_error = errors.get("file", str(FormError(errors)))

    async def _on_upload(self, event: events.UploadEventArguments) -> None:
        await self.receive(await event.file.read(), event.file.name)
        if self.upload:
            self.upload.reset()

    async def set_kind(self, kind: ImportKind) -> None:
        self.kind = kind
        self.result, self.refused = None, ""
        if self.file:
            self.mapping = suggest_mapping(headers=self.file.headers, kind=kind)
        if self.kind_hint is not None:
            self.kind_hint.text = KIND_HINTS[kind]
        await self.recheck()

    async def set_column(self, key: str, header: str | None) -> None:
        self.mapping[key] = header
        await self.recheck()

    async def set_mode(self, mode: AddMode) -> None:
        self.mode = mode
        await self.recheck()

    async def recheck(self) -> None:
        self.check, self.mapping_errors = None, {}
        if self.file is not None:
            checked = await run_action(self._check, errors=lambda errors: setattr(self, "mapping_errors", errors))
            if checked:
                self.check = checked.value
        self.mapping_view.refresh()
        self.check_view.refresh()
        self.import_view.refresh()

    async def set_create_customers(self, value: bool) -> None:
        self.create_customers = value
        await self.recheck()

    async def _check(self) -> Check:
        assert self.file is not None
        if self.kind == ImportKind.CUSTOMERS:
            return await check_customers(file=self.file, mapping=self.mapping)
        if self.kind == ImportKind.PRODUCTS:
            return await check_products(file=self.file, mapping=self.mapping)
        if self.kind == ImportKind.ORDERS:
            return await check_orders(file=self.file, mapping=self.mapping, create_customers=self.create_customers)
        return await check_memberships(file=self.file, mapping=self.mapping, mode=self.mode)

    def _show_progress(self, share: float) -> None:
        if self.progress is not None:
            self.progress.value = round(share, 3)

    async def run_import(self) -> None:
        if self.file is None or self.running:
            return
        self.running, self.result, self.refused = True, None, ""
        self.import_view.refresh()
        try:
            imported = await run_action(
                self._import, errors=in_words(self._import_refused), refused=self._import_refused
            )
        finally:
            self.running = False
        if imported:
            self.result = imported.value
        if self.result is not None and self.result.imported:
            await self.recheck()  # the preview now shows the rows as saved
        else:
            self.import_view.refresh()

    def _import_refused(self, text: str) -> None:
        self.refused = text

    async def _import(self) -> Result:
        assert self.file is not None
        if self.kind == ImportKind.PRODUCTS:
            return await import_products(
                file=self.file,
                mapping=self.mapping,
                all_or_nothing=self.all_or_nothing,
                actor=current_actor(),
                progress=self._show_progress,
            )
        if self.kind == ImportKind.ORDERS:
            return await import_orders(
                file=self.file,
                mapping=self.mapping,
                all_or_nothing=self.all_or_nothing,
                create_customers=self.create_customers,
                actor=current_actor(),
                progress=self._show_progress,
            )
        if self.kind == ImportKind.CUSTOMERS:
            return await import_customers(
                file=self.file,
                mapping=self.mapping,
                all_or_nothing=self.all_or_nothing,
                actor=current_actor(),
                progress=self._show_progress,
            )
        else:
            return await import_memberships(
                file=self.file,
                mapping=self.mapping,
                all_or_nothing=self.all_or_nothing,
                mode=self.mode,
                actor=current_actor(),
                progress=self._show_progress,
            )

    # --- Rendering ----------------------------------------------------------------------------

    def render(self) -> None:
        with ui.card().classes("w-full"):
            _step(1, "What are you importing?")
            ui.radio(
                dict(KIND_LABELS),
                value=self.kind,
                on_change=lambda e: self.set_kind(ImportKind(e.value)),
            ).props("inline").mark("import-kind")
            self.kind_hint = ui.label(KIND_HINTS[self.kind]).classes("text-sm text-slate-500")
        with ui.card().classes("w-full"):
            _step(2, "Choose the CSV file")
            ui.label(
                "Comma, semicolon or tab separated, with the column names in the first row. "
                "In Excel: File › Save As › CSV UTF-8."
            ).classes("text-sm text-slate-500")
            # The uploader's byte counter means nothing once the file is read; the line below says more.
            ui.add_css(".import-upload .q-uploader__subtitle { display: none }")
            self.upload = (
                ui.upload(
                    label="Drop the file here, or click +",
                    auto_upload=True,
                    max_file_size=MAX_BYTES,
                    on_upload=self._on_upload,
                )
                .props('accept=".csv,.txt,text/csv" flat bordered color=primary')
                .classes("import-upload w-96")
                .mark("import-upload")
            )
            self.file_view()
        self.mapping_view()
        self.check_view()
        self.import_view()

    @ui.refreshable_method
    def file_view(self) -> None:
        if self.file is not None:
            ui.label(
                f"{self.filename}: {count(self.file.row_count, 'row')} below the header, "
                f"{count(len(self.file.headers), 'column')}."
            ).classes("text-slate-700").mark("import-file")
        if self.file_error:
            with ui.row().classes("items-center gap-2 text-negative"):
                ui.icon("error")
                ui.label(f"{self.filename}: {self.file_error}").mark("file-error")

    @ui.refreshable_method
    def mapping_view(self) -> None:
        if self.file is None:
            return
        options = {None: NOT_IN_FILE, **{h: h for h in self.file.headers}}
        with ui.card().classes("w-full"):
            _step(3, "Match the columns")
            ui.label("We matched what we recognised; check each field. Fields marked * are required.").classes(
                "text-sm text-slate-500"
            )
            with ui.grid(columns=4).classes("w-full gap-x-4 gap-y-1"):
                for item in fields_for(self.kind):
                    with ui.column().classes("gap-0"):
                        select = (
                            ui.select(
                                options,
                                value=self.mapping.get(item.key),
                                label=f"{item.label}{' *' if item.required else ''}",
                                on_change=lambda e, key=item.key: self.set_column(key, e.value),
                            )
                            .props("outlined dense options-dense")
                            .classes("w-full")
                            .mark(f"map-{item.key}")
                        )
                        if error := self.mapping_errors.get(item.key):
                            select.props["error"] = True
                            select.props["error-message"] = error
                        else:
                            ui.label(item.hint).classes("text-xs text-slate-500")

    @ui.refreshable_method
    def check_view(self) -> None:
        check = self.check
        if check is None:
            return
        with ui.card().classes("w-full"):
            _step(4, "Check the rows")
            if isinstance(check, ImportCheck):
                parts = [
                    count(check.new, "new customer"),
                    count(check.updated, "customer to update", "customers to update"),
                    count(check.unchanged, "unchanged", "unchanged"),
                ]
            elif isinstance(check, ProductCheck):
                parts = [
                    count(check.new, "new product"),
                    count(check.updated, "product to update", "products to update"),
                    count(check.unchanged, "unchanged", "unchanged"),
                ]
                if check.new_categories:
                    ui.label(f"New categories: {', '.join(check.new_categories)}.").classes(
                        "text-sm text-slate-500"
                    ).mark("import-new-categories")
            elif isinstance(check, OrderCheck):
                if check.layout:
                    ui.label(f"Recognised: {check.layout}.").classes("text-sm text-slate-500").mark("import-layout")
                parts = [
                    count(check.orders, "order"),
                    f"{check.new:,} new",
                    f"{check.updated:,} to update",
                    f"{check.unchanged:,} unchanged",
                ]
                if check.new_customers:
                    parts.append(count(check.new_customers, "new customer"))
            else:
                parts = [f"{n:,} for {name}" for name, n in check.by_group.items()] or ["no memberships to add"]
            if check.error_rows:
                parts.append(count(check.error_rows, "row with errors", "rows with errors"))
            ui.label(f"{count(check.rows, 'row')}: {', '.join(parts)}.").classes("text-slate-800").mark(
                "import-summary"
            )
            _preview_table(self.kind, check.preview)
            if check.errors:
                _error_table(self.kind, check.errors)

    @ui.refreshable_method
    def import_view(self) -> None:
        if self.check is None and self.result is None and not self.refused:
            return
        with ui.card().classes("w-full"):
            _step(5, "Import")
            if self.kind == ImportKind.ORDERS:
                ui.checkbox(
                    "Create customers for unknown emails",
                    value=self.create_customers,
                    on_change=lambda e: self.set_create_customers(e.value),
                ).mark("create-customers")
            if self.kind == ImportKind.MEMBERSHIPS:
                ui.radio(
                    dict(MODE_LABELS),
                    value=self.mode,
                    on_change=lambda e: self.set_mode(AddMode(e.value)),
                ).props("inline").mark("import-mode")
            ui.checkbox(
                "All or nothing: import nothing if any row has an error",
                value=self.all_or_nothing,
                on_change=lambda e: self._set_all_or_nothing(e.value),
            ).mark("all-or-nothing")
            with ui.row().classes("w-full items-center gap-4"):
                possible = self.check is not None and self.check.valid > 0
                saved_as_is = isinstance(self.check, ImportCheck | OrderCheck | ProductCheck) and not (
                    self.check.new or self.check.updated
                )
                blocked = self.check is not None and self.all_or_nothing and self.check.error_rows > 0
                label = "Import" if self.check is None else f"Import {count(self.check.valid, 'row')}"
                button = ui.button(label, icon="upload", on_click=self.run_import).props("no-caps")
                button.mark("import-button")
                if self.running:
                    button.props("loading")
                needed = {
                    ImportKind.MEMBERSHIPS: Permission.MANAGE_MEMBERS,
                    ImportKind.PRODUCTS: Permission.MANAGE_CATALOG,
                }.get(self.kind, Permission.MANAGE_CUSTOMERS)
                if guard(button, needed) and (not possible or saved_as_is or blocked or self.running):
                    button.disable()
                if possible and saved_as_is:
                    what = {ImportKind.ORDERS: "order", ImportKind.PRODUCTS: "product"}.get(self.kind, "customer")
                    ui.label(f"Every {what} in the file is saved as it is: nothing to change.").classes(
                        "text-sm text-slate-500"
                    )
                elif blocked:
                    ui.label("Fix the rows with errors first, or untick “All or nothing”.").classes(
                        "text-sm text-slate-500"
                    )
            self.progress = (
                ui.linear_progress(value=0, show_value=False, size="10px")
                .props("rounded color=primary")
                .mark("import-progress")
            )
            self.progress.set_visibility(self.running)
            if self.refused:
                with ui.row().classes("items-center gap-2 text-negative").mark("import-result"):
                    ui.icon("block")
                    ui.label(f"Nothing was imported. {self.refused}")
            elif self.result is not None:
                _result(self.result, all_or_nothing=self.all_or_nothing)

    def _set_all_or_nothing(self, value: bool) -> None:
        self.all_or_nothing = value
        self.import_view.refresh()


def _step(number: int, title: str) -> None:
    with ui.row().classes("items-center gap-2"):
        ui.label(str(number)).classes(
            "w-6 h-6 rounded-full bg-primary text-white text-sm flex items-center justify-center"
        )
        ui.label(title).classes("text-base font-medium")


def _preview_table(kind: ImportKind, preview: list[PreviewRow]) -> None:
    if not preview:
        return
    shown = PREVIEW_FIELDS.get(kind) or tuple((f.key, f.label) for f in fields_for(kind))
    columns = [
        {"name": "row", "label": "Row", "field": "row", "align": "right"},
        {"name": "action", "label": "Action", "field": "action", "align": "left"},
        *({"name": key, "label": label, "field": key, "align": "left"} for key, label in shown),
    ]
    rows = [{"row": p.row, "action": ACTION_LABELS[p.action], **p.values} for p in preview]
    what = count(len(rows), "order") if kind == ImportKind.ORDERS else count(len(rows), "row")
    ui.label(f"The first {what}, as they would be saved:").classes("text-sm text-slate-500")
    table = ui.table(columns=columns, rows=rows, row_key="row").props("flat bordered dense hide-pagination")
    table.props(":pagination='{rowsPerPage: 0}'").classes("w-full").mark("import-preview")
    table.add_slot("body-cell-action", ACTION_CELL)


def _error_table(kind: ImportKind, errors: list[RowError]) -> None:
    labels = {f.key: f.label for f in fields_for(kind)}
    shown = errors[:MAX_ERRORS_SHOWN]
    more = f" (the first {MAX_ERRORS_SHOWN:,} of {len(errors):,})" if len(errors) > len(shown) else ""
    ui.label(f"Problems, by row as your spreadsheet numbers them{more}:").classes("text-sm text-negative")
    rows = [
        {"id": i, "row": e.row, "column": labels.get(e.field or "", ""), "message": e.message}
        for i, e in enumerate(shown)
    ]
    ui.table(columns=ERROR_COLUMNS, rows=rows, row_key="id").props(
        "flat bordered dense virtual-scroll hide-pagination :pagination='{rowsPerPage: 0}'"
    ).classes("w-full max-h-80").mark("import-errors")


def _result(result: Result, *, all_or_nothing: bool) -> None:
    with ui.column().classes("w-full gap-1").mark("import-result"):
        if not result.imported:
            with ui.row().classes("items-center gap-2 text-negative"):
                ui.icon("block")
                why = " and “All or nothing” is on" if all_or_nothing else ""
                ui.label(f"Nothing was imported: {count(result.error_rows, 'row has', 'rows have')} errors{why}.")
            return
        with ui.row().classes("items-center gap-2 text-positive"):
            ui.icon("check_circle")
            if isinstance(result, ImportResult):
                ui.label(
                    f"Imported: {count(result.created, 'customer')} created, {result.updated:,} updated, "
                    f"{result.unchanged:,} unchanged."
                )
            elif isinstance(result, ProductImportResult):
                new = f" New categories: {', '.join(result.categories_created)}." if result.categories_created else ""
                ui.label(
                    f"Imported: {count(result.created, 'product')} created, {result.updated:,} updated, "
                    f"{result.unchanged:,} unchanged.{new}"
                )
            elif isinstance(result, OrderImportResult):
                created = f", {count(result.customers_created, 'customer')} created" if result.customers_created else ""
                ui.label(
                    f"Imported: {count(result.created, 'order')} new, {result.updated:,} updated, "
                    f"{result.unchanged:,} unchanged{created}. Purchase stats are up to date."
                )
            else:
                ui.label(f"Imported: {count(result.added, 'membership')} added, {result.already:,} already there.")
        if result.error_rows:
            ui.label(f"{count(result.error_rows, 'row')} with errors left out (listed above).").classes(
                "text-slate-600"
            )
        if isinstance(result, ImportResult | OrderImportResult):
            for change in result.rule_changes:
                ui.label(f"{change.group_name}: {change.joined:,} joined, {change.left:,} left by its rule.").classes(
                    "text-sm text-slate-600"
                )
        elif isinstance(result, MembershipImportResult):
            for group in result.groups:
                ui.label(group.summary()).classes("text-sm text-slate-600")
        if isinstance(result, ProductImportResult):
            ui.link("Go to the catalog", "/catalog").classes("text-primary mt-2").mark("back-to-catalog")
        else:
            ui.link("Back to customers", "/customers").classes("text-primary mt-2").mark("back-to-customers")


async def customer_import_page() -> None:
    async with frame("Import", section="customers"):
        with ui.row().classes("items-center gap-1 text-sm text-slate-500"):
            ui.link("Customers", "/customers").classes("text-slate-500")
            ui.icon("chevron_right")
            ui.label("Import")
        page_heading(
            "Import from CSV",
            "Bring customers, group memberships, orders or products in from a spreadsheet or your shop's export.",
        )
        ImportPage().render()
