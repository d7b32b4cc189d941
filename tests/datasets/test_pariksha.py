"""The PARIKSHA release as a ratings table: exact counts, the gu/pa mix-up found
from the scripts of the texts, and the repair option.

The expected numbers were checked against the raw files; the raw-file tests
below re-derive the key ones with csv/json/unicodedata only, so a change in
judgecal cannot make both sides drift together.
"""

from __future__ import annotations

import collections
import csv
import json
import shutil
import unicodedata

import pandas as pd
import pytest

from judgecal.data.validate import validate_ratings
from judgecal.datasets import PARIKSHA_JUDGE_ID, load_pariksha
from judgecal.datasets.pariksha import HUMAN_DIR, LANGUAGES, OUTPUTS_DIR
from judgecal.errors import DatasetError

TAGS = {"bengali": "bn", "gujarati": "gu", "hindi": "hi", "kannada": "kn", "malayalam": "ml",
        "marathi": "mr", "odia": "or", "punjabi": "pa", "tamil": "ta", "telugu": "te"}
SCRIPTS = {"bn": "Beng", "gu": "Gujr", "hi": "Deva", "kn": "Knda", "ml": "Mlym", "mr": "Deva",
           "or": "Orya", "pa": "Guru", "ta": "Taml", "te": "Telu"}
HUMAN_ROWS = {"bn": 1890, "gu": 1797, "hi": 3396, "kn": 2121, "ml": 1743, "mr": 1542, "or": 1179,
              "pa": 1311, "ta": 1920, "te": 1956}
JUDGE_ROWS = {"bn": 900, "gu": 780, "hi": 1200, "kn": 840, "ml": 840, "mr": 720, "or": 840,
              "pa": 780, "ta": 840, "te": 900}
# items per language label as released: gu and pa also count the other's prompts
ITEMS = {"bn": 300, "gu": 484, "hi": 400, "kn": 280, "ml": 280, "mr": 240, "or": 280, "pa": 431,
         "ta": 280, "te": 300}
ITEMS_WITH_HUMANS = {"bn": 240, "gu": 224, "hi": 391, "kn": 280, "ml": 212, "mr": 210, "or": 179,
                     "pa": 171, "ta": 236, "te": 228}
# human raters per item: {number of raters: number of items}
RATERS_PER_ITEM = {
    "bn": {1: 25, 2: 40, 3: 175}, "gu": {1: 27, 2: 19, 3: 178}, "hi": {1: 10, 2: 21, 3: 360},
    "kn": {2: 133, 3: 147}, "ml": {1: 15, 2: 28, 3: 166, 4: 3}, "mr": {1: 38, 2: 40, 3: 132},
    "or": {1: 49, 2: 46, 3: 84}, "pa": {1: 11, 2: 54, 3: 106}, "ta": {1: 13, 2: 42, 3: 181},
    "te": {1: 9, 2: 14, 3: 205},
}
GU_ROWS_IN_GURMUKHI = 1797  # all 599 records of the gujarati file x 3 metrics
PA_ROWS_IN_GUJARATI = 1311  # all 437 records of the punjabi file x 3 metrics


@pytest.fixture(scope="module")
def repaired(pariksha_path):
    return load_pariksha(pariksha_path, repair=True)


@pytest.fixture(scope="module")
def report(pariksha):
    return validate_ratings(pariksha)


@pytest.fixture(scope="module")
def repaired_report(repaired):
    return validate_ratings(repaired)


# --- the raw files, read without judgecal -------------------------------------

def _raw_human(root, lang):
    (file,) = sorted((root / HUMAN_DIR).glob(f"{lang}_ratings_output_indi*.tsv"))
    with file.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _prompt_owner(root):
    owner = {}
    for lang in LANGUAGES:
        for rec in json.loads((root / OUTPUTS_DIR / f"output_{lang}.json").read_text(encoding="utf-8")):
            owner[rec["prompt_id"]] = lang
    return owner


def _main_script(text: str) -> str | None:
    """First word of the Unicode names of the letters, by majority (e.g. GURMUKHI)."""
    names = collections.Counter(unicodedata.name(c, "?").split()[0] for c in text if c.isalpha())
    return names.most_common(1)[0][0] if names else None


def test_raw_files_show_the_swap(pariksha_path):
    owner = _prompt_owner(pariksha_path)
    gu, pa = _raw_human(pariksha_path, "gujarati"), _raw_human(pariksha_path, "punjabi")
    assert 3 * len(gu) == GU_ROWS_IN_GURMUKHI and 3 * len(pa) == PA_ROWS_IN_GUJARATI
    assert {owner[r["prompt_id"]] for r in gu} == {"punjabi"}
    assert {owner[r["prompt_id"]] for r in pa} == {"gujarati"}
    reasons = lambda r: r["ling_rating_reasoning"] + r["task_rating_reasoning"] + r["hallucination_reasoning"]  # noqa: E731
    assert collections.Counter(_main_script(reasons(r)) for r in gu)["GURMUKHI"] >= 598
    assert collections.Counter(_main_script(reasons(r)) for r in pa)["GUJARATI"] == 437
    # every other human file rates its own language's prompts
    for lang in LANGUAGES:
        if lang not in ("gujarati", "punjabi"):
            assert {owner[r["prompt_id"]] for r in _raw_human(pariksha_path, lang)} == {lang}


