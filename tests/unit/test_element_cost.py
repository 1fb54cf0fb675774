"""NiceGUI's "does this handler take arguments?" answered once per method: the same answers."""

import functools

from nicegui import helpers
from nicegui.observables import ObservableList

from ui.element_cost import _answers, _asked, expects_arguments, remember_handler_signatures


class Handlers:
    def without(self) -> None: ...

    def with_one(self, event) -> None: ...

    def with_default(self, event=None) -> None: ...

    def with_any(self, *args, **kwargs) -> None: ...


def test_the_answers_are_nicegui_own_for_every_kind_of_handler():
    first, second = Handlers(), Handlers()
    handlers = [
        first.without,
        first.with_one,
        second.with_one,
        first.with_default,
        first.with_any,
        lambda: None,
        lambda event: None,
        functools.partial(lambda a, b: None, 1),
        print,
    ]
    for handler in handlers * 2:  # asked twice: the second answer is the remembered one
        assert expects_arguments(handler) is _asked(handler), handler


def test_nicegui_asks_it_once_installed():
    remember_handler_signatures()
    assert helpers.expects_arguments is expects_arguments
    changes = ObservableList([], on_change=Handlers().with_default)
    assert _answers[Handlers.with_default] is False
    changes.append(1)  # and the handler still runs
