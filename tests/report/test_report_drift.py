"""The report's judge drift section (build computes it, render formats it) and its CLI options."""

from __future__ import annotations

import json

import pytest

from judgecal.calibration import GroupedCalibrator, select_anchors
from judgecal.errors import ConfigError
from judgecal.report import build_report
from judgecal.report.render import render_html, to_json, to_markdown


@pytest.fixture(scope="module")
def ratings():
    from judgecal.datasets import make_judge_ratings

    return make_judge_ratings(n_items=400, languages=("hi", "ta"), n_systems=4, random_state=1)


@pytest.fixture(scope="module")
def drifted(ratings):
    """The judge rows with Tamil scores inflated one level below the top, and anchors."""
    cal = GroupedCalibrator(method="isotonic").fit(ratings)
    anchors, _ = select_anchors(ratings, 40)
    judge = ratings[ratings["rater_kind"] == "judge"].copy()
    top = judge.groupby("metric")["score"].transform("max")
    ta = (judge["language"] == "ta") & (judge["score"] < top)
    judge.loc[ta, "score"] += 1
    return cal, judge, anchors


def test_report_has_a_drift_section_when_new_judged_rows_are_given(ratings, drifted):
    cal, judge, anchors = drifted
    rep = build_report(ratings, calibrator=cal, n_resamples=30, learning_repeats=2,
                       drift_judged=judge, drift_anchors=anchors)
    verdict = rep.drift_verdict.set_index("language")
    assert verdict.loc["ta", "distribution_flagged"] and verdict.loc["ta", "anchors_flagged"]
    assert verdict.loc["hi", "reading"] == "no drift found"
    assert rep.meta["drift"]["flagged_languages"] == ["ta"]
    html = render_html(rep)
    assert "<h2>Judge drift</h2>" in html and "Holm-adjusted" in html and "anchor items" in html
    md = to_markdown(rep)
    assert "## Judge drift" in md and "judge changed" in md
    doc = json.loads(to_json(rep))
    assert {"drift", "drift_verdict"} <= set(doc["tables"])
    plain = build_report(ratings, calibrator=cal, n_resamples=30, learning_repeats=2)
    assert plain.drift is None and "Judge drift" not in render_html(plain)


def test_a_drift_section_needs_a_calibrator(ratings, drifted):
    with pytest.raises(ConfigError, match="needs the calibrator"):
        build_report(ratings, calibration="none", n_resamples=20, learning_repeats=2, drift_judged=drifted[1])


def test_report_cli_drift_options(ratings, drifted, tmp_path, capsys):
    from judgecal.cli import main
    from judgecal.data.io import write_ratings

    cal, judge, anchors = drifted
    cal.save(tmp_path / "cal.json")
    write_ratings(ratings, tmp_path / "ratings.parquet")
    write_ratings(judge, tmp_path / "new.parquet")
    write_ratings(anchors, tmp_path / "anchors.parquet")
    assert main(["report", str(tmp_path / "ratings.parquet"), "--resamples", "20", "--out",
                 str(tmp_path / "r.html"), "--calibrator", str(tmp_path / "cal.json"),
                 "--drift", str(tmp_path / "new.parquet"), "--drift-anchors", str(tmp_path / "anchors.parquet")]) == 0
    assert "Judge drift" in (tmp_path / "r.html").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["report", str(tmp_path / "ratings.parquet"), "--out", str(tmp_path / "x.html"),
                 "--drift", str(tmp_path / "new.parquet")]) == 2
    assert "give --calibrator too" in capsys.readouterr().err