def test_raw_files_give_the_same_counts(pariksha_path):
    for lang, tag in TAGS.items():
        records = _raw_human(pariksha_path, lang)
        assert 3 * len(records) == HUMAN_ROWS[tag]
        per_item = collections.Counter((r["prompt_id"], r["model"]) for r in records)
        assert dict(collections.Counter(per_item.values())) == RATERS_PER_ITEM[tag]


# --- the loader -------------------------------------------------------------

def test_rows_per_language_and_kind(pariksha):
    counts = pariksha.groupby(["language", "rater_kind"]).size().unstack()
    assert counts["human"].to_dict() == HUMAN_ROWS
    assert counts["judge"].to_dict() == JUDGE_ROWS
    assert len(pariksha) == sum(HUMAN_ROWS.values()) + sum(JUDGE_ROWS.values()) == 27495
    assert pariksha.groupby("language")["item_id"].nunique().to_dict() == ITEMS


def test_table_contract(pariksha):
    assert set(pariksha["metric"]) == {"la", "tq", "h"}
    assert set(pariksha.loc[pariksha["rater_kind"] == "judge", "rater"]) == {PARIKSHA_JUDGE_ID}
    assert pariksha.loc[pariksha["rater_kind"] == "human", "rater"].str.fullmatch(r"\d+").all()
    assert (pariksha["item_id"] == pariksha["prompt_id"] + "/" + pariksha["system"]).all()
    assert pariksha.groupby("language")["script"].unique().map(list).to_dict() == {k: [v] for k, v in SCRIPTS.items()}
    for metric, levels in (("la", {0.0, 1.0, 2.0}), ("tq", {0.0, 1.0, 2.0}), ("h", {0.0, 1.0})):
        assert set(pariksha.loc[pariksha["metric"] == metric, "score"]) <= levels
    assert set(pariksha["task"]) == {"qa"}
    assert pariksha["prompt"].notna().all() and pariksha["response"].notna().mean() > 0.99
    assert pariksha["source"].str.contains(r"\.(?:tsv|json):").all()
    judge = pariksha[pariksha["rater_kind"] == "judge"]
    assert judge["justification"].notna().all()


def test_human_hallucination_true_false_become_1_0(pariksha, pariksha_path):
    raw = collections.Counter(r["hallucination_rating"] for r in _raw_human(pariksha_path, "gujarati"))
    gu_h = pariksha[(pariksha["language_in_release"] == "gujarati") & (pariksha["metric"] == "h") & (pariksha["rater_kind"] == "human")]
    assert gu_h["score"].value_counts().to_dict() == {1.0: raw["True"], 0.0: raw["False"]}
    assert (raw["True"], raw["False"]) == (313, 286)


def test_human_raters_per_item(pariksha, repaired):
    human = pariksha[(pariksha["rater_kind"] == "human") & (pariksha["metric"] == "la")]
    per_item = human.groupby(["language", "item_id"])["rater"].nunique()
    for tag, dist in RATERS_PER_ITEM.items():
        assert per_item[tag].value_counts().sort_index().to_dict() == dist
    assert human.groupby("language")["item_id"].nunique().to_dict() == ITEMS_WITH_HUMANS


def test_validate_summary_matches(report):
    s = report.summary.set_index("language")
    assert s["human_rows"].to_dict() == HUMAN_ROWS
    assert s["judge_rows"].to_dict() == JUDGE_ROWS
    assert s["items"].to_dict() == ITEMS
    assert s["items_with_humans"].to_dict() == ITEMS_WITH_HUMANS
    assert s.loc["kn", "raters_per_item"] == "2:133, 3:147"  # items with 2 and with 3 raters
    assert s.loc["ml", "raters_per_item_max"] == 4


def test_validate_finds_the_gu_pa_mix_up_from_scripts(report):
    mix = [f for f in report.findings if "MIX-UP" in f]
    assert len(mix) == 1
    assert f"rows labelled gu (Gujarati) have texts in Gurmukhi, the script of pa, in {GU_ROWS_IN_GURMUKHI} of" in mix[0]
    assert f"rows labelled pa have texts in Gujarati in {PA_ROWS_IN_GUJARATI} of" in mix[0]
    m = report.script_mismatches.set_index(["language", "column", "detected_script"])
    assert m.loc[("gu", "prompt", "Guru"), "rows"] == GU_ROWS_IN_GURMUKHI
    assert m.loc[("pa", "prompt", "Gujr"), "rows"] == PA_ROWS_IN_GUJARATI
    assert m.loc[("gu", "prompt", "Guru"), "items"] == ITEMS_WITH_HUMANS["gu"]
    # the raters' own reasoning says the same
    assert m.loc[("gu", "justification", "Guru"), "rows"] >= 1790
    assert m.loc[("pa", "justification", "Gujr"), "rows"] == PA_ROWS_IN_GUJARATI
    # no other language has texts in another Indic language's script in bulk
    indic = report.script_mismatches[report.script_mismatches["detected_script"].isin(set(SCRIPTS.values()))]
    big = indic.groupby("language")["rows"].sum()
    assert set(big[big > 100].index) == {"gu", "pa"}
    assert "395 items are labelled with more than one language across rows: gu/pa: 395 items" in report.findings


