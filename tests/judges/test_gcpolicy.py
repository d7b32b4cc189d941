"""The collector settings used while requests are in flight come back afterwards."""

from __future__ import annotations

import gc
import weakref

import pytest

from judgecal.judges.gcpolicy import YOUNG_THRESHOLD, fewer_collections


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_settings_change_inside_and_come_back():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_settings_come_back_after_an_error():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_nested_blocks_change_the_settings_once():
    before = gc.get_threshold()
    with fewer_collections():
        frozen = gc.get_freeze_count()
        with fewer_collections(young=123):
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD  # the outer block's settings hold
        assert gc.get_freeze_count() == frozen  # the inner block did not unfreeze
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_threshold() == before


def test_cycles_are_still_collected():
    old = Node()
    old_ref = weakref.ref(old)
    with fewer_collections():
        del old
        gc.collect()
        assert old_ref() is not None  # frozen while the block runs: kept, not lost
        new = Node()
        new_ref = weakref.ref(new)
        del new
        gc.collect()
        assert new_ref() is None  # made during the block: collected as usual
    gc.collect()
    assert old_ref() is None  # back under the collector afterwards


def test_a_scoring_run_leaves_the_settings_as_it_found_them(fake, gens, tmp_path):
    from judgecal.judges import score_generations
    from judgecal.judges.engine import FatalProviderError

    from .conftest import openai_url

    before = gc.get_threshold()
    res = score_generations(gens, "openai/fake-judge", ["la"], base_url=openai_url(fake),
                            cache=tmp_path / "c.sqlite", progress=False, concurrency=4)
    assert len(res.ratings) == len(gens)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    fake.configure(rules=[{"fault": "401"}])  # a run that ends with an error
    with pytest.raises(FatalProviderError):
        score_generations(gens, "openai/fake-judge", ["tq"], base_url=openai_url(fake),
                          cache=tmp_path / "c2.sqlite", progress=False, concurrency=4)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
