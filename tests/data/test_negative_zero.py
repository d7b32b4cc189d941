"""A score written as -0.0 is the level 0, not a level of its own (issue 15, item 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.cli import main
from judgecal.data.io import read_ratings


def test_negative_zero_score_is_level_zero(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text(
        "item_id,language,metric,rater,rater_kind,score\n"
        "a,hi,la,w1,human,-0.0\n"
        "a,hi,la,gpt,judge,-0\n"
        "b,hi,la,w1,human,0\n"
        "b,hi,la,gpt,judge,2\n",
        encoding="utf-8",
    )
    table = read_ratings(path)
    assert not np.signbit(table["score"].to_numpy()).any()
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.strip().startswith("language") and "rater_kind" in line)
    assert "-0" not in header.split() and "0" in header.split()


def test_negative_zero_from_a_numeric_column_too():
    from judgecal.data.schema import normalize_ratings

    frame = pd.DataFrame({"item_id": ["a"], "language": ["hi"], "metric": ["la"], "rater": ["w"],
                          "rater_kind": ["judge"], "score": [-0.0]})
    score = normalize_ratings(frame).table["score"].to_numpy()
    assert score[0] == 0 and not np.signbit(score[0])
