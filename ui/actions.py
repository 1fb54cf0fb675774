"""One way for a page to run an action and show why a service refused it.

The services refuse with the errors in services/errors.py: FormError (a message per field),
PermissionDeniedError (the signed-in role lacks a permission), NotFoundError (deleted meanwhile)
and ChangedMeanwhileError (someone else saved first). `run_action` calls the service and hands each
refusal to the page's own way of showing it; the page then only says what happens on success:

    done = await run_action(lambda: save(...), errors=form.show_errors, busy=[button])
    if done:
        ui.notify(f"Saved {done.value.name}.")

Unless the page says otherwise, field messages are notified as a warning and refusals as an error.
A page that expects no NotFoundError or ChangedMeanwhileError (it passes no `missing` / `changed`)
lets them through to the app's own error handler, as before.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any, Generic, TypeVar

from nicegui import ui

from services.errors import ChangedMeanwhileError, FormError, NotFoundError, PermissionDeniedError

T = TypeVar("T")

ShowText = Callable[[str], Any]  # shows one refusal's words (may be async)
ShowErrors = Callable[[dict[str, str]], Any]  # shows a FormError's message per field (may be async)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """Whether the action went through (the outcome is true then) and what it returned."""

    ok: bool
    value: T | None = None

    def __bool__(self) -> bool:
        return self.ok


def joined(errors: Mapping[str, str]) -> str:
    """A FormError's messages as one text, for a page that shows them in one place."""
    return " ".join(errors.values())


def in_words(show: ShowText) -> ShowErrors:
    """Show a FormError's messages as one text where `show` shows a refusal."""
    return lambda errors: show(joined(errors))


def beside(fields: Mapping[str, Any], rest: ShowText | None = None) -> ShowErrors:
    """Show each message beside its field (an input, select, ...: anything with an `error`), keyed
    by the service's field name; messages for no field here go to `rest`, if the page shows them."""

    def show(errors: dict[str, str]) -> Any:
        for name, element in fields.items():
            element.error = errors.get(name)
        if rest is not None:
            return rest(" ".join(text for name, text in errors.items() if name not in fields))
        return None

    return show


def notify_refused(text: str) -> None:
    ui.notify(text, type="negative")


def notify_problems(errors: dict[str, str]) -> None:
    ui.notify(joined(errors), type="warning")


async def _shown(result: Any) -> None:
    if isawaitable(result):
        await result


async def run_action(
    action: Callable[[], Awaitable[T] | T],
    *,
    errors: ShowErrors = notify_problems,
    refused: ShowText = notify_refused,
    missing: ShowText | None = None,
    changed: Callable[[], Any] | None = None,
    busy: Iterable[ui.element] = (),
) -> Outcome[T]:
    """Run `action` (a service call, sync or async) and show a refusal the page's way:
    `errors` gets a FormError's messages by field, `refused` a PermissionDeniedError's words,
    `missing` a NotFoundError's and `changed` is called on a ChangedMeanwhileError. The elements in
    `busy` (buttons) show that they are working until the action ends."""
    busy = list(busy)
    for element in busy:
        element.props("loading")
    try:
        result = action()
        if isawaitable(result):
            result = await result
    except FormError as problem:
        await _shown(errors(problem.errors))
        return Outcome(False)
    except PermissionDeniedError as problem:
        await _shown(refused(str(problem)))
        return Outcome(False)
    except NotFoundError as problem:
        if missing is None:
            raise
        await _shown(missing(str(problem)))
        return Outcome(False)
    except ChangedMeanwhileError:
        if changed is None:
            raise
        await _shown(changed())
        return Outcome(False)
    finally:
        for element in busy:
            element.props(remove="loading")
    return Outcome(True, result)
