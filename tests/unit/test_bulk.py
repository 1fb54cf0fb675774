"""A bulk step pauses Python's cycle collector and gives it back, whatever happens inside."""

import gc

import pytest

from services.bulk import FREEZE_ABOVE, release_frozen, without_cycle_collection


def test_the_collector_is_paused_during_a_bulk_step_and_resumed_after_it():
    assert gc.isenabled()
    with without_cycle_collection():
        assert not gc.isenabled()
        with without_cycle_collection():  # a step inside another (a check's read inside an import)
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_a_large_bulk_step_leaves_alive_is_frozen_until_released():
    with without_cycle_collection():
        rows = [[str(i)] for i in range(FREEZE_ABOVE + 1_000)]
    assert gc.get_freeze_count() >= len(rows)  # not walked by the next collections
    del rows
    release_frozen()
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_a_small_bulk_step_freezes_nothing():
    release_frozen()
    with without_cycle_collection():
        rows = [[str(i)] for i in range(100)]
    assert gc.get_freeze_count() == 0
    assert rows


def test_a_failing_bulk_step_still_resumes_the_collector():
    with pytest.raises(ValueError), without_cycle_collection():
        raise ValueError("a bad row")
    assert gc.isenabled()
    release_frozen()


def test_cyclic_garbage_left_frozen_is_collected_once_released():
    class Node:
        pass

    with without_cycle_collection():
        node = Node()
        node.itself = node  # a cycle: only the collector can free it
        rows = [[str(i)] for i in range(FREEZE_ABOVE + 1_000)]
    assert gc.get_freeze_count() > len(rows)
    del node, rows
    release_frozen()
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o) is Node]
