"""Running a write again when PostgreSQL broke it off to end a deadlock or a serialization conflict.

PostgreSQL locks rows, not the database: two transactions can each wait for a row the other
holds, and the server then aborts one of them ("deadlock detected", SQLSTATE 40P01), or, under a
stricter isolation, refuses one whose reads another's commit made stale (40001). Nothing of the
aborted transaction was saved, so the right answer is to run it again, which the second time finds
the other one committed. The membership and rule services take their locks in one order to make
this rare; this makes it harmless. SQLite's writers queue for the one write lock
(services.storage.sqlite_writers) and never meet it.

Decorate a service whose writes are one transaction (or whose later transactions handle their own
failures), so running it again from the start repeats nothing that was committed.
"""

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

logger = logging.getLogger(__name__)

RETRIED_STATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
DUPLICATE_KEY = "23505"  # unique_violation
ATTEMPTS = 5

P = ParamSpec("P")
T = TypeVar("T")


def is_conflict(error: BaseException, states: frozenset[str] = RETRIED_STATES) -> bool:
    """A transaction PostgreSQL aborted to let another go on (the driver's error, or Tortoise's
    wrapping of it)."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlstate", None) in states:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retried_on_conflict(service: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run `service` again (up to ATTEMPTS times, after a short random pause) when PostgreSQL aborted
    its transaction for a deadlock or a serialization conflict."""
    return _retried(service, RETRIED_STATES)


def retried_on_conflict_or_duplicate(service: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """As retried_on_conflict, and also when another transaction committed the same new key first
    (unique_violation): for a write keyed by the shop's own key (an order number, a new customer's
    email), which finds that row the second time and updates it instead of inserting it. SQLite's
    one writer at a time never meets it."""
    return _retried(service, RETRIED_STATES | {DUPLICATE_KEY})


def _retried(service: Callable[P, Awaitable[T]], states: frozenset[str]) -> Callable[P, Awaitable[T]]:
    @functools.wraps(service)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await service(*args, **kwargs)
            except Exception as error:
                if attempt == ATTEMPTS or not is_conflict(error, states):
                    raise
                logger.info("%s: the database aborted a conflicting write; again (%s)", service.__name__, attempt)
                # Apart at random, so the two that collided do not collide again.
                await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    return run
