"""One stray rating no longer stops everything (issue 15, item 3).

RTP-LX holds one human rating of 0 on its 1-5 toxicity scale. Every command
that reads ratings takes --drop-bad-rows (each row left out is listed with its
reason) and --levels (toxicity=1..5 or =1,2,3,4,5); a metric that is not built
in gets a ready-to-edit declaration built from the levels seen.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from judgecal.cli import build_parser, main
from judgecal.data.io import read_ratings
from judgecal.errors import DroppedRowsWarning


def _toxicity_file(tmp_path, stray_row: bool = True):
    """60 items in two languages, 2 human raters and a judge on a 1-5 scale; one human rating of 0."""
    rng = np.random.default_rng(0)
    rows = []
    for k in range(60):
        lang = "hi" if k % 2 else "ta"
        truth = int(rng.integers(1, 6))
        for r in ("w1", "w2"):
            rows.append(dict(item_id=f"i{k}", language=lang, metric="toxicity", rater=r, rater_kind="human",
                             score=int(np.clip(truth + rng.integers(-1, 2), 1, 5)), system=f"s{k % 3}"))
        rows.append(dict(item_id=f"i{k}", language=lang, metric="toxicity", rater="gpt", rater_kind="judge",
                         score=int(np.clip(truth + 1, 1, 5)), system=f"s{k % 3}"))
    frame = pd.DataFrame(rows)
    if stray_row:
        frame.loc[10, "score"] = 0  # file line 12
    path = tmp_path / "rtp.csv"
    frame.to_csv(path, index=False)
    return path


def test_unknown_metric_prints_a_ready_declaration_that_works(tmp_path, capsys):
    path = _toxicity_file(tmp_path, stray_row=False)
    assert main(["calibrate", str(path), "--out", str(tmp_path / "c.json")]) == 1
    err = capsys.readouterr().err
    assert "declare others in a metrics file" in err
    assert "--levels toxicity=1..5" in err
    # the printed TOML, saved as it is, is a metrics file the command accepts
    toml = err[err.index("[[metrics]]"):err.index("\n\nor on the command line")]
    (tmp_path / "metrics.toml").write_text(toml, encoding="utf-8")
    assert main(["validate", str(path), "--metrics", str(tmp_path / "metrics.toml")]) == 0


def test_stray_rating_stops_calibrate_until_drop_bad_rows(tmp_path, capsys):
    path = _toxicity_file(tmp_path)
    out = tmp_path / "c.json"
    assert main(["calibrate", str(path), "--out", str(out), "--levels", "toxicity=1..5"]) == 1
    err = capsys.readouterr().err
    assert "row 12, column 'score': not on the toxicity scale" in err
    assert "add --drop-bad-rows" in err
    assert not out.exists()
    assert main(["calibrate", str(path), "--out", str(out), "--levels", "toxicity=1..5", "--drop-bad-rows"]) == 0
    err = capsys.readouterr().err
    assert "left out 1 of 180 row(s)" in err and "row 12, column 'score': not on the toxicity scale" in err
    assert json.loads(out.read_text())  # the calibrator was written


@pytest.mark.parametrize("levels", ["toxicity=1..5", "toxicity=1,2,3,4,5"])
@pytest.mark.parametrize("command", [
    ["validate"],
    ["agreement", "--resamples", "20"],
    ["estimate"],
    ["report", "--no-calibration", "--resamples", "20"],
])
def test_every_reading_command_takes_levels_and_drop_bad_rows(command, levels, tmp_path, capsys):
    path = _toxicity_file(tmp_path)
    extra = ["--out", str(tmp_path / "report.html")] if command[0] == "report" else []
    code = main([command[0], str(path), *command[1:], *extra, "--levels", levels, "--drop-bad-rows"])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "row 12" in text and "not on the toxicity scale" in text
    assert code == (1 if command[0] == "validate" else 0), text  # validate's exit code says rows were bad


def test_apply_takes_levels_and_drop_bad_rows(tmp_path, capsys):
    path = _toxicity_file(tmp_path)
    cal = tmp_path / "c.json"
    assert main(["calibrate", str(path), "--out", str(cal), "--levels", "toxicity=1..5", "--drop-bad-rows"]) == 0
    judged = pd.read_csv(path)
    judged = judged[judged["rater_kind"] == "judge"].copy()
    judged.iloc[3, judged.columns.get_loc("score")] = 9
    jpath = tmp_path / "judged.csv"
    judged.to_csv(jpath, index=False)
    capsys.readouterr()
    out = tmp_path / "calibrated.csv"
    assert main(["apply", str(cal), str(jpath), "--out", str(out), "--levels", "toxicity=1..5"]) == 1
    assert main(["apply", str(cal), str(jpath), "--out", str(out), "--levels", "toxicity=1..5",
                 "--drop-bad-rows"]) == 0
    err = capsys.readouterr().err
    assert "left out 1 of 60 row(s)" in err and "row 5, column 'score'" in err
    assert len(pd.read_csv(out)) == 59


def test_score_takes_levels_too():
    args = build_parser().parse_args(["score", "g.jsonl", "--judge", "openai/m", "--metrics", "toxicity",
                                      "--levels", "toxicity=1..5"])
    assert args.levels == ["toxicity=1..5"]


def test_levels_clash_with_a_metrics_file_and_built_ins(tmp_path, capsys):
    path = _toxicity_file(tmp_path, stray_row=False)
    (tmp_path / "m.toml").write_text('[[metrics]]\nid = "toxicity"\nlevels = [1, 2, 3, 4, 5]\n', encoding="utf-8")
    assert main(["validate", str(path), "--metrics", str(tmp_path / "m.toml"), "--levels", "toxicity=1..5"]) == 2
    assert "both" in capsys.readouterr().err
    assert main(["validate", str(path), "--levels", "la=0..4"]) == 2
    assert "built-in" in capsys.readouterr().err


def test_python_api_drops_with_a_warning_and_lists_the_rows(tmp_path):
    from judgecal.data.metrics import build_registry

    path = _toxicity_file(tmp_path)
    with pytest.warns(DroppedRowsWarning, match=r"left out 1 of 180 row\(s\)") as record:
        table = read_ratings(path, metrics=build_registry(levels=["toxicity=1..5"]), drop_bad_rows=True)
    assert "row 12" in str(record[0].message)
    assert len(table) == 179
    assert table.attrs["dropped"] == [
        {"row": 12, "reason": "score: not on the toxicity scale ('1', '2', '3', '4', '5')"}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to drop: no warning
        clean = read_ratings(_toxicity_file(tmp_path, stray_row=False), metrics=build_registry(levels=["toxicity=1..5"]),
                             drop_bad_rows=True)
    assert len(clean) == 180 and clean.attrs["dropped"] == []
    pd.concat([table, clean])  # attrs that pandas can compare (a DataFrame there broke concat)
