"""validate_ratings on small tables whose right answers are known."""

from __future__ import annotations

import pandas as pd

from judgecal.data.schema import normalize_ratings
from judgecal.data.validate import validate_ratings

HI = "यह उत्तर पूरी तरह से सही और साफ़ है"
PA = "ਇਹ ਜਵਾਬ ਪੂਰੀ ਤਰ੍ਹਾਂ ਸਹੀ ਅਤੇ ਸਾਫ਼ ਹੈ"
GU = "આ જવાબ સંપૂર્ણપણે સાચો અને સ્પષ્ટ છે"
SR_CYRL = "Овај одговор је потпуно тачан"
SR_LATN = "Ovaj odgovor je potpuno tačan"
EN = "The answer is correct and clear"


def table(rows) -> pd.DataFrame:
    cols = ["item_id", "language", "metric", "rater", "rater_kind", "score", "response", "justification"]
    return normalize_ratings(pd.DataFrame(rows, columns=cols)).table


def test_summary_counts_per_language():
    rows = []
    for item in ("h1", "h2"):
        for r in ("a", "b", "c"):
            rows.append((item, "hi", "la", r, "human", 2, HI, None))
        rows.append((item, "hi", "la", "gpt", "judge", 2, HI, EN))
    rows.append(("p1", "pa", "la", "a", "human", 1, PA, None))
    rows.append(("p1", "pa", "h", "a", "human", 0, PA, None))
    report = validate_ratings(table(rows))
    s = report.summary.set_index("language")
    assert s.loc["hi", "rows"] == 8 and s.loc["hi", "items"] == 2
    assert s.loc["hi", "human_rows"] == 6 and s.loc["hi", "judge_rows"] == 2
    assert s.loc["hi", "human_raters"] == 3 and s.loc["hi", "judges"] == 1
    assert s.loc["hi", "raters_per_item_mean"] == 3 and s.loc["hi", "raters_per_item"] == "3:2"
    assert s.loc["pa", "raters_per_item"] == "1:1"  # one item, rated by one rater (on two metrics)
    assert s.loc["pa", "judge_rows"] == 0 and s.loc["pa", "script"] == "Guru"
    scores = report.scores.set_index(["language", "metric", "rater_kind", "score"])["rows"]
    assert scores[("hi", "la", "human", 2.0)] == 6
    assert scores[("pa", "h", "human", 0.0)] == 1
    assert report.findings == []
    assert report.n_mismatched_rows == 0


def test_missing_values_are_counted_per_language_and_column():
    rows = [
        ("a", "hi", "la", "w1", "human", 1, HI, None),
        ("b", "hi", "la", "w1", "human", 1, "  ", "ठीक है भाई"),
        ("c", "hi", "la", "w1", "human", 1, None, None),
    ]
    missing = validate_ratings(table(rows)).missing.set_index(["language", "column"])
    assert missing.loc[("hi", "response"), "missing"] == 2
    assert missing.loc[("hi", "justification"), "missing"] == 2
    assert (missing["rows"] == 3).all()


def test_two_swapped_languages_are_reported_as_a_mix_up():
    rows = []
    # rows labelled gu carry Punjabi texts and vice versa; hi is fine
    for k in range(5):
        rows.append((f"g{k}", "gu", "la", "w1", "human", 1, PA, PA))
        rows.append((f"p{k}", "pa", "la", "w1", "human", 1, GU, GU))
        rows.append((f"h{k}", "hi", "la", "w1", "human", 1, HI, HI))
    report = validate_ratings(table(rows))
    mix = [f for f in report.findings if f.startswith("LANGUAGE MIX-UP")]
    assert len(mix) == 1
    assert "rows labelled gu (Gujarati) have texts in Gurmukhi, the script of pa, in 5 of 5 rows" in mix[0]
    assert "rows labelled pa have texts in Gujarati in 5 of 5" in mix[0]
    m = report.script_mismatches.set_index(["language", "column"])
    assert m.loc[("gu", "response"), "detected_script"] == "Guru" and m.loc[("gu", "response"), "rows"] == 5
    assert m.loc[("pa", "justification"), "detected_script"] == "Gujr"
    assert "hi" not in set(report.script_mismatches["language"])
    assert report.n_mismatched_rows == 10


def test_one_sided_mislabel_is_not_called_a_swap():
    rows = [(f"g{k}", "gu", "la", "w1", "human", 1, PA, None) for k in range(3)]
    rows += [(f"p{k}", "pa", "la", "w1", "human", 1, PA, None) for k in range(3)]
    findings = validate_ratings(table(rows)).findings
    assert not any("MIX-UP" in f for f in findings)
    assert any(f.startswith("rows labelled gu have texts mostly in Gurmukhi (3 of 3 rows), the script of pa") for f in findings)


def test_two_script_language_declared_in_one_script_written_in_the_other():
    rows = [
        ("a", "sr-Latn", "la", "w1", "human", 2, SR_CYRL, None),
        ("b", "sr", "la", "w1", "human", 2, SR_CYRL, None),
        ("c", "sr", "la", "w1", "human", 2, SR_LATN, None),
        ("d", "zh-TW", "la", "w1", "human", 2, "我們今天下午去學校學習", None),
        ("e", "pa-Arab", "la", "w1", "human", 2, "میں اج سویرے گھر جا رہیا ہاں", None),
    ]
    report = validate_ratings(table(rows))
    m = report.script_mismatches
    got = sorted(zip(m["language"], m["declared_script"], m["detected_script"], strict=True))
    assert got == [("sr", "Cyrl", "Latn"), ("sr-Latn", "Latn", "Cyrl")]  # Han text fits zh-TW; Shahmukhi fits pa-Arab
    assert any("in Latin script where another script was declared" in f and "sr/response: 1" in f for f in report.findings)
    assert any("different non-Latin script" in f and "sr-Latn/response: 1 in Cyrl" in f for f in report.findings)


def test_judge_justifications_and_short_texts_do_not_count():
    rows = [
        ("a", "hi", "la", "gpt", "judge", 2, HI, EN),  # an English justification by a judge is normal
        ("b", "hi", "la", "w1", "human", 2, "OK ok", None),  # too few letters to say anything
        ("c", "hi", "la", "w1", "human", 2, HI, EN),  # a human's English reasoning is reported
    ]
    report = validate_ratings(table(rows))
    m = report.script_mismatches
    assert m[["column", "detected_script", "rows"]].values.tolist() == [["justification", "Latn", 1]]
    rs = report.row_scripts
    short = rs[(rs["row"] == 1) & (rs["column"] == "response")]
    assert not short["reliable"].iloc[0] and not short["mismatch"].iloc[0]


def test_items_labelled_with_two_languages():
    rows = [("x", "gu", "la", "w1", "human", 1, GU, None), ("x", "pa", "la", "gpt", "judge", 1, GU, None)]
    findings = validate_ratings(table(rows)).findings
    assert "1 items are labelled with more than one language across rows: gu/pa: 1 items" in findings


def test_judge_only_table():
    rows = [("a", "ta", "la", "gpt", "judge", 1, None, None), ("b", "ta", "la", "gpt", "judge", 2, None, None)]
    report = validate_ratings(table(rows))
    s = report.summary.iloc[0]
    assert s["human_rows"] == 0 and s["judge_rows"] == 2 and s["items_with_humans"] == 0
    assert report.script_mismatches.empty
    d = report.to_dict()
    assert d["summary"][0]["language"] == "ta" and d["findings"] == []
