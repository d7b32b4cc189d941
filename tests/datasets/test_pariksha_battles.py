"""PARIKSHA's pairwise release: counts, the issue's reference numbers, the manifest, make_battles."""

from __future__ import annotations

import numpy as np
import pytest

from judgecal.data.battles import response_findings
from judgecal.datasets import battle_counts, load_pariksha_battles, make_battles
from judgecal.datasets._pariksha_manifest import FILES
from judgecal.datasets.pariksha import LANGUAGES
from judgecal.datasets.pariksha_battles import pariksha_battle_files
from judgecal.errors import DatasetError
from judgecal.pairwise.quality import agreement_table


@pytest.fixture(scope="module")
def battles(pariksha_path):
    return load_pariksha_battles(pariksha_path)


def test_counts_with_and_without_systems(battles):
    counts = battle_counts(battles).set_index("language")
    assert counts["pairs"].sum() == 21690 and counts["human_votes"].sum() == 65150
    assert (counts["judge_verdicts"] == counts["pairs"]).all()
    assert counts.loc["pa", "with_systems"] == 1715 and counts.loc["pa", "without_systems"] == 0
    assert counts.loc["hi", "with_systems"] == 1188 and counts.loc["hi", "pairs"] == 4180
    share = counts["with_systems"] / counts["pairs"]
    assert share.drop("pa").between(0.2, 0.35).all()
    assert (battles["shown"] == "12").all()
    no_meta = battles[~battles["has_systems"]]
    assert no_meta["system_1"].isna().all() and (no_meta["prompt_id"] == no_meta["pair_id"]).all()


def test_reference_numbers_of_the_issue(battles):
    agree = agreement_table(battles).set_index("language")
    assert agree["agree_3way"].idxmin() == "pa" and agree["agree_3way"].min() == pytest.approx(0.60, abs=0.01)
    assert agree["agree_3way"].idxmax() == "hi" and agree["agree_3way"].max() == pytest.approx(0.79, abs=0.01)
    assert agree["agree_decisive"].min() == pytest.approx(0.81, abs=0.01)
    assert agree["agree_decisive"].max() == pytest.approx(0.92, abs=0.01)
    assert agree.loc["hi", "tie_native"] == pytest.approx(0.06, abs=0.005)
    assert agree.loc["mr", "tie_native"] == pytest.approx(0.42, abs=0.005)
    assert agree["tie_judge"].between(0.025, 0.095).all()
    assert agree["first_native"].between(0.27, 0.47).all() and agree["first_judge"].between(0.445, 0.525).all()


def test_other_script_responses_are_counted_not_dropped(battles):
    found = response_findings(battles)
    pa = found[(found["language"] == "pa") & (found["finding"] == "other script")]
    assert set(pa["detected"]) == {"Latn", "Deva"} and pa["pairs"].sum() > 100
    blank = found[found["finding"] == "blank"]
    assert set(blank["language"]) == {"or"}  # a few Odia pairs have an empty response


def test_manifest_covers_every_pairwise_file(pariksha_path):
    for lang in LANGUAGES:
        for file in pariksha_battle_files(pariksha_path, lang):
            assert file.relative_to(pariksha_path).as_posix() in FILES


def test_unknown_language_and_missing_release(tmp_path, pariksha_path):
    with pytest.raises(DatasetError, match="unknown PARIKSHA language"):
        load_pariksha_battles(pariksha_path, languages=("klingon",))
    with pytest.raises(DatasetError, match="not found"):
        load_pariksha_battles(tmp_path)


def test_make_battles_truth():
    battles, truth = make_battles(6000, languages=("hi", "mr"), tie_propensity={"hi": 0.1, "mr": 2.0},
                                  position_bias=0.0, random_state=5, return_truth=True)
    assert not (battles["system_1"] == battles["system_2"]).any()
    votes = battles[battles["rater_kind"] == "human"]
    ties = votes.groupby("language")["verdict"].apply(lambda v: (v == "tie").mean())
    assert ties["hi"] < 0.1 < 0.4 < ties["mr"]
    # win rate of each system over its decisive votes follows the true strengths
    wins = {}
    for name in truth["systems"]:
        as1 = votes[votes["system_1"] == name]
        as2 = votes[votes["system_2"] == name]
        won = (as1["verdict"] == "first").sum() + (as2["verdict"] == "second").sum()
        lost = (as1["verdict"] == "second").sum() + (as2["verdict"] == "first").sum()
        wins[name] = won / (won + lost)
    rates = np.array([wins[s] for s in truth["systems"]])
    assert (np.diff(rates) > 0).sum() >= len(rates) - 2 and rates[-1] > rates[0] + 0.3
