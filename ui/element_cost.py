"""One cost NiceGUI pays for every element on a page, paid once per method instead.

An element's classes, style and props are observable collections, and each one asks
`inspect.signature` whether its change handler, a bound method of the collection, takes arguments:
three signatures for every element, about 30% of the time the server spent building the group page
(py-spy on bench.load's 10,000-customer shop). A bound method's signature is its function's less
the first parameter, so the answer is remembered per function. Anything else (a lambda, a partial,
a plain function: an event handler of ours) is asked as before.
"""

import types
import weakref
from collections.abc import Callable

from nicegui import helpers

_asked = helpers.expects_arguments
_answers: "weakref.WeakKeyDictionary[types.FunctionType, bool]" = weakref.WeakKeyDictionary()


def expects_arguments(func: Callable) -> bool:
    """NiceGUI's answer, remembered for bound methods."""
    if type(func) is types.MethodType and type(func.__func__) is types.FunctionType:
        answer = _answers.get(func.__func__)
        if answer is None:
            answer = _answers[func.__func__] = _asked(func)
        return answer
    return _asked(func)


def remember_handler_signatures() -> None:
    """Installed once with the pages (NiceGUI's modules look the helper up on each call)."""
    helpers.expects_arguments = expects_arguments
