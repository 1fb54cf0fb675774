"""The rule builder: ALL/ANY groups of conditions, each a field, a comparison and a value that fit
the field's type. It edits the rule as the JSON the services take (money in cents).

Structure changes (add, remove, reorder, another field or comparison) redraw the builder; typing a
value only updates the rule, so the input keeps its focus, and tells `on_change` to refresh the
preview. A condition's problem is shown at the input that causes it (its outline and its message
under it), set on the input itself so marking never redraws the builder under the owner's typing.
"""

import copy
from collections.abc import Callable

from nicegui import ui

from services.rules.fields import (
    FIELDS,
    LIST_VALUE,
    MAX_DEPTH,
    NO_VALUE,
    OP_LABELS,
    RANGE_VALUE,
    Op,
    RuleField,
    ValueType,
)
from services.rules.templates import TEMPLATES
from services.wording import currency_symbol
from ui.dialog_title import dialog_title
from ui.lazy_menu import lazy_menu

FIELD_OPTIONS = {name: field.label for name, field in FIELDS.items()}
# Below md (768 px, where the page's header folds into its menu) a condition's inputs stack, each
# the full width, its order buttons below them: side by side they need some 700 px.
PHONE_CONDITIONS = """
@media (width < 48rem) {
  .rule-condition.no-wrap { flex-wrap: wrap !important; }
  .rule-condition > label, .rule-condition > .q-field { width: 100% !important; }
}
"""
UNITS = {ValueType.DAYS: "days", ValueType.MONTHS: "months"}


def new_condition(field: str = "total_purchases") -> dict:
    spec = FIELDS[field]
    # "is at least" is what owners mean most often with amounts and counts.
    op = Op.GTE if spec.allows(Op.GTE) else spec.ops[0]
    condition = {"field": field, "op": op.value, "value": _empty_value(spec, op)}
    if spec.has_months:
        condition["months"] = 12
    return condition


def _empty_value(field: RuleField, op: Op):
    if op in NO_VALUE:
        return None
    if op in RANGE_VALUE:
        return [None, None]
    if op in LIST_VALUE:
        return []
    return None


def _child_path(path: str, index: int) -> str:
    return f"{path}.{index}" if path else str(index)


def _blank(value) -> bool:
    return value is None or value == "" or value == []


def faulty_part(condition: dict, message: str) -> str:
    """Which input of a condition a problem belongs to: "field", "op", "months", "value" or "value2"
    (the second end of a range)."""
    field = FIELDS.get(condition.get("field") or "")
    if field is None:
        return "field"
    if condition.get("op") not in {op.value for op in field.ops}:
        return "op"
    if field.has_months and "month" in message:
        return "months"
    value = condition.get("value")
    if Op(condition["op"]) in RANGE_VALUE and isinstance(value, list) and len(value) == 2:
        return "value" if _blank(value[0]) else "value2"
    return "value"


def is_blank_rule(rule: dict) -> bool:
    """Nothing the owner would miss: no condition with a value, no nested group."""
    items = rule.get("conditions") or []
    return all("conditions" not in item and "match" not in item and _blank(item.get("value")) for item in items)


