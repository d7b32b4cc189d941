"""One rule for language groups (issue 15, item 4).

zh-TW and zh-Hant-TW (and zh-HK / zh-Hant-HK) used to become separate groups
while hi-Deva collapsed to hi. Now every tag becomes the minimal tag that keeps
its script (CLDR likely subtags): regions go to a ``locale`` column. ``und`` is
a valid tag whose script comes from a script subtag, a script column or the
row's text; private-use codes (qaa..qtz) are never given Latin.
"""

from __future__ import annotations

import pandas as pd
import pytest

from judgecal.data.languages import UnknownLanguage, default_script, normalize_language
from judgecal.data.schema import normalize_ratings
from judgecal.errors import InputError


def _frame(languages, **extra) -> pd.DataFrame:
    n = len(languages)
    return pd.DataFrame({"item_id": [f"i{k}" for k in range(n)], "language": languages, "metric": ["la"] * n,
                         "rater": ["w"] * n, "rater_kind": ["human"] * n, "score": [1] * n, **extra})


def test_traditional_chinese_tags_share_one_group_and_keep_their_region():
    table = normalize_ratings(_frame(["zh-TW", "zh-Hant-TW", "zh-HK", "zh-Hant-HK", "zh-Hant", "zh_tw"])).table
    assert set(table["language"]) == {"zh-Hant"} and set(table["script"]) == {"Hant"}
    assert table["locale"].tolist() == ["zh-TW", "zh-Hant-TW", "zh-HK", "zh-Hant-HK", "zh-Hant", "zh-TW"]


def test_one_rule_for_every_script_subtag():
    table = normalize_ratings(_frame(["hi-Deva", "hi", "hi-IN", "zh-CN", "zh-Hans", "zh", "pa-PK", "pa-Arab",
                                      "sr-Latn-RS", "sr-Cyrl"])).table
    assert table["language"].tolist() == ["hi", "hi", "hi", "zh", "zh", "zh", "pa-Arab", "pa-Arab", "sr-Latn", "sr"]
    # a script column that names the language's other script gives the same group as the subtag
    by_column = normalize_ratings(_frame(["pa", "sr"], script=["Arab", "Latn"])).table
    assert by_column["language"].tolist() == ["pa-Arab", "sr-Latn"]


def test_a_table_without_regions_gets_no_locale_column():
    assert "locale" not in normalize_ratings(_frame(["hi", "hindi", "pa-Arab"])).table.columns


def test_und_is_a_valid_tag_whose_script_comes_from_subtag_column_or_text():
    assert normalize_language("und") == "und"
    table = normalize_ratings(_frame(
        ["und-Deva", "und", "und", "UND"],
        script=[None, "Taml", None, None],
        response=["", "", "यह उत्तर पूरी तरह से सही है", "ਇਹ ਜਵਾਬ ਪੂਰੀ ਤਰ੍ਹਾਂ ਸਹੀ ਹੈ"],
    )).table
    assert table["script"].tolist() == ["Deva", "Taml", "Deva", "Guru"]
    assert table["language"].tolist() == ["und-Deva", "und-Taml", "und-Deva", "und-Guru"]


def test_und_without_any_script_is_refused_on_its_row():
    with pytest.raises(InputError) as info:
        normalize_ratings(_frame(["hi", "und"], response=["नमस्ते दुनिया", "ok"]))
    (problem,) = info.value.problems
    assert problem.row == 2 and problem.column == "language"
    assert "undetermined" in problem.message and "script subtag" in problem.message and "script column" in problem.message


def test_private_use_codes_are_never_given_latin():
    with pytest.raises(UnknownLanguage, match="private-use"):
        default_script("qaa")
    with pytest.raises(InputError) as info:
        normalize_ratings(_frame(["qaa", "qtz"], response=["plain english words here", "more words of text"]))
    assert [p.row for p in info.value.problems] == [1, 2]
    assert all("private-use" in p.message and "script column" in p.message for p in info.value.problems)
    table = normalize_ratings(_frame(["qaa-Deva", "qaa"], script=[None, "Latn"])).table
    assert table["language"].tolist() == ["qaa-Deva", "qaa-Latn"]
    assert table["script"].tolist() == ["Deva", "Latn"]


def test_languages_without_likely_script_data_are_not_given_latin():
    # Klingon has no CLDR likely-subtags entry: the catch-all would have said Latin
    with pytest.raises(UnknownLanguage, match="no usual script"):
        default_script("tlh")


def test_pariksha_groups_do_not_change(pariksha):
    result = normalize_ratings(pariksha)
    pairs = set(zip(result.table["language"], result.table["script"], strict=True))
    assert pairs == {("bn", "Beng"), ("gu", "Gujr"), ("hi", "Deva"), ("kn", "Knda"), ("ml", "Mlym"),
                     ("mr", "Deva"), ("or", "Orya"), ("pa", "Guru"), ("ta", "Taml"), ("te", "Telu")}
    assert "locale" not in result.table.columns
    assert result.table["language"].tolist() == pariksha["language"].tolist()
