"""When Python's cycle collector walks the app's objects, so that many open tabs do not stall pages.

Each open tab is a NiceGUI client whose elements live as long as the tab: with 200 tabs the
process holds about a million objects, and CPython's full collection walks every one of them with
the event loop held (250-470 ms each, every few seconds while tabs open and close, measured by
bench.load; the page loads caught behind one took twice as long). Yet those walks found almost
nothing to free (30-900 objects each): reference counting frees a closed tab's elements.

So the app collects on a schedule of its own: every FREEZE_EVERY seconds it collects what is new
since the last tick (seconds' worth of objects: a short walk) and freezes what survives out of the
collector's sight (gc.freeze), so the automatic collections in between walk only the newest
objects too. Reference counting still frees frozen objects; only garbage in cycles among them
waits, for the thaw every THAW_EVERY seconds: everything frozen goes back for one full
collection (the one long walk, now every ten minutes) and is frozen again.

A bulk step (services/bulk.py) manages the collector itself meanwhile: a tick during it does nothing.
"""

import asyncio
import gc
import time

from services.bulk import bulk_step_under_way

FREEZE_EVERY = 5.0  # seconds
THAW_EVERY = 600.0  # seconds


def tick(*, now: float, last_thaw: float | None) -> float | None:
    """One tick of the schedule at `now` (a monotonic clock); answers when the last thaw was
    (None: never, so this tick thaws)."""
    if bulk_step_under_way():
        return last_thaw
    thawing = last_thaw is None or now - last_thaw >= THAW_EVERY
    if thawing:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
    return now if thawing else last_thaw


async def collect_on_schedule() -> None:
    """Runs for the app's life (cancelled at its end). What the start made (modules, classes,
    schemas: they live as long as the app) is frozen at once, without a walk of its own: its few
    cycles of garbage wait for the first thaw.

    The app's end leaves the frozen objects frozen: the process ends with the app. (A test session
    starts and stops the app hundreds of times in one process; thawing at each stop made NiceGUI's
    two full collections per test walk the whole heap, about 100 s of a test run.)"""
    gc.freeze()
    last_thaw: float | None = time.monotonic()
    while True:
        await asyncio.sleep(FREEZE_EVERY)
        last_thaw = tick(now=time.monotonic(), last_thaw=last_thaw)
