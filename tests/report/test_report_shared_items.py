"""build_report shares one item table per (table, metric, judge, column) among its analyses.

The numbers must be those of the path without sharing (every analysis building its
own item tables, as before): ``build_report.__wrapped__`` is that path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.analysis import item_table, shared_item_tables
from judgecal.analysis.items import _SHARED
from judgecal.data.metrics import DEFAULT_REGISTRY
from judgecal.report import build_report


def _assert_same_reports(new, old):
    assert set(new.tables()) == set(old.tables())
    for name, table in old.tables().items():
        pd.testing.assert_frame_equal(new.tables()[name], table, check_exact=False, rtol=1e-12, atol=1e-12,
                                      obj=name)
    assert {k: v for k, v in new.meta.items() if k != "generated"} == {
        k: v for k, v in old.meta.items() if k != "generated"}


def test_shared_tables_give_the_numbers_of_separate_ones():
    from judgecal.datasets import make_judge_ratings

    ratings = make_judge_ratings(n_items=240, languages=("hi", "ta", "bn"), n_systems=3, random_state=7)
    kwargs = {"n_resamples": 60, "learning_repeats": 2, "by_task": True, "simulate_ppi": True,
              "simulation_repeats": 4, "random_state": 5}
    _assert_same_reports(build_report(ratings, **kwargs), build_report.__wrapped__(ratings, **kwargs))
    assert _SHARED.get() is None  # nothing is kept after the report


def test_shared_tables_on_pariksha(pariksha_path):
    from judgecal.datasets import load_pariksha

    ratings = load_pariksha(pariksha_path, repair=True)
    kwargs = {"n_resamples": 30, "learning_repeats": 2, "random_state": 1}
    _assert_same_reports(build_report(ratings, **kwargs), build_report.__wrapped__(ratings, **kwargs))


def test_shared_item_table_is_built_once_and_handed_out_as_copies(monkeypatch):
    from judgecal.analysis import items as items_module
    from judgecal.datasets import make_judge_ratings

    ratings = make_judge_ratings(n_items=80, languages=("hi",), n_systems=2, random_state=2)
    scale = DEFAULT_REGISTRY.get("tq")
    built = []
    real = items_module._build_item_table
    monkeypatch.setattr(items_module, "_build_item_table", lambda *a: built.append(a[2:]) or real(*a))
    with shared_item_tables():
        first = item_table(ratings, scale)
        first["judge_score"] = np.nan  # a caller changing its copy
        second = item_table(ratings, scale)
        with shared_item_tables():  # nested: same store
            third = item_table(ratings, scale)
        other = ratings.copy()
        item_table(other, scale)  # another table object: built again
    assert len(built) == 2
    expected = real(ratings, scale, None, "score")
    pd.testing.assert_frame_equal(second, expected)
    pd.testing.assert_frame_equal(third, expected)
    assert second["judge_score"].notna().any()
    item_table(ratings, scale)  # outside a block: built every time
    assert len(built) == 3