def test_repair_moves_exactly_the_swapped_human_rows(pariksha, repaired):
    assert len(repaired) == len(pariksha)
    moved = repaired[repaired["language"] != repaired["language_in_release"].map(TAGS)]
    assert moved.groupby(["language_in_release", "language", "rater_kind"]).size().to_dict() == {
        ("gujarati", "pa", "human"): GU_ROWS_IN_GURMUKHI,
        ("punjabi", "gu", "human"): PA_ROWS_IN_GUJARATI,
    }
    assert (repaired.loc[moved.index, "script"] == moved["language"].map(SCRIPTS)).all()
    # nothing else changed: same rows in the same order, same scores
    pd.testing.assert_series_equal(repaired["score"], pariksha["score"])
    pd.testing.assert_series_equal(repaired["item_id"], pariksha["item_id"])
    counts = repaired.groupby(["language", "rater_kind"]).size().unstack()
    assert counts.loc["gu", "human"] == PA_ROWS_IN_GUJARATI and counts.loc["pa", "human"] == GU_ROWS_IN_GURMUKHI
    assert repaired.groupby("language")["item_id"].nunique().to_dict() == {**ITEMS, "gu": 260, "pa": 260}


def test_repair_makes_the_mix_up_finding_disappear(repaired_report):
    assert not any("MIX-UP" in f for f in repaired_report.findings)
    assert not any("labelled with more than one language" in f for f in repaired_report.findings)
    m = repaired_report.script_mismatches
    indic = m[m["detected_script"].isin(["Guru", "Gujr"])]
    assert indic.empty
    s = repaired_report.summary.set_index("language")
    assert s.loc["gu", "items_with_humans"] == ITEMS_WITH_HUMANS["pa"]
    assert s.loc["pa", "items_with_humans"] == ITEMS_WITH_HUMANS["gu"]


def test_subset_and_include(pariksha_path):
    df = load_pariksha(pariksha_path, languages=("tamil",), include=("judge",))
    assert set(df["language"]) == {"ta"} and set(df["rater_kind"]) == {"judge"}
    assert len(df) == JUDGE_ROWS["ta"]


def test_errors(pariksha_path, tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        load_pariksha(tmp_path)
    with pytest.raises(DatasetError, match="unknown PARIKSHA language"):
        load_pariksha(pariksha_path, languages=("klingon",))
    with pytest.raises(DatasetError, match="include"):
        load_pariksha(pariksha_path, include=())


def test_damaged_release_gives_dataset_error(pariksha_path, tmp_path):
    copy = tmp_path / "pariksha"
    shutil.copytree(pariksha_path, copy)
    (copy / OUTPUTS_DIR / "output_hindi.json").write_text("[{", encoding="utf-8")
    with pytest.raises(DatasetError, match="damaged"):
        load_pariksha(copy)
    (copy / OUTPUTS_DIR / "output_hindi.json").write_text('[{"prompt": "no id"}]', encoding="utf-8")
    with pytest.raises(DatasetError, match="prompt_id"):
        load_pariksha(copy)
    (copy / OUTPUTS_DIR / "output_hindi.json").unlink()
    with pytest.raises(DatasetError, match="missing"):
        load_pariksha(copy)
    shutil.copy(pariksha_path / OUTPUTS_DIR / "output_hindi.json", copy / OUTPUTS_DIR / "output_hindi.json")
    (tsv,) = (copy / HUMAN_DIR).glob("tamil_*.tsv")
    tsv.write_text(tsv.read_text(encoding="utf-8").replace("worker_id", "worker", 1), encoding="utf-8")
    with pytest.raises(DatasetError, match=r"lacks the column\(s\) \['worker_id'\]"):
        load_pariksha(copy)
    assert len(load_pariksha(copy, languages=("hindi",))) == 4596  # the other files still load


def test_find_pariksha_from_environment(pariksha_path, monkeypatch, tmp_path):
    from judgecal.datasets import find_pariksha

    monkeypatch.setenv("JUDGECAL_PARIKSHA", str(pariksha_path))
    monkeypatch.setenv("JUDGECAL_CACHE", str(tmp_path / "cache"))
    assert find_pariksha() == pariksha_path
    assert find_pariksha(tmp_path) is None
    monkeypatch.delenv("JUDGECAL_PARIKSHA")
    monkeypatch.chdir(tmp_path)
    assert find_pariksha() is None
