"""Every page's route, in one place."""

from nicegui import ui

from ui.coming_soon import coming_soon_page
from ui.customers import customer_detail_page, customers_page
from ui.group_detail import group_detail_page
from ui.group_wizard import edit_group_page, new_group_page
from ui.groups_overview import groups_overview_page


def register_pages() -> None:
    ui.page("/")(groups_overview_page)
    ui.page("/groups")(groups_overview_page)
    ui.page("/groups/new")(new_group_page)
    ui.page("/groups/{group_id}")(group_detail_page)
    ui.page("/groups/{group_id}/edit")(edit_group_page)
    ui.page("/customers")(customers_page)
    ui.page("/customers/{customer_id}")(customer_detail_page)
    for section in ("promotions", "reports", "settings"):
        ui.page(f"/{section}")(coming_soon_page(section))
