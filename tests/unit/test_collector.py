"""The app's own schedule for the cycle collector: new objects collected and frozen every few
seconds, everything frozen given back for one full collection now and then."""

import gc
import weakref

import pytest

from services.bulk import without_cycle_collection
from services.collector import THAW_EVERY, tick


class Node:
    alive: "weakref.WeakSet[Node]" = weakref.WeakSet()

    def __init__(self) -> None:
        Node.alive.add(self)


@pytest.fixture(autouse=True)
def nothing_left_frozen():
    yield
    gc.unfreeze()


def _nodes() -> int:
    return len(Node.alive)  # gc.get_objects() does not list frozen objects


def test_a_tick_collects_new_cyclic_garbage_and_freezes_what_survives():
    kept = [Node() for _ in range(1_000)]
    garbage = Node()
    garbage.itself = garbage
    del garbage
    last_thaw = tick(now=100.0, last_thaw=50.0)
    assert last_thaw == 50.0  # not time to thaw yet
    assert _nodes() == len(kept)  # the cycle went at once
    assert gc.get_freeze_count() >= len(kept)  # out of the automatic collections' sight


def test_cyclic_garbage_among_frozen_objects_waits_for_the_thaw():
    node = Node()
    node.itself = node
    tick(now=0.0, last_thaw=None)  # frozen while alive
    del node
    gc.collect()
    assert _nodes() == 1  # frozen: the collector does not see it
    assert tick(now=THAW_EVERY - 1, last_thaw=0.0) == 0.0
    assert _nodes() == 1
    assert tick(now=THAW_EVERY, last_thaw=0.0) == THAW_EVERY
    assert _nodes() == 0
    assert gc.get_freeze_count() > 0  # the survivors frozen again


def test_a_tick_during_a_bulk_step_leaves_the_collector_to_it():
    gc.unfreeze()
    with without_cycle_collection():
        assert tick(now=THAW_EVERY * 2, last_thaw=None) is None
        assert gc.get_freeze_count() == 0
        assert not gc.isenabled()
    assert gc.isenabled()
