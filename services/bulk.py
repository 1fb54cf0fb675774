"""Work over hundreds of thousands of rows (an import's file, its orders) without Python's cycle
collector walking them again and again.

An import's rows are millions of objects that live through it. Every collection of the young
generations walks all of them that are new, and every full one all of them again: reading 200,000
rows cost 6.4 s with the collections and 2.4 s without, and after a million-row import the
collections that followed held the event loop for 5 s. So a bulk step pauses the collector, and
when the last one ends after making many objects, what it leaves alive (the file read once for
the check and the import) is frozen out of the collector's sight (gc.freeze) rather than walked. Reference counting still frees
all of it, frozen or not; only garbage in cycles waits: the frozen objects go back to the collector
(gc.unfreeze) when a later bulk step starts or `release_frozen` is called, as when an uploaded
file is dropped, and the next full collection then finds that garbage among far fewer objects.
A small step (an API call's few orders) freezes nothing: the collector's walk of it costs little.
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_pauses = 0  # steps under way that paused the cycle collector
_lock = threading.Lock()  # steps run on the event loop and in worker threads
_collector_was_on = True
FREEZE_ABOVE = 100_000  # objects made and still alive: fewer are walked in a blink


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused for a bulk step (awaits included), resumed when the last
    step that paused it ends, with what is alive then frozen out of its sight."""
    global _pauses, _collector_was_on
    with _lock:
        if _pauses == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
            gc.unfreeze()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_on:
                if gc.get_count()[0] > FREEZE_ABOVE:  # containers made since the last collection
                    gc.freeze()
                gc.enable()


def bulk_step_under_way() -> bool:
    """Whether a bulk step holds the collector now (services.collector leaves it alone then)."""
    with _lock:
        return _pauses > 0


def release_frozen() -> None:
    """Give the objects frozen at the end of a bulk step back to the collector, once the bulk data
    among them has been dropped (during a bulk step they stay as they are)."""
    with _lock:
        if _pauses == 0:
            gc.unfreeze()