class RuleBuilder:
    def __init__(
        self,
        *,
        rule: dict | None,
        currency: str,
        groups: dict[int, str],
        tags: list[str],
        on_change: Callable[[], None],
    ) -> None:
        self.rule: dict = copy.deepcopy(rule) if rule else {"match": "all", "conditions": [new_condition()]}
        self.errors: dict[str, str] = {}
        self.currency = currency
        self.symbol = currency_symbol(currency)
        self.groups = groups
        self.tags = tags
        self.on_change = on_change
        # Each drawn condition's inputs by path ("1.0") and part ("value"), to mark a problem on them.
        self.inputs: dict[str, dict[str, ui.element]] = {}
        self.conditions: dict[str, dict] = {}
        ui.add_css(PHONE_CONDITIONS)

    # -- changes ---------------------------------------------------------------------------------

    def _changed(self, *, redraw: bool) -> None:
        if redraw:
            self.render.refresh()
        self.on_change()

    def use_template(self, rule: dict) -> None:
        self.rule = copy.deepcopy(rule)
        self.errors = {}
        self._changed(redraw=True)

    def choose_template(self, template) -> None:
        """A template replaces the whole rule: an owner's own conditions are only replaced once they
        agree."""
        if is_blank_rule(self.rule):
            self.use_template(template.rule)
            return
        with ui.dialog() as dialog, ui.card().classes("w-[28rem] max-w-full").mark("template-confirm"):
            dialog_title(dialog, f"Replace this rule with “{template.name}”?")
            conditions = sum(1 for _ in _leaves(self.rule))
            ui.label(
                f"The template takes the place of the rule's {conditions} condition"
                + ("s" if conditions != 1 else "")
                + ". Nothing is saved until you save the group."
            ).classes("text-slate-600")
            with ui.row().classes("w-full justify-end"):
                ui.button("Keep my rule", on_click=dialog.close).props("flat").mark("template-keep")

                def replace() -> None:
                    dialog.close()
                    self.use_template(template.rule)

                ui.button("Replace the rule", on_click=replace).mark("template-replace")
        dialog.on("hide", dialog.delete)
        dialog.open()

    def show_errors(self, errors: dict[str, str]) -> None:
        """Errors by condition path ("" for the whole rule), as the services report them."""
        self.errors = errors
        self.render.refresh()
        self._mark_inputs()

    def mark(self, errors: dict[str, str]) -> None:
        """Show the rule's problems while the owner edits: at the inputs of each condition, without a
        redraw (which would take the focus from the input being typed in). The whole rule's and the
        groups' problems are labels: they change only with the rule's structure, which redraws."""
        labels = {path: text for path, text in errors.items() if path not in self.conditions}
        before = {path: text for path, text in self.errors.items() if path not in self.conditions}
        self.errors = errors
        if labels != before:
            self.render.refresh()
        self._mark_inputs()

    def _mark_inputs(self) -> None:
        for path, parts in self.inputs.items():
            message = self.errors.get(path)
            wrong = faulty_part(self.conditions[path], message) if message else None
            for part, element in parts.items():
                element.error = message if part == wrong else None

    def _add(self, group: dict, item: dict) -> None:
        group["conditions"].append(item)
        self._changed(redraw=True)

    def _remove(self, group: dict, index: int) -> None:
        del group["conditions"][index]
        self.errors = {}
        self._changed(redraw=True)

    def _move(self, group: dict, index: int, step: int) -> None:
        items = group["conditions"]
        target = index + step
        if 0 <= target < len(items):
            items[index], items[target] = items[target], items[index]
            self.errors = {}
            self._changed(redraw=True)

    def _set_match(self, group: dict, match: str) -> None:
        group["match"] = match
        self._changed(redraw=False)

    def _set_field(self, condition: dict, name: str) -> None:
        condition.clear()
        condition.update(new_condition(name))
        self._changed(redraw=True)

    def _set_op(self, condition: dict, op: str) -> None:
        field, old = FIELDS[condition["field"]], Op(condition["op"])
        new = Op(op)
        condition["op"] = op
        # Keep what can be kept: a single value becomes the first of a list or range, and back.
        value = condition.get("value")
        first = value[0] if isinstance(value, list) and value else value
        if new in NO_VALUE:
            condition["value"] = None
        elif new in RANGE_VALUE:
            condition["value"] = value if old in RANGE_VALUE else [first, None]
        elif new in LIST_VALUE:
            condition["value"] = value if old in LIST_VALUE else ([first] if first is not None else [])
        else:
            condition["value"] = first if old not in NO_VALUE else _empty_value(field, new)
        # Between two comparisons of one value ("is at least" -> "is greater than") the inputs stay
        # as they are; redrawing would only take the owner's focus away.
        same_shape = all((old in kind) == (new in kind) for kind in (NO_VALUE, RANGE_VALUE, LIST_VALUE))
        self._changed(redraw=not same_shape)

    def _set_value(self, condition: dict, value, index: int | None = None) -> None:
        if index is None:
            condition["value"] = value
        else:
            condition["value"][index] = value
        self._changed(redraw=False)

    def _set_months(self, condition: dict, months) -> None:
        condition["months"] = int(months) if months is not None else None
        self._changed(redraw=False)

    # -- drawing ---------------------------------------------------------------------------------

    @ui.refreshable_method
    def render(self) -> None:
        self.inputs, self.conditions = {}, {}
        with ui.column().classes("w-full gap-2"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Conditions").classes("text-base font-medium")
                templates = ui.button("Start from a template", icon="auto_awesome").props("flat no-caps")
                lazy_menu(templates.mark("rule-templates"), self._template_entries)
            if "" in self.errors:
                ui.label(self.errors[""]).classes("text-negative text-sm").mark("rule-error")
            self._group(self.rule, "", depth=0, parent=None, index=0)
        self._mark_inputs()

    def _template_entries(self) -> None:
        for template in TEMPLATES:
            with ui.item(on_click=lambda t=template: self.choose_template(t)).mark(f"template-{template.key}"):
                with ui.item_section():
                    ui.item_label(template.name)
                    ui.item_label(template.description_in(currency=self.currency)).props("caption")

    def _group(self, group: dict, path: str, *, depth: int, parent: dict | None, index: int) -> None:
        nested = parent is not None
        box = ui.column().classes("w-full gap-2")
        if nested:
            box.classes("border-l-4 border-secondary bg-slate-50 rounded p-3")
        with box:
            with ui.row().classes("w-full items-center gap-2"):
                ui.label("Match").classes("text-slate-600")
                ui.toggle(
                    {"all": "ALL", "any": "ANY"},
                    value=group.get("match", "all"),
                    on_change=lambda e, g=group: self._set_match(g, e.value),
                ).props("dense no-caps toggle-color=primary").mark(f"rule-match-{path}" if path else "rule-match")
                ui.label("of the following conditions").classes("text-slate-600")
                if nested:
                    ui.space()
                    self._order_buttons(parent, index, path, "group")
            if path in self.errors and path:
                ui.label(self.errors[path]).classes("text-negative text-sm").mark(f"rule-error-{path}")
            items = group.setdefault("conditions", [])
            if not items:
                ui.label("No conditions yet: add one below.").classes("text-slate-500 text-sm italic")
            for i, item in enumerate(items):
                child = _child_path(path, i)
                if "match" in item or "conditions" in item:
                    self._group(item, child, depth=depth + 1, parent=group, index=i)
                else:
                    self._condition(item, child, group, i)
            with ui.row().classes("gap-2"):
                suffix = f"-{path}" if path else ""
                ui.button("Add Condition", icon="add", on_click=lambda g=group: self._add(g, new_condition())).props(
                    "flat dense no-caps"
                ).mark(f"rule-add-condition{suffix}")
                if depth + 1 < MAX_DEPTH - 1:
                    ui.button(
                        "Add Group (OR)",
                        icon="add_box",
                        on_click=lambda g=group: self._add(g, {"match": "any", "conditions": [new_condition()]}),
                    ).props("flat dense no-caps").mark(f"rule-add-group{suffix}")

    def _order_buttons(self, group: dict, index: int, path: str, what: str) -> None:
        count = len(group["conditions"])
        with ui.row().classes("gap-0 no-wrap"):
            for icon, name, step, last in (
                ("arrow_upward", "up", -1, index == 0),
                ("arrow_downward", "down", 1, index == count - 1),
            ):
                move = ui.button(icon=icon, on_click=lambda step=step: self._move(group, index, step))
                move.props("flat round dense size=sm" + (" disable" if last else "")).mark(f"rule-{name}-{path}")
                _named(move, f"Move this {what} {name}")
            remove = ui.button(icon="close", on_click=lambda: self._remove(group, index))
            remove.props("flat round dense size=sm color=negative").mark(f"rule-remove-{path}")
            _named(remove, f"Remove this {what}")

    def _condition(self, condition: dict, path: str, group: dict, index: int) -> None:
        field = FIELDS.get(condition.get("field", ""))
        self.conditions[path] = condition
        inputs = self.inputs[path] = {}
        with ui.column().classes("w-full gap-0"):
            with ui.row().classes("w-full items-start gap-2 no-wrap rule-condition"):
                inputs["field"] = (
                    ui.select(
                        FIELD_OPTIONS,
                        value=condition.get("field") if field else None,
                        label="Field",
                        on_change=lambda e: self._set_field(condition, e.value),
                    )
                    .props("outlined dense options-dense")
                    .classes("w-56")
                    .mark(f"rule-field-{path}")
                )
                if field is not None:
                    if field.has_months:
                        months = (
                            ui.number("Months", value=condition.get("months"), min=1, max=120, precision=0, format="%d")
                            .props("outlined dense")
                            .classes("w-24")
                        )
                        months.on_value_change(lambda e: self._set_months(condition, e.value))
                        months.mark(f"rule-months-{path}")
                        inputs["months"] = months
                    ops = {op.value: OP_LABELS[op] for op in field.ops}
                    inputs["op"] = (
                        ui.select(
                            ops,
                            value=condition.get("op") if condition.get("op") in ops else None,
                            label="Comparison",
                            on_change=lambda e: self._set_op(condition, e.value),
                        )
                        .props("outlined dense options-dense")
                        .classes("w-44")
                        .mark(f"rule-op-{path}")
                    )
                    self._value_inputs(condition, field, path)
                ui.space()
                self._order_buttons(group, index, path, "condition")

    def _value_inputs(self, condition: dict, field: RuleField, path: str) -> None:
        op = Op(condition["op"]) if condition.get("op") in Op._value2member_map_ else None
        if op is None or op in NO_VALUE:
            return
        value = condition.get("value")
        if op in RANGE_VALUE:
            low, high = value if isinstance(value, list) and len(value) == 2 else (None, None)
            self.inputs[path]["value"] = self._scalar_input(condition, field, low, path, index=0)
            ui.label("and").classes("self-center text-slate-600")
            self.inputs[path]["value2"] = self._scalar_input(
                condition, field, high, path, index=1, mark=f"rule-value2-{path}"
            )
        elif op in LIST_VALUE:
            self.inputs[path]["value"] = self._list_input(
                condition, field, value if isinstance(value, list) else [], path
            )
        else:
            self.inputs[path]["value"] = self._scalar_input(condition, field, value, path)

    def _scalar_input(
        self, condition: dict, field: RuleField, value, path: str, *, index: int | None = None, mark: str = ""
    ) -> ui.element:
        mark = mark or f"rule-value-{path}"
        match field.type:
            case ValueType.MONEY:
                amount = ui.number("Amount", value=value / 100 if value is not None else None, min=0, step=100)
                amount.props(f'outlined dense prefix="{self.symbol}"').classes("w-40").mark(mark)
                amount.on_value_change(
                    lambda e: self._set_value(condition, round(e.value * 100) if e.value is not None else None, index)
                )
                return amount
            case ValueType.NUMBER | ValueType.DAYS | ValueType.MONTHS:
                number = ui.number("Value", value=value, min=0, precision=0, format="%d")
                number.props("outlined dense" + (f' suffix="{UNITS[field.type]}"' if field.type in UNITS else ""))
                number.classes("w-36").mark(mark)
                number.on_value_change(
                    lambda e: self._set_value(condition, int(e.value) if e.value is not None else None, index)
                )
                return number
            case ValueType.CHOICE:
                choice = ui.select(dict(field.choices), value=value, label="Value", with_input=field.name == "country")
                choice.props("outlined dense options-dense").classes("w-48").mark(mark)
                choice.on_value_change(lambda e: self._set_value(condition, e.value, index))
                return choice
            case _:
                text = ui.input("Value", value=value or "").props("outlined dense").classes("w-56").mark(mark)
                text.on_value_change(lambda e: self._set_value(condition, e.value, index))
                return text

    def _list_input(self, condition: dict, field: RuleField, values: list, path: str) -> ui.element:
        match field.type:
            case ValueType.CHOICE:
                options: dict | list = dict(field.choices)
            case ValueType.GROUPS:
                options = self.groups
            case ValueType.TAGS:
                options = sorted({*self.tags, *values})
            case _:
                options = list(values)
        select = ui.select(
            options,
            value=[v for v in values if v in options],
            label="Values" if field.type != ValueType.GROUPS else "Groups",
            multiple=True,
            with_input=field.type in (ValueType.TAGS, ValueType.CHOICE),
            new_value_mode="add-unique" if field.type == ValueType.TAGS else None,
        )
        select.props("outlined dense use-chips options-dense").classes("min-w-[14rem]").mark(f"rule-value-{path}")
        select.on_value_change(lambda e: self._set_value(condition, list(e.value or [])))
        return select


def _named(button: ui.button, name: str) -> None:
    """An icon button's name for screen readers, and for the pointer as the browser's own hint (a
    `title`, not a Quasar tooltip: each condition has three of these, and a tooltip is one more
    element for the server to build and the browser to mount on every load of the Rules step)."""
    button.props["aria-label"] = name
    button.props["title"] = name


def _leaves(group: dict):
    for item in group.get("conditions") or []:
        if "conditions" in item or "match" in item:
            yield from _leaves(item)
        else:
            yield item
