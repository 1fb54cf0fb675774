"""A rule checked against one customer, drawn as the rule's tree with a tick or a cross per condition
and the customer's actual value beside it."""

from nicegui import ui

from services.rules.explainer import GroupCheck
from services.rules.words import Wording, actual_text, condition_text


def _mark(passed: bool) -> None:
    if passed:
        ui.icon("check_circle", size="xs").classes("text-positive")
    else:
        ui.icon("cancel", size="xs").classes("text-negative")


def show_check(check: GroupCheck, wording: Wording, *, nested: bool = False) -> None:
    box = ui.column().classes("w-full gap-1")
    if nested:
        box.classes("border-l-2 border-slate-300 pl-3")
    with box:
        with ui.row().classes("items-center gap-2 text-sm text-slate-600"):
            _mark(check.passed)
            ui.label("All of these:" if check.match == "all" else "Any of these:")
        for item in check.items:
            if isinstance(item, GroupCheck):
                with ui.row().classes("w-full pl-5"):
                    show_check(item, wording, nested=True)
                continue
            with (
                ui.row()
                .classes("w-full items-center gap-2 pl-5 no-wrap text-sm")
                .mark(f"why-{'pass' if item.passed else 'fail'}")
            ):
                _mark(item.passed)
                ui.label(condition_text(item.condition, wording)).classes("text-slate-800")
                ui.label("·").classes("text-slate-400")
                ui.label(f"has {actual_text(item.condition, item.actual, wording)}").classes("text-slate-500")
