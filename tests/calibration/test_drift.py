"""Judge drift: the recorded profile, check_drift, apply's warnings, anchors and the CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from judgecal.calibration import check_drift, load_calibrator, select_anchors
from judgecal.calibration.drift import JudgeDriftWarning, drift_warnings
from judgecal.calibration.persist import calibrator_from_dict, calibrator_to_dict
from judgecal.errors import CalibratorError, InputError

DATA = Path(__file__).parent / "data"


def _judge(ratings):
    return ratings[ratings["rater_kind"] == "judge"].reset_index(drop=True)


def _drift_messages(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if issubclass(w.category, JudgeDriftWarning)]


# ---------------------------------------------------------------- the profile
def test_profile_records_level_counts_and_fingerprint(fitted, ratings):
    prof = fitted.state_.judge_profile
    assert prof["fingerprint"] == {"model": "test-judge", "prompt_hash": {}, "logprobs": False}
    j = _judge(ratings)
    for m in ("la", "tq", "h"):
        for lang in ("hi", "mr", "ta"):
            entry = prof["levels"][f"{m}|{lang}"]
            got = j[(j["metric"] == m) & (j["language"] == lang)]["score"].value_counts()
            assert entry["counts"] == [int(got.get(v, 0)) for v in entry["levels"]]
            assert entry["script"] == {"hi": "Deva", "mr": "Deva", "ta": "Taml"}[lang]


def test_profile_survives_save_and_load(fitted, saved):
    assert load_calibrator(saved).state_.judge_profile == fitted.state_.judge_profile
    body = calibrator_to_dict(fitted)
    assert calibrator_from_dict(json.loads(json.dumps(body))).state_.judge_profile == fitted.state_.judge_profile


def test_old_files_without_a_profile_load_and_drift_says_what_is_missing(ratings):
    old = load_calibrator(DATA / "calibrator_v1_isotonic.json")
    assert old.state_.judge_profile is None
    judged = pd.DataFrame({"item_id": ["a"], "language": ["hi"], "metric": ["la"], "score": [1.0],
                           "rater": [old.judge_], "rater_kind": ["judge"]})
    with pytest.raises(CalibratorError, match="records no judge score distribution.*Refit it"):
        check_drift(old, judged)
    # The anchor check does not need the profile.
    report = check_drift(old, judged, anchors=judged.assign(score=0.0))
    assert any("only the anchor check ran" in n for n in report.notes)
    assert report.anchors["up"].tolist() == [1]
    msgs = _drift_messages(lambda: old.apply(judged))
    assert len(msgs) == 1 and "records no judge score distribution" in msgs[0]


# ------------------------------------------------------------ check_drift
def test_the_fitting_data_itself_shows_no_drift(fitted, ratings):
    report = check_drift(fitted, _judge(ratings))
    assert report.fingerprint_notes == []
    assert (report.distribution["status"] == "tested").all()
    np.testing.assert_allclose(report.distribution["mean_shift"], 0.0)
    np.testing.assert_allclose(report.distribution["p_value"], 1.0)
    assert report.flagged_languages == []
    assert _drift_messages(lambda: fitted.apply(ratings)) == []


def test_a_shifted_language_is_flagged_and_the_others_not(fitted, ratings):
    j = _judge(ratings)
    rng = np.random.default_rng(0)
    up = (j["language"] == "hi") & (j["score"] < 2) & (j["metric"] != "h") & (rng.random(len(j)) < 0.8)
    shifted = j.assign(score=j["score"] + up)
    report = check_drift(fitted, shifted)
    assert report.flagged_languages == ["hi"]
    row = report.distribution.set_index(["metric", "language"]).loc[("la", "hi")]
    assert row["mean_shift"] > 0.2 and row["flagged"] and row["p_adjusted"] >= row["p_value"]
    assert "systems" in report.verdict.set_index("language").loc["hi", "reading"]  # no anchors: cannot tell
    msgs = _drift_messages(lambda: fitted.apply(shifted))
    assert any("language 'hi'" in m and "shifted" in m for m in msgs)
    assert not any("language 'ta'" in m for m in msgs)


def test_different_judge_and_prompt_are_said_up_front(fitted, ratings):
    j = _judge(ratings).assign(rater="another-judge", judge_prompt_hash="abc123", score_probs='{"0": 1.0}')
    report = check_drift(fitted, j)
    notes = " ".join(report.fingerprint_notes)
    assert "different judge" in notes and "'another-judge'" in notes
    assert "log-probabilities are available now" in notes
    from judgecal.calibration.drift import report_text
    assert report_text(report).startswith("JUDGE FINGERPRINT DIFFERS")


def test_prompt_hash_change_is_a_fingerprint_difference(fitted):
    from judgecal.calibration.drift import compare_fingerprints

    a = {"model": "m", "prompt_hash": {"la": "h1"}, "logprobs": True}
    assert compare_fingerprints(a, dict(a)) == []
    notes = compare_fingerprints(a, {"model": "m", "prompt_hash": {"la": "h2"}, "logprobs": True})
    assert notes == ["different judge prompt for metric 'la': hash h1 at fitting, h2 now"]
    missing = compare_fingerprints(a, {"model": "m", "prompt_hash": {}, "logprobs": True})
    assert "carry no judge_prompt_hash" in missing[0]


def test_languages_the_calibrator_lacks_and_empty_groups(fitted, ratings):
    j = _judge(ratings)
    extra = j[j["language"] == "hi"].assign(language="bn", script="Beng",
                                            item_id=lambda d: "bn-" + d["item_id"].astype(str))
    new = pd.concat([j[j["language"] != "ta"], extra], ignore_index=True)
    report = check_drift(fitted, new)
    d = report.distribution.set_index(["metric", "language"])
    assert d.loc[("la", "bn"), "status"] == "language not in calibrator"
    assert d.loc[("la", "ta"), "status"] == "no new rows"
    assert d.loc[("la", "ta"), "n_reference"] > 0 and d.loc[("la", "ta"), "n_new"] == 0
    assert np.isnan(d.loc[("la", "ta"), "p_value"]) and not d.loc[("la", "ta"), "flagged"]
    assert any("'bn'" in n or "bn:" in n for n in report.notes)
    msgs = _drift_messages(lambda: fitted.apply(new))
    assert any("language 'bn'" in m and "saw no scores" in m for m in msgs)


def test_bad_judged_rows_give_one_clear_error(fitted, ratings):
    j = _judge(ratings)
    with pytest.raises(InputError, match="no judge rows"):
        check_drift(fitted, ratings[ratings["rater_kind"] == "human"])
    with pytest.raises(InputError, match="missing column"):
        check_drift(fitted, j.drop(columns=["score"]))
    with pytest.raises(InputError, match="2 judges"):
        check_drift(fitted, pd.concat([j, j.assign(rater="other")]))
    assert check_drift(fitted, pd.concat([j, j.assign(rater="other")]), judge="other").new["model"] == "other"
    off = j.copy()
    off.loc[5, "score"] = 7.0
    with pytest.raises(InputError) as info:
        check_drift(fitted, off)
    assert "off their metric's scale" in str(info.value) and "7" in str(info.value)
    with pytest.raises(InputError, match="correction"):
        check_drift(fitted, j, correction="bonferroni")
    unknown = check_drift(fitted, pd.concat([j, j.head(3).assign(metric="xyz")]))
    assert any("'xyz'" in n for n in unknown.notes)


# ----------------------------------------------------------------- anchors
def test_anchor_check_tells_a_judge_change_from_a_system_change(fitted, ratings):
    j = _judge(ratings)
    anchors, summary = select_anchors(ratings, 30, random_state=1)
    anchor_ids = set(anchors["item_id"])
    rng = np.random.default_rng(4)
    # hi: the judge changed (scores up on every item, anchors too); ta: a weaker system (other
    # items, scored lower), same judge: anchors unchanged.
    up = (j["language"] == "hi") & (j["score"] < 2) & (j["metric"] != "h") & (rng.random(len(j)) < 0.8)
    new = j.assign(score=j["score"] + up)
    ta_non_anchor = (new["language"] == "ta") & ~new["item_id"].isin(anchor_ids) & (new["metric"] != "h")
    new.loc[ta_non_anchor, "score"] = 0.0
    report = check_drift(fitted, new, anchors=anchors)
    v = report.verdict.set_index("language")
    assert v.loc["hi", "anchors_flagged"] and v.loc["hi", "reading"].startswith("judge changed")
    assert v.loc["ta", "distribution_flagged"] and not v.loc["ta", "anchors_flagged"]
    assert v.loc["ta", "reading"].startswith("systems changed")
    assert v.loc["mr", "reading"] == "no drift found"
    assert set(report.table().columns) >= {"p_adjusted", "anchor_p_adjusted", "anchor_n_pairs"}


def test_anchors_without_overlap_or_duplicated_are_errors(fitted, ratings):
    j = _judge(ratings)
    anchors, _ = select_anchors(ratings, 10)
    with pytest.raises(InputError, match="no anchor item"):
        check_drift(fitted, j[~j["item_id"].isin(set(anchors["item_id"]))], anchors=anchors)
    dup = pd.concat([anchors, anchors[anchors["rater_kind"] == "judge"].head(1)])
    with pytest.raises(InputError, match="more than once"):
        check_drift(fitted, j, anchors=dup)


def test_select_anchors_is_stratified_seeded_and_complete(ratings):
    anchors, summary = select_anchors(ratings, 20, metric="la", random_state=3)
    per = anchors.groupby("language")["item_id"].nunique()
    assert per.to_dict() == {"hi": 20, "mr": 20, "ta": 20}
    # Every stratum that exists is represented (20 draws, fewer strata).
    assert (summary["chosen"] >= 1).all()
    assert (summary["chosen"] <= summary["available"]).all()
    # Every row of a chosen item is kept (human and judge, all metrics).
    one = anchors["item_id"].iloc[0]
    assert len(anchors[anchors["item_id"] == one]) == len(ratings[ratings["item_id"] == one])
    again, _ = select_anchors(ratings, 20, metric="la", random_state=3)
    assert set(again["item_id"]) == set(anchors["item_id"])
    other, _ = select_anchors(ratings, 20, metric="la", random_state=4)
    assert set(other["item_id"]) != set(anchors["item_id"])
    everything, s = select_anchors(ratings, 10_000)
    assert everything["item_id"].nunique() == ratings["item_id"].nunique()


def test_select_anchors_bad_input(ratings):
    with pytest.raises(InputError, match="at least 1"):
        select_anchors(ratings, 0)
    with pytest.raises(InputError, match="'zz' has no items"):
        select_anchors(ratings, 5, metric="zz")
    with pytest.raises(InputError, match="both judge and human"):
        select_anchors(ratings[ratings["rater_kind"] == "judge"], 5)


# ------------------------------------------------------------ on PARIKSHA
@pytest.fixture(scope="module")
def pariksha_fit(pariksha_path):
    from judgecal.calibration import GroupedCalibrator
    from judgecal.datasets import load_pariksha

    ratings = load_pariksha(pariksha_path, repair=True)
    return ratings, GroupedCalibrator(method="isotonic").fit(ratings)


def test_pariksha_levels_never_seen_in_fitting_are_warned(pariksha_fit):
    ratings, cal = pariksha_fit
    # The judge never gave la = 0 to a Gujarati item that humans rated (the fitting data).
    assert cal.state_.judge_profile["levels"]["la|gu"]["counts"][0] == 0
    row = ratings[(ratings["rater_kind"] == "judge") & (ratings["language"] == "gu") & (ratings["metric"] == "la")].head(1)
    msgs = drift_warnings(cal.state_, row.assign(score=0.0))
    assert any("level(s) 0 which it never gave" in m for m in msgs)


def test_pariksha_unrated_items_are_a_system_change(pariksha_fit):
    """The release's judge rows without human ratings come from weaker systems: their
    distribution differs from the fitting data, and anchors show the judge itself is the same."""
    ratings, cal = pariksha_fit
    anchors, _ = select_anchors(ratings, 30)
    report = check_drift(cal, ratings[ratings["rater_kind"] == "judge"], anchors=anchors)
    assert report.fingerprint_notes == []
    assert "gu" in report.flagged_languages
    v = report.verdict.set_index("language")
    assert v.loc["gu", "reading"].startswith("systems changed")
    assert not v["anchors_flagged"].any()


# ------------------------------------------------------------------- CLI
def test_cli_anchors_drift_and_apply_end_to_end(pariksha_fit, tmp_path, capsys):
    from judgecal.cli import main
    from judgecal.data.io import write_ratings

    ratings, _ = pariksha_fit
    write_ratings(ratings, tmp_path / "ratings.parquet")
    assert main(["calibrate", str(tmp_path / "ratings.parquet"), "--method", "isotonic",
                 "--out", str(tmp_path / "cal.json")]) == 0
    assert main(["anchors", str(tmp_path / "ratings.parquet"), "--per-language", "25",
                 "--out", str(tmp_path / "anchors.csv")]) == 0
    out = capsys.readouterr().out
    assert "chose 250 anchor item(s) in 10 language(s)" in out
    # A new judge run: the judge inflates Odia by one level on every item below the top.
    judge = ratings[ratings["rater_kind"] == "judge"].copy()
    odia = (judge["language"] == "or") & (judge["score"] < judge.groupby("metric")["score"].transform("max"))
    judge.loc[odia, "score"] += 1
    write_ratings(judge, tmp_path / "new.parquet")
    code = main(["drift", str(tmp_path / "cal.json"), str(tmp_path / "new.parquet"), "--anchors",
                 str(tmp_path / "anchors.csv"), "--out", str(tmp_path / "drift.csv"), "--fail-on-drift"])
    out = capsys.readouterr().out
    assert code == 3
    assert "judge fingerprint: same as the calibrator's" in out
    assert "Holm" in out and "exact sign test" in out
    table = pd.read_csv(tmp_path / "drift.csv")
    or_rows = table[table["language"] == "or"]
    assert or_rows["anchor_flagged"].any() and (or_rows["anchor_down"] == 0).all() and (or_rows["anchor_up"] > 0).all()
    assert not table.loc[table["language"] == "hi", "anchor_flagged"].any()
    assert main(["apply", str(tmp_path / "cal.json"), str(tmp_path / "new.parquet"),
                 "--out", str(tmp_path / "calibrated.parquet")]) == 0
    err = capsys.readouterr().err
    assert "judgecal apply: warning: metric 'la', language 'or'" in err
    # Bad input: an anchor file from no judge at all.
    write_ratings(ratings[ratings["rater_kind"] == "human"], tmp_path / "humans.csv")
    assert main(["drift", str(tmp_path / "cal.json"), str(tmp_path / "new.parquet"), "--anchors",
                 str(tmp_path / "humans.csv")]) == 1
    assert "anchor rows hold no judge rows" in capsys.readouterr().err


def test_language_names_and_regional_tags_count_as_the_language_apply_serves(fitted, ratings):
    j = _judge(ratings)
    named = j.assign(language=j["language"].map({"hi": "hindi", "mr": "mr-IN", "ta": "ta"}).astype(object))
    assert _drift_messages(lambda: fitted.apply(named)) == []
    report = check_drift(fitted, named)
    assert set(report.distribution["language"]) == {"hi", "mr", "ta"}
    assert (report.distribution["status"] == "tested").all()
    anchors, _ = select_anchors(ratings, 10)
    both = check_drift(fitted, named, anchors=anchors)
    assert set(both.anchors["language"]) == {"hi", "mr", "ta"} and len(both.verdict) == 3


@pytest.mark.parametrize("edit, field", [
    (lambda p: p["levels"]["la|hi"].update(counts=[1, -2, 3]), "la|hi.counts"),
    (lambda p: p["levels"]["la|hi"].update(counts=[1, 2]), "la|hi needs levels and counts"),
    (lambda p: p["fingerprint"].pop("logprobs"), "fingerprint"),
    (lambda p: p.pop("levels"), "levels"),
])
def test_a_malformed_profile_is_refused_naming_the_field(fitted, edit, field):
    from judgecal.calibration._fit.fileformat import _digest
    from judgecal.errors import CalibratorFileError

    body = json.loads(json.dumps(calibrator_to_dict(fitted)))
    edit(body["judge_profile"])
    body["sha256"] = _digest({k: v for k, v in body.items() if k != "sha256"})  # an edit with a recomputed checksum
    with pytest.raises(CalibratorFileError, match=f"judge_profile.{field}".replace("|", r"\|")):
        calibrator_from_dict(body, source="edited.json")


def test_held_out_folds_do_not_warn_but_the_same_rows_applied_do(pariksha_fit):
    """Cross-validation applies each fold's calibrator to its held-out fold of the
    fitting data: that is not a changed judge, so no JudgeDriftWarning (the demo printed
    51 of them). Applying a calibrator to the release's judge rows still warns."""
    from judgecal.calibration.cv import out_of_fold_predictions

    ratings, cal = pariksha_fit
    assert _drift_messages(lambda: out_of_fold_predictions(ratings, method="isotonic", n_splits=3)) == []
    assert _drift_messages(lambda: cal.apply(_judge(ratings)))
    assert _drift_messages(lambda: cal.apply(_judge(ratings), check_drift=False)) == []
