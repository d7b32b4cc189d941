"""Two-level metrics (h, pc) are judged by the Brier score, not MAE: their calibrated
value is a probability, and MAE against a 0/1 consensus ranks any probability below
the raw 0/1 judge. The method choice, the stored quality and every table use and
name the metric's loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgecal.calibration import GroupedCalibrator, cross_validate
from judgecal.calibration._fit.evaluation import brier_terms, judging_loss, metric_loss


def test_the_loss_of_each_kind_of_metric():
    assert metric_loss((0, 1), "nominal") == "brier"
    assert metric_loss((0, 1), "ordinal") == "brier"
    assert metric_loss((0, 1, 2), "ordinal") == "mae"
    assert metric_loss(("a", "b", "c"), "nominal") == "log_loss"
    # Brier: probability of the upper level against the target's share there.
    dist = np.array([[1.0, 0.0], [0.0, 1.0], [1 / 3, 2 / 3]])
    assert np.allclose(brier_terms(np.array([0.2, 0.9, 0.5]), dist, (0, 1)), [0.04, 0.01, (0.5 - 2 / 3) ** 2])
    assert np.allclose(brier_terms(np.array([1.5]), np.array([[0.0, 1.0]]), (1, 3)), [0.5625])
    # A calibrated probability beats the 0/1 judge by Brier although MAE says the opposite.
    y = np.array([0.0, 0.0, 0.0, 1.0])
    onehot = np.column_stack([1 - y, y])
    judge, calibrated = np.zeros(4), np.full(4, 0.25)
    assert judging_loss("mae", y, calibrated, None, onehot, (0, 1)) > judging_loss("mae", y, judge, None, onehot, (0, 1))
    assert judging_loss("brier", y, calibrated, None, onehot, (0, 1)) < judging_loss("brier", y, judge, None, onehot, (0, 1))


def test_auto_chooses_a_binary_metric_by_brier(fitted):
    info = fitted.metric_info_["h"]
    assert info["loss"] == "brier" and "Brier score" in info["selection"]
    assert min(info["cv_loss"], key=info["cv_loss"].get) == info["method"]
    assert fitted.metric_info_["la"]["loss"] == "mae" and "MAE" in fitted.metric_info_["la"]["selection"]


def test_stored_quality_names_the_loss_and_calibration_improves_it(fitted, saved):
    from judgecal.calibration import load_calibrator

    q = fitted.cv_quality_.set_index("metric")
    assert set(q.loc["h", "loss"]) == {"brier"} and set(q.loc["la", "loss"]) == {"mae"}
    assert (q.loc["h", "brier"] < q.loc["h", "raw_brier"]).all()
    table = load_calibrator(saved).quality_table()
    assert list(table.columns[-3:]) == ["loss", "raw", "calibrated"]
    h = table[table["metric"] == "h"]
    assert set(h["loss"]) == {"Brier score"} and np.allclose(h["calibrated"], q.loc["h", "brier"])
    assert set(table.loc[table["metric"] == "la", "loss"]) == {"MAE"}


def test_cross_validation_table_names_the_loss(ratings):
    cv = cross_validate(ratings, variants=["raw", "isotonic"])
    t = cv.table.set_index(["variant", "metric"]).sort_index()
    assert set(t.loc[("isotonic", "h"), "loss"]) == {"brier"} and set(t.loc[("raw", "tq"), "loss"]) == {"mae"}
    assert (t.loc[("isotonic", "h"), "brier"].to_numpy() < t.loc[("raw", "h"), "brier"].to_numpy()).all()


def test_a_file_without_a_recorded_loss_reads_as_mae():
    from judgecal.calibration._fit.evaluation import loss_view

    old = pd.DataFrame({"language": ["hi"], "script": ["Deva"], "metric": ["h"], "method": ["isotonic"],
                        "n_items": [10], "raw_bias": [0.1], "bias": [0.0], "raw_mae": [0.3], "mae": [0.4]})
    view = loss_view(old)
    assert view.loc[0, "loss"] == "MAE" and view.loc[0, "raw"] == pytest.approx(0.3)
    assert view.loc[0, "calibrated"] == pytest.approx(0.4)


def test_pariksha_hallucination_by_brier(pariksha_path):
    from judgecal.datasets import load_pariksha

    ratings = load_pariksha(pariksha_path, repair=True)
    cal = GroupedCalibrator(method="auto").fit(ratings, check_input=False)
    assert "Brier score" in cal.metric_info_["h"]["selection"]
    h = cal.cv_quality_[cal.cv_quality_["metric"] == "h"]
    assert len(h) == 10
    # MAE called the calibrated probabilities worse than the raw 0/1 judge in every language;
    # by the Brier score calibration helps in all of them.
    assert (h["mae"] > h["raw_mae"]).all()
    assert (h["brier"] < h["raw_brier"]).all()
