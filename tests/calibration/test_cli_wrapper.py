"""judgecal calibrate / apply, and CalibratedJudge against the fake provider."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgecal.cli import main
from judgecal.data.io import read_ratings


def test_calibrate_then_apply(ratings, tmp_path, capsys):
    src = tmp_path / "ratings.csv"
    ratings.to_csv(src, index=False)
    cal = tmp_path / "cal.json"
    cv = tmp_path / "cv.csv"
    assert main(["calibrate", str(src), "--out", str(cal), "--method", "isotonic", "--cv-out", str(cv)]) == 0
    out = capsys.readouterr().out
    assert "calibrated judge 'test-judge'" in out and "raw_bias" in out and "la|" not in out
    assert pd.read_csv(cv)[["language", "metric"]].drop_duplicates().shape[0] == 9
    judged = tmp_path / "judged.jsonl"
    ratings[ratings["rater_kind"] == "judge"].to_json(judged, orient="records", lines=True)
    dst = tmp_path / "calibrated.parquet"
    assert main(["apply", str(cal), str(judged), "--out", str(dst)]) == 0
    assert "calibrated 1080 judge row(s)" in capsys.readouterr().out
    res = pd.read_parquet(dst)
    assert res["score_calibrated"].between(0, 2).all() and set(res["calibration_level"]) <= {"language", "script"}
    # the output is still a ratings table with extra columns
    assert len(read_ratings(dst)) == 1080


def test_calibrate_says_how_many_human_rated_pairs_had_no_judge_score(ratings, tmp_path, capsys):
    # Human ratings of items the judge did not score were left out without a word.
    items = ratings["item_id"].drop_duplicates().iloc[:10]
    unjudged = (ratings["rater_kind"] == "judge") & ratings["item_id"].isin(items)
    src = tmp_path / "ratings.csv"
    ratings[~unjudged].to_csv(src, index=False)
    assert main(["calibrate", str(src), "--out", str(tmp_path / "cal.json"), "--method", "isotonic"]) == 0
    n_pairs = ratings[unjudged][["item_id", "metric"]].drop_duplicates().shape[0]
    assert f"{n_pairs} human-rated pairs had no judge score" in capsys.readouterr().out


def test_calibrate_says_when_human_rows_carry_another_language(ratings, tmp_path, capsys):
    # The judge row's language wins; human rows labelled otherwise were used without a word.
    langs = ratings[["language", "script"]].drop_duplicates()
    a, (b, b_script) = langs.iloc[0]["language"], langs.iloc[1]
    items = ratings.loc[ratings["language"] == a, "item_id"].drop_duplicates().iloc[:5]
    moved = (ratings["rater_kind"] == "human") & ratings["item_id"].isin(items)
    relabelled = ratings.copy()
    relabelled.loc[moved, ["language", "script"]] = [b, b_script]
    src = tmp_path / "ratings.csv"
    relabelled.to_csv(src, index=False)
    assert main(["calibrate", str(src), "--out", str(tmp_path / "cal.json"), "--method", "isotonic"]) == 0
    n_pairs = ratings[moved][["item_id", "metric"]].drop_duplicates().shape[0]
    assert f"note: {n_pairs} (item, metric) pairs have human ratings labelled with another language" in \
        capsys.readouterr().out
    src.write_text(ratings.to_csv(index=False))  # consistent labels: no note
    assert main(["calibrate", str(src), "--out", str(tmp_path / "cal2.json"), "--method", "isotonic"]) == 0
    assert "note:" not in capsys.readouterr().out


def test_cli_errors_are_messages(ratings, tmp_path, capsys):
    src = tmp_path / "ratings.csv"
    ratings.to_csv(src, index=False)
    cal = tmp_path / "cal.json"
    assert main(["calibrate", str(src), "--out", str(cal), "--method", "isotonic"]) == 0
    capsys.readouterr()
    other = tmp_path / "other.csv"
    ratings[ratings["rater_kind"] == "judge"].assign(rater="another-judge").to_csv(other, index=False)
    code = main(["apply", str(cal), str(other), "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code != 0 and "fitted for judge 'test-judge'" in err and "Traceback" not in err
    assert main(["apply", str(cal), str(other), "--out", str(tmp_path / "x.csv"), "--allow-mismatch"]) == 0
    capsys.readouterr()
    cal.write_text(cal.read_text().replace('"n_items": 120', '"n_items": 121', 1))
    code = main(["apply", str(cal), str(other), "--out", str(tmp_path / "y.csv")])
    assert code != 0 and "edited or damaged" in capsys.readouterr().err
    code = main(["calibrate", str(src), "--out", str(cal), "--features", "score,colour"])
    assert code != 0 and "features" in capsys.readouterr().err


@pytest.fixture
def fake_provider(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-calibration-0000")
    from tests.judges.fake_provider import FakeProvider

    with FakeProvider() as server:
        yield server


def test_calibrated_judge_scores_and_calibrates(fake_provider, tmp_path):
    from judgecal import CalibratedJudge, GroupedCalibrator
    from judgecal.judges import score_generations

    rng = np.random.default_rng(0)
    n = 60
    gens = pd.DataFrame({
        "item_id": [f"it{i}" for i in range(n)],
        "prompt_id": [f"p{i // 2}" for i in range(n)],
        "language": ["hi"] * 30 + ["ta"] * 30,
        "task": "qa",
        "prompt": ["भारत की राजधानी क्या है?"] * 30 + ["சென்னை எங்கே உள்ளது?"] * 30,
        "response": [f"उत्तर {i} दिल्ली है।" for i in range(30)] + [f"பதில் {i} தமிழ்நாடு." for i in range(30)],
    })
    opts = {"base_url": fake_provider.base_url + "/v1", "cache": tmp_path / "c.sqlite", "progress": False}
    judged = score_generations(gens, "openai/fake-judge", ["la"], **opts).ratings
    assert len(judged) == n
    # Human ratings one level below the judge (clipped): a judge that inflates.
    humans = pd.concat([
        judged[["item_id", "language", "metric", "score"]].assign(
            rater=f"w{r}", rater_kind="human", score=np.clip(judged["score"] - rng.integers(0, 2, n), 0, 2))
        for r in range(3)])
    table = pd.concat([judged, humans.merge(gens[["item_id", "prompt_id"]], on="item_id")], ignore_index=True)
    table["prompt_id"] = table["item_id"].map(dict(zip(gens["item_id"], gens["prompt_id"], strict=True)))
    cal = GroupedCalibrator(method="isotonic").fit(table)
    path = cal.save(tmp_path / "cal.json")
    cj = CalibratedJudge("openai/fake-judge", path, metrics=["la"], judge_options=opts)
    out = cj.fit().transform(gens)
    assert len(out) == n and out["score_calibrated"].notna().all()
    assert out["score_calibrated"].mean() < out["score"].mean()
    with pytest.raises(Exception, match="fitted for judge"):
        CalibratedJudge("openai/another-model", path, judge_options=opts).fit()


def test_demo_step_writes_and_reloads(ratings, tmp_path):
    from judgecal.demo import demo_calibration

    said = []
    written = demo_calibration(ratings, tmp_path / "demo", method="isotonic", say=said.append)
    assert written["calibrator"].exists() and written["calibrated"].exists()
    out = pd.read_parquet(written["calibrated"])
    assert len(out) == (ratings["rater_kind"] == "judge").sum() and out["score_calibrated"].notna().all()
    assert any("held-out" in s or "raw_bias" in s for s in said)
