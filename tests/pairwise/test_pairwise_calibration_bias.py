"""Combined verdicts, calibration (fit, apply, files, nested CV) and bias, on synthetic battles and PARIKSHA."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from judgecal.data.battle_verdicts import judged_pairs
from judgecal.data.battles import normalize_battles
from judgecal.datasets import make_battles
from judgecal.errors import CalibratorFileError, CalibratorMismatchError, ConfigError
from judgecal.pairwise.bias import bias_table, grapheme_lengths
from judgecal.pairwise.calibration import PROB_COLUMNS, PairwiseCalibrator, cross_validated_pairs
from judgecal.pairwise.quality import agreement_table, calibration_table, vote_probabilities


@pytest.fixture(scope="module")
def synthetic():
    return make_battles(3000, languages=("hi", "mr", "ta"), tie_propensity={"hi": 0.2, "mr": 1.5, "ta": 0.6},
                        random_state=1, return_truth=True)


def test_combined_verdict_rule():
    rows = []
    for pid, (a, b) in {"agree": ("first", "second"), "contradict": ("first", "first"),
                        "tie_and_win": ("tie", "first"), "one_order": ("second", None)}.items():
        rows.append({"pair_id": pid, "language": "hi", "rater": "j", "rater_kind": "judge", "shown": "12", "verdict": a})
        if b:
            rows.append({"pair_id": pid, "language": "hi", "rater": "j", "rater_kind": "judge", "shown": "21", "verdict": b})
    pairs = judged_pairs(normalize_battles(pd.DataFrame(rows)).table).set_index("pair_id")
    # agree: first in 12 and second in 21 both mean system_1; contradict: the judge followed the position
    assert pairs["outcome"].to_dict() == {"agree": 0, "contradict": 1, "tie_and_win": 2, "one_order": 2}
    assert pairs["flipped"].to_dict() == {"agree": False, "contradict": True, "tie_and_win": True, "one_order": False}
    assert pairs.loc["tie_and_win", ["p_system_1", "p_tie", "p_system_2"]].tolist() == [0.0, 0.5, 0.5]


@pytest.mark.parametrize("model", ["ordinal", "table", "auto"])
def test_fit_apply_save_load(synthetic, tmp_path, model):
    battles, _ = synthetic
    cal = PairwiseCalibrator(model=model).fit(battles)
    assert cal.model_ == model if model != "auto" else cal.model_ == min(cal.cv_log_loss_, key=cal.cv_log_loss_.get)
    assert cal.features_ == ("score", "probs")  # both orders judged: the distribution is a feature
    out = cal.apply(battles)
    probs = out[list(PROB_COLUMNS)].to_numpy()
    assert np.allclose(probs.sum(axis=1), 1) and (probs > 0).all()
    # the natives' tie propensity differs by language and the calibrated tie rate follows it
    tie = out.groupby("language")["prob_tie"].mean()
    assert tie["hi"] < tie["ta"] < tie["mr"]
    path = cal.save(tmp_path / "cal.json")
    again = PairwiseCalibrator.load(path, expect_judge=cal.judge_)
    assert np.allclose(again.apply(battles)[list(PROB_COLUMNS)].to_numpy(), probs)
    with pytest.raises(CalibratorMismatchError):
        PairwiseCalibrator.load(path, expect_judge="another-judge")
    body = json.loads(path.read_text())
    body["pooling"]["k_language"] = 0.0
    path.write_text(json.dumps(body))
    with pytest.raises(CalibratorFileError, match="checksum"):
        PairwiseCalibrator.load(path)
    body["format_version"] = 99
    path.write_text(json.dumps(body))
    with pytest.raises(CalibratorFileError, match="Upgrade"):
        PairwiseCalibrator.load(path)


def test_bad_parameters_and_not_fitted(synthetic):
    battles, _ = synthetic
    with pytest.raises(ConfigError):
        PairwiseCalibrator(model="forest").fit(battles)
    with pytest.raises(ConfigError):
        PairwiseCalibrator(features=("length",)).fit(battles)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PairwiseCalibrator().apply(battles)


def test_nested_cv_beats_the_fixed_reading_on_synthetic(synthetic):
    battles, _ = synthetic
    held = cross_validated_pairs(battles, n_splits=3, model="table")
    assert held["fold"].nunique() == 3 and held[list(PROB_COLUMNS)].notna().all().all()
    # a prompt's pairs are never split over folds
    assert (held.groupby("prompt_id")["fold"].nunique() == 1).all()
    table = calibration_table(vote_probabilities(held, battles))
    assert (table["log_loss_cal"] < table["log_loss_fixed"]).all()
    assert (table["tie_gap"].abs() < 0.03).all()


def test_bias_recovers_position_and_self_preference():
    battles = make_battles(4000, languages=("hi", "bn"), position_bias={"hi": 0.0, "bn": 0.8},
                           judge_position_bias=0.0, random_state=2)
    bias = bias_table(battles).set_index("language")
    assert bias.loc["bn", "first_native"] > bias.loc["hi", "first_native"] + 0.1
    assert bias.loc["hi", "pairs_both_orders"] == 2000 and 0 < bias.loc["hi", "flip_rate"] < 1
    # system-7 is the strongest: calling it the judge's family shows a win rate, not a bias
    fam = bias_table(battles, judge_family="system-7$").set_index("language")
    assert fam.loc["hi", "family_win_native"] > 0.6 and abs(fam.loc["hi", "self_preference"]) < 0.15


def test_grapheme_lengths_count_clusters():
    lengths = grapheme_lengths(["abc", "नमस्ते", "e\u0301", None])
    assert lengths[0] == 3 and lengths[2] == 1 and lengths[3] == 0
    assert 0 < lengths[1] < len("नमस्ते")


@pytest.fixture(scope="module")
def pariksha_two(pariksha_path):
    from judgecal.datasets import load_pariksha_battles

    return load_pariksha_battles(pariksha_path, languages=("hindi", "marathi"))


def test_pariksha_calibrated_ties_follow_each_language(pariksha_two):
    held = cross_validated_pairs(pariksha_two, n_splits=3)
    # natives tie far more after a judge's tie than a location shift allows: the table wins
    assert set(held["model"]) == {"table"}
    table = calibration_table(vote_probabilities(held, pariksha_two)).set_index("language")
    # natives tie 6 % in Hindi, 42 % in Marathi (both Devanagari): pooling must not merge them
    assert table.loc["hi", "tie_native"] < 0.1 < 0.35 < table.loc["mr", "tie_native"]
    assert (table["tie_gap"].abs() <= 0.03).all()
    assert (table["ece_first_cal"] <= 0.05).all()
    assert (table["log_loss_cal"] < table["log_loss_fixed"]).all()
    assert (table["log_loss_cal"] <= table["log_loss_table"] + 0.001).all()


def test_pariksha_ordinal_misses_the_judge_tie_row(pariksha_two):
    """The measurement behind the ordinal model's miss: after a judge tie,
    Marathi natives tie about 0.93 of the time; the ordinal model cannot get near."""
    held = cross_validated_pairs(pariksha_two, n_splits=3, model="ordinal")
    votes = vote_probabilities(held, pariksha_two)
    mr_tie = votes[(votes["language"] == "mr") & (votes["verdict"] == 1)]
    assert (mr_tie["outcome"] == 1).mean() > 0.85 and mr_tie["cal_tie"].mean() < 0.7


def test_pariksha_agreement_and_self_preference(pariksha_two):
    agree = agreement_table(pariksha_two).set_index("language")
    assert agree.loc["hi", "agree_3way"] == pytest.approx(0.795, abs=0.005)
    assert agree.loc["mr", "agree_3way"] == pytest.approx(0.61, abs=0.005)
    bias = bias_table(pariksha_two, judge_family="gpt").set_index("language")
    assert bias.loc["hi", "family_pairs"] > 400 and bias.loc["hi", "self_preference"] > 0


def test_battle_arrays_share_system_indices(synthetic):
    from judgecal.data.battle_verdicts import battle_arrays

    battles, truth = synthetic
    human = battle_arrays(battles, "human")
    judge = battle_arrays(battles, "judge")
    calibrated = battle_arrays(battles, "calibrated", probabilities=PairwiseCalibrator().fit(battles).apply(battles))
    assert human.systems == judge.systems == sorted(truth["systems"])
    assert len(human.i) == 3 * 3000 and len(judge.i) == 3000 and calibrated.outcome.shape == (3000, 3)
    assert (human.i != human.j).all() and set(np.unique(human.outcome)) == {0, 1, 2}
    # every vote of a pair carries the pair's prompt as its cluster
    assert human.cluster.max() < len(set(battles["prompt_id"]))
    with pytest.raises(ConfigError):
        battle_arrays(battles, "calibrated")


def test_files_that_are_not_pairwise_calibrators(tmp_path):
    missing = tmp_path / "none.json"
    with pytest.raises(CalibratorFileError, match="does not exist"):
        PairwiseCalibrator.load(missing)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(CalibratorFileError, match="not a pairwise calibrator"):
        PairwiseCalibrator.load(garbage)
    pointwise = tmp_path / "pointwise.json"
    pointwise.write_text(json.dumps({"format": "judgecal-calibrator", "format_version": 1}))
    with pytest.raises(CalibratorFileError, match="no format 'judgecal-pairwise-calibrator'"):
        PairwiseCalibrator.load(pointwise)
