"""The Judge drift page on PARIKSHA, run headless by Streamlit's AppTest."""

from __future__ import annotations

import pytest

from judgecal.dashboard import drift
from tests.dashboard.conftest import frames, messages, page_text


@pytest.fixture(scope="module")
def pariksha_calibrator(pariksha_path, tmp_path_factory):
    from judgecal.calibration import GroupedCalibrator
    from judgecal.datasets import load_pariksha

    ratings = load_pariksha(pariksha_path, repair=True)
    path = tmp_path_factory.mktemp("drift") / "calibrator.json"
    GroupedCalibrator(method="isotonic").fit(ratings).save(path)
    return ratings, path


def _drift_page(at):
    at.switch_page("views/drift.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not messages(at, "error"), messages(at, "error")
    assert "Traceback" not in page_text(at)
    return at


def test_drift_page_checks_the_selection_against_the_calibrator(make_app, pariksha_path, pariksha_calibrator):
    ratings, cal_path = pariksha_calibrator
    at = _drift_page(make_app(pariksha_path, calibrator=cal_path).run())
    assert [t.value for t in at.title][0] == "Judge drift"
    assert any("same model" in m for m in messages(at, "success"))
    verdict, dist = frames(at)[:2]
    assert set(verdict["language"]) == {"bn", "gu", "hi", "kn", "ml", "mr", "or", "pa", "ta", "te"}
    # The release's judge rows include items without human ratings (weaker systems): Gujarati shifts.
    assert verdict.set_index("language").loc["gu", "distribution_flagged"]
    assert {"mean_shift", "p_adjusted", "flagged"} <= set(dist.columns)


def test_drift_page_with_uploaded_new_rows_and_anchors(make_app, pariksha_path, pariksha_calibrator):
    import io

    from judgecal.calibration import select_anchors

    ratings, cal_path = pariksha_calibrator
    anchors, _ = select_anchors(ratings, 20)
    judge = ratings[ratings["rater_kind"] == "judge"].copy()
    judge["rater"] = "new-judge"
    up = (judge["language"] == "hi") & (judge["score"] < judge.groupby("metric")["score"].transform("max"))
    judge.loc[up, "score"] += 1
    at = make_app(pariksha_path, calibrator=cal_path).run()
    for key, frame in ((drift.JUDGED_KEY, judge), (drift.ANCHORS_KEY, anchors)):
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        at.session_state[key] = (f"{key}.parquet", buf.getvalue())
    at = _drift_page(at)
    assert any("different judge" in m and "new-judge" in m for m in messages(at, "warning"))
    verdict = frames(at)[0].set_index("language")
    assert verdict.loc["hi", "anchors_flagged"] and verdict.loc["hi", "reading"].startswith("judge changed")
    assert not verdict.drop(index="hi")["anchors_flagged"].any()
    assert any("anchor" in s.value for s in at.subheader)


def test_drift_page_without_a_calibrator_says_what_it_needs(make_app, pariksha_path):
    at = _drift_page(make_app(pariksha_path).run())
    assert any("No calibrator loaded" in m for m in messages(at, "info"))


def test_drift_tables_logic_without_a_profile_or_calibrator():
    import pandas as pd

    from judgecal.calibration import load_calibrator
    from judgecal.dashboard.results import NotAvailable

    judged = pd.DataFrame({"item_id": ["a"], "language": ["hi"], "metric": ["la"], "score": [1.0]})
    with pytest.raises(NotAvailable, match="calibrator"):
        drift.drift_tables(judged, calibrator=None)
    from pathlib import Path
    old = load_calibrator(Path(__file__).parents[1] / "calibration" / "data" / "calibrator_v1_isotonic.json")
    with pytest.raises(NotAvailable, match="records no judge score distribution"):
        drift.drift_tables(judged, calibrator=old)
