"""The report: self-contained HTML, JSON and Markdown from real analyses; the commands."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from judgecal.cli import main
from judgecal.report import build_report, render_html, svg, to_json, to_markdown, write_report


@pytest.fixture(scope="module")
def ratings():
    from judgecal.datasets import make_judge_ratings

    return make_judge_ratings(n_items=400, languages=("hi", "ta"), n_systems=4, random_state=1)


@pytest.fixture(scope="module")
def report(ratings):
    return build_report(ratings, n_resamples=100, learning_repeats=3, simulate_ppi=True, simulation_repeats=10,
                        notes=["synthetic data <made up>"])


def test_report_tables_and_before_after(report):
    assert set(report.agreement["stage"]) == {"raw", "calibrated"}
    head = report.headline
    assert len(head) == 6  # 2 languages x 3 metrics
    tq = head[head["metric"] == "tq"]
    # The generator inflates the judge; out-of-fold calibration shrinks the bias.
    assert (tq["bias_raw"].abs() > tq["bias_calibrated"].abs()).all()
    assert (tq["top_level_share_judge"] > tq["top_level_share_human"]).all()
    assert len(report.systems) and len(report.rankings) and len(report.learning) and len(report.needed)
    assert report.simulation_summary is not None


def test_html_is_self_contained(report):
    html = render_html(report)
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 9
    # The only URL allowed is the SVG namespace name, which browsers never fetch.
    assert not re.search(r"<script|<link|<img|src=|https?://", html.replace('xmlns="http://www.w3.org/2000/svg"', ""))
    assert "synthetic data &lt;made up&gt;" in html and "<made up>" not in html
    assert ">nan<" not in html


def test_json_and_markdown(report, tmp_path):
    doc = json.loads(to_json(report))
    assert {"meta", "timings_seconds", "tables"} <= set(doc)
    assert len(doc["tables"]["headline"]) == 6
    md = to_markdown(report)
    assert "| language | script | metric |" in md and "PPI++ check" in md
    paths = write_report(report, tmp_path / "out" / "r.html")
    assert all(p.exists() and p.stat().st_size > 0 for p in paths.values())
    assert paths["json"].suffix == ".json" and paths["markdown"].suffix == ".md"


def test_svg_escapes_labels_and_handles_empty_values():
    out = svg.forest([("<b>x</b>", [("s&t", 0.5, float("nan"), float("nan"))])], title="a<b")
    assert "<b>x" not in out and "&lt;b&gt;x" in out and "s&amp;t" in out
    assert svg.stacked_bars([("r", [0.5, 0.5])], ["0", "1"]).startswith("<svg")
    assert "<polyline" in svg.lines({"a": ([1, 2], [0.5, 0.2])})
    assert "<polyline" not in svg.lines({"a": ([], [])})


def test_commands_print_tables_and_write_report(ratings, tmp_path, capsys):
    path = tmp_path / "ratings.csv"
    ratings.to_csv(path, index=False)
    assert main(["agreement", str(path), "--resamples", "50", "--statistics", "alpha,kappa"]) == 0
    out = capsys.readouterr().out
    assert "human-human" in out and "judge-consensus" in out
    assert main(["estimate", str(path), "--target-width", "0.4"]) == 0
    out = capsys.readouterr().out
    assert "effective sample size gain" in out and "Labels needed" in out
    html = tmp_path / "rep" / "report.html"
    assert main(["report", str(path), "--out", str(html), "--resamples", "50", "--no-calibration"]) == 0
    assert html.exists() and html.with_suffix(".json").exists() and html.with_suffix(".md").exists()


def test_estimate_next_batch_names_the_guidelines_folder(ratings, tmp_path, capsys):
    # The printed guidelines location is a folder that exists (it printed the
    # package name "judgecal/annotations/guidelines", which is no path).
    from pathlib import Path

    unlabelled = set(ratings["item_id"].drop_duplicates().iloc[::2])  # half the items lose their human rows
    path = tmp_path / "ratings.csv"
    ratings[(ratings["rater_kind"] == "judge") | ~ratings["item_id"].isin(unlabelled)].to_csv(path, index=False)
    sheet = tmp_path / "batch.csv"
    assert main(["estimate", str(path), "--next-batch", "5", "--batch-out", str(sheet)]) == 0
    out = capsys.readouterr().out
    guidelines = Path(re.search(r"\(guidelines: (.+)\)", out).group(1))
    assert sheet.exists() and guidelines.is_dir() and any(guidelines.glob("*.md"))


def test_command_errors(ratings, tmp_path, capsys):
    path = tmp_path / "ratings.csv"
    ratings.to_csv(path, index=False)
    assert main(["estimate", str(path), "--next-batch", "5"]) == 2
    assert "--batch-out" in capsys.readouterr().err
    assert main(["agreement", str(path), "--statistics", "alpha,vibes"]) == 2
    assert "vibes" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["agreement", str(path), "--confidence", "95"])
    assert main(["agreement", str(tmp_path / "missing.csv")]) != 0


def test_commands_on_two_judges_say_which_option_picks_one(ratings, tmp_path, capsys):
    # The message named only the Python keyword (judge=...), not the command's --judge.
    judges = ratings[ratings["rater_kind"] == "judge"].assign(rater="another-judge")
    path = tmp_path / "two.csv"
    pd.concat([ratings, judges], ignore_index=True).to_csv(path, index=False)
    for command in (["report", "--out", str(tmp_path / "r.html"), "--no-calibration"],
                    ["estimate", "--target-width", "0.3"], ["agreement", "--calibrated"],
                    ["calibrate", "--out", str(tmp_path / "c.json")]):
        assert main([command[0], str(path), *command[1:], "--resamples" if command[0] == "report" else "--seed",
                     "20" if command[0] == "report" else "0"]) == 2
        err = capsys.readouterr().err
        assert "another-judge" in err and "--judge on the command line" in err, (command, err)


def test_pariksha_report(pariksha_path, tmp_path):
    from judgecal.datasets import load_pariksha

    ratings = load_pariksha(pariksha_path, repair=True)
    rep = build_report(ratings, n_resamples=100, learning_repeats=2)
    assert len(rep.headline) == 30
    assert rep.headline["alpha_human_human"].notna().all()
    paths = write_report(rep, tmp_path / "pariksha.html")
    assert paths["html"].stat().st_size > 10_000


def test_report_with_a_saved_calibrator(ratings, tmp_path):
    from judgecal.calibration import GroupedCalibrator, save_calibrator

    path = tmp_path / "cal.json"
    save_calibrator(GroupedCalibrator().fit(ratings), path)
    rep = build_report(ratings, calibrator=str(path), n_resamples=50, learning_repeats=2)
    assert any("given calibrator" in n for n in rep.meta["notes"])
    tq = rep.headline[rep.headline["metric"] == "tq"]
    assert (tq["bias_calibrated"].abs() < tq["bias_raw"].abs()).all()


def test_saved_calibrator_on_a_table_of_two_judges(ratings, tmp_path):
    # --judge X --calibrator (fitted for X): the other judge's rows are not calibrated
    # (they made apply refuse the whole table), and X's numbers match a table of X alone.
    from judgecal.calibration import GroupedCalibrator, save_calibrator

    path = tmp_path / "cal.json"
    save_calibrator(GroupedCalibrator().fit(ratings), path)
    judge = ratings.loc[ratings["rater_kind"] == "judge", "rater"].iloc[0]
    other = ratings[ratings["rater_kind"] == "judge"].assign(rater="another-judge")
    two = pd.concat([ratings, other], ignore_index=True)
    kw = dict(calibrator=str(path), n_resamples=50, learning_repeats=2)
    rep = build_report(two, judge=judge, **kw)
    alone = build_report(ratings, judge=judge, **kw)
    cols = ["language", "metric", "bias_raw", "bias_calibrated"]
    pd.testing.assert_frame_equal(rep.headline[cols], alone.headline[cols])


def test_ppi_summary_table(report):
    from judgecal.report.build import ppi_summary

    p = ppi_summary(report.systems)
    assert len(p) == 6 and (p["systems"] == 4).all() and (p["ess_gain"] > 1).all()
    assert "effective sample size gain" in render_html(report)
    assert "System estimates: PPI++ per language" in to_markdown(report)


def test_report_and_agreement_take_metrics_declared_in_a_file(ratings, tmp_path, capsys):
    # `report` refused metrics declared with --metrics (the HTML's level chart and the
    # out-of-fold calibration looked them up among the built-ins only), and so did
    # `agreement --calibrated`, while every other command accepted them.
    declared = tmp_path / "metrics.json"
    declared.write_text(json.dumps([{"id": "fluency", "levels": [0, 1, 2], "labels": ["halting", "fair", "native"],
                                     "measurement": "ordinal"}]))
    path = tmp_path / "fluency.csv"
    ratings[ratings["metric"] == "tq"].assign(metric="fluency").to_csv(path, index=False)
    html = tmp_path / "rep" / "report.html"
    assert main(["report", str(path), "--metrics", str(declared), "--out", str(html), "--resamples", "30"]) == 0, \
        capsys.readouterr().err
    page = html.read_text(encoding="utf-8")
    assert "Levels given, fluency" in page and "2 native" in page and "judge + humans (calibrated)" in page
    assert "| fluency |" in html.with_suffix(".md").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["agreement", str(path), "--metrics", str(declared), "--calibrated", "--resamples", "30"]) == 0, \
        capsys.readouterr().err
    out = capsys.readouterr().out
    assert "fluency" in out and "calibrated" in out


HOSTILE_JUDGE = "gpt\x1b[31m<script>x</script>\u202e"
HOSTILE_SYSTEM = "sys\x1b]8;;https://evil.example/\x1b\\[click](https://evil.example)\x1b]8;;\x1b\\"
TERMINAL_CONTROLS = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


@pytest.fixture(scope="module")
def hostile_ratings(ratings):
    judge = ratings["rater_kind"] == "judge"
    out = ratings[ratings["language"] == "hi"].copy()
    out.loc[judge, "rater"] = HOSTILE_JUDGE
    out["system"] = [HOSTILE_SYSTEM + str(s) for s in out["system"]]
    return out


def test_estimate_and_agreement_print_no_escape_sequences_from_names(hostile_ratings, tmp_path, capsys):
    path = tmp_path / "hostile.parquet"
    hostile_ratings.to_parquet(path)
    assert main(["estimate", str(path)]) == 0
    assert main(["agreement", str(path), "--resamples", "20", "--statistics", "alpha"]) == 0
    assert main(["agreement", str(path), "--judge", "other\x1b[2J"]) == 2
    bad = tmp_path / "bad.csv"
    hostile_ratings.head(40).assign(rater_kind=["\x1b]0;title\x07judge\u202e"] * 40).to_csv(bad, index=False)
    assert main(["validate", str(bad)]) != 0
    assert main(["validate", str(bad), "--drop-bad-rows"]) != 0
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        assert not re.search(TERMINAL_CONTROLS, stream), re.findall(f".{{0,20}}{TERMINAL_CONTROLS}.{{0,20}}", stream)[:3]
        assert "evil.example/" not in stream
    assert "gpt<script>x</script>" in captured.out and "sys[click]" in captured.out


def test_report_markdown_escapes_title_and_judge_names(hostile_ratings, tmp_path):
    import markdown_it

    rep = build_report(hostile_ratings, calibration="none", n_resamples=20, learning_repeats=2,
                       title="# Title [x](https://evil.example) <img src=x onerror=alert(1)>\x1b[31m")
    md = to_markdown(rep)
    assert not re.search(TERMINAL_CONTROLS, md)
    tokens = markdown_it.MarkdownIt("commonmark").enable(["table"]).parse(md)
    inline = [c for t in tokens for c in (t.children or [])]
    assert not {c.type for c in inline} & {"link_open", "image", "html_inline", "html_block"}
    assert not {t.type for t in tokens} & {"html_block"}
    heading = next(t for t in tokens if t.type == "inline")
    assert "".join(c.content for c in heading.children) == "# Title [x](https://evil.example) <img src=x onerror=alert(1)>"
    html = render_html(rep)
    assert "<script>x" not in html and "&lt;script&gt;x" in html and "<img src=x" not in html
    assert not re.search(TERMINAL_CONTROLS, html)  # `cat report.html` must not act on the terminal either
