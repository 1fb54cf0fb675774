"""The period a report covers: a few common periods at one click, or a custom range of days."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from inspect import isawaitable

from nicegui import ui

from services.reports import PERIOD_LABELS, Period, period_for
from ui.actions import in_words, run_action
from ui.format import typed_day

DEFAULT_PERIOD = "12m"


class PeriodPicker:
    """A toggle of the common periods; "Custom" shows the first and the last day (both included),
    filled in with the period shown until then. `on_change` gets each new valid period."""

    def __init__(self, *, on_change: Callable[[Period], Awaitable[None] | None], key: str = DEFAULT_PERIOD) -> None:
        self.on_change = on_change
        self.period = period_for(key)
        self._filling = False
        with ui.row().classes("items-center gap-3"):
            self.choice = ui.toggle(PERIOD_LABELS, value=key, on_change=self._choice_changed)
            self.choice.props("no-caps unelevated toggle-color=primary color=white text-color=grey-9")
            # On a phone the periods take two lines rather than squeezing each label onto three.
            self.choice.classes("border border-slate-200 max-md:flex-wrap").mark("period")
            with ui.row().classes("items-center gap-2") as self.custom:
                self.start = ui.input("First day").props("type=date outlined dense stack-label").classes("w-40")
                self.start.mark("period-start")
                self.end = ui.input("Last day").props("type=date outlined dense stack-label").classes("w-40")
                self.end.mark("period-end")
                self.problem = ui.label().classes("text-sm text-negative").mark("period-problem")
                self.problem.set_visibility(False)
            self.custom.set_visibility(key == "custom")
        self._fill_days(self.period)
        self.start.on_value_change(self._days_changed)
        self.end.on_value_change(self._days_changed)

    def _fill_days(self, period: Period) -> None:
        self._filling = True
        self.start.value = period.start.isoformat()
        self.end.value = (period.end - timedelta(days=1)).isoformat()
        self._filling = False

    async def _choice_changed(self) -> None:
        self.custom.set_visibility(self.choice.value == "custom")
        if self.choice.value == "custom":
            await self._days_changed()
        elif self.choice.value:
            period = period_for(self.choice.value)
            self._fill_days(period)
            await self._apply(period)

    async def _days_changed(self) -> None:
        if self._filling or self.choice.value != "custom":
            return
        chosen = await run_action(
            lambda: period_for("custom", start=typed_day(self.start.value), end=typed_day(self.end.value)),
            errors=in_words(self._show_problem),
        )
        if not chosen:
            return
        self.problem.set_visibility(False)
        await self._apply(chosen.value)

    def _show_problem(self, text: str) -> None:
        self.problem.text = text
        self.problem.set_visibility(True)

    async def _apply(self, period: Period) -> None:
        self.period = period
        result = self.on_change(period)
        if isawaitable(result):
            await result
