"""Every page's route, in one place."""

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from services.storage.daily_backups import BackupPlace
from ui.benefits.hierarchy_page import hierarchy_page
from ui.benefits.overlaps_page import overlaps_page
from ui.benefits.price_check import price_check_page
from ui.catalog.pages import catalog_page, price_list_page
from ui.customers import customer_detail_page, customers_page
from ui.element_cost import remember_handler_signatures
from ui.groups.detail import group_detail_page
from ui.groups.overview import groups_overview_page
from ui.imports.customers import customer_import_page
from ui.promotions.form import edit_promotion_page, new_promotion_page
from ui.promotions.list_page import promotions_page
from ui.reports.comparison import comparison_page
from ui.reports.group_report import group_report_page
from ui.settings.page import settings_page
from ui.settings.webhooks import webhooks_page
from ui.staff.account_page import account_page
from ui.staff.api_tokens_page import api_tokens_page
from ui.staff.audit_page import audit_page
from ui.staff.auth_pages import login_page, logout_page, setup_page
from ui.staff.staff_page import staff_page
from ui.wizard.flow import edit_group_page, new_group_page


def _moved_to(target: str):
    """A page that moved: the old address sends the browser on, with its query."""

    def moved(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{target}?{request.url.query}" if request.url.query else target, status_code=308)

    return moved


def register_pages(*, backups: BackupPlace) -> None:
    """`backups`: where the Settings page's backups go (the app's settings, read once at start)."""
    remember_handler_signatures()

    async def settings() -> None:
        await settings_page(backups=backups)

    ui.page("/login")(login_page)
    ui.page("/setup")(setup_page)
    ui.page("/logout")(logout_page)
    ui.page("/")(groups_overview_page)
    ui.page("/groups")(groups_overview_page)
    ui.page("/groups/new")(new_group_page)
    ui.page("/groups/hierarchy")(hierarchy_page)  # before /groups/{group_id}
    ui.page("/groups/overlaps")(overlaps_page)
    ui.page("/groups/{group_id}")(group_detail_page)
    ui.page("/groups/{group_id}/edit")(edit_group_page)
    ui.page("/groups/{group_id}/report")(group_report_page)
    ui.page("/customers")(customers_page)
    ui.page("/customers/import")(customer_import_page)  # before /customers/{customer_id}
    ui.page("/customers/{customer_id}")(customer_detail_page)
    ui.page("/settings")(settings)
    ui.page("/settings/webhooks")(webhooks_page)
    ui.page("/price-check")(price_check_page)
    ui.page("/simulator")(_moved_to("/price-check"))  # its address until December 2026: bookmarks still work
    ui.page("/catalog")(catalog_page)
    ui.page("/catalog/price-lists/{price_list_id}")(price_list_page)
    ui.page("/promotions")(promotions_page)
    ui.page("/promotions/new")(new_promotion_page)  # before /promotions/{promotion_id}
    ui.page("/promotions/{promotion_id}")(edit_promotion_page)
    ui.page("/reports")(comparison_page)
    ui.page("/staff")(staff_page)
    ui.page("/account")(account_page)
    ui.page("/account/tokens")(api_tokens_page)
    ui.page("/audit")(audit_page)
