"""Language tags and scripts: normalisation, default scripts, detection from text.

Covers 30+ languages in 20+ scripts, including languages written in two scripts
(Serbian Cyrillic/Latin, Punjabi Gurmukhi/Shahmukhi, Chinese Simplified/
Traditional). The sample sentences are short everyday phrases written for
these tests.
"""

from __future__ import annotations

import pytest

from judgecal.data.languages import (
    UnknownLanguage,
    default_script,
    language_name,
    normalize_language,
)
from judgecal.data.scripts import (
    detect_script,
    detect_scripts,
    script_counts,
    script_matches,
    script_name,
)

# value as a user writes it -> (normalised tag, default script). The tag is the minimal
# one that keeps the script: regions go (they stay in a ratings table's locale column),
# a script the language usually has goes, any other script stays.
TAGS = {
    "hi": ("hi", "Deva"),
    "hindi": ("hi", "Deva"),
    "Hindi": ("hi", "Deva"),
    "HI": ("hi", "Deva"),
    "hi_IN": ("hi", "Deva"),
    "mr": ("mr", "Deva"),
    "Marathi": ("mr", "Deva"),
    "ne": ("ne", "Deva"),
    "bn": ("bn", "Beng"),
    "Bengali": ("bn", "Beng"),
    "as": ("as", "Beng"),
    "pa": ("pa", "Guru"),
    "Punjabi": ("pa", "Guru"),
    "pa-Guru": ("pa", "Guru"),  # the likely script is dropped from the tag
    "pa-Arab": ("pa-Arab", "Arab"),
    "pa_PK": ("pa-Arab", "Arab"),
    "gu": ("gu", "Gujr"),
    "gujarati": ("gu", "Gujr"),
    "or": ("or", "Orya"),
    "odia": ("or", "Orya"),
    "Oriya": ("or", "Orya"),
    "ta": ("ta", "Taml"),
    "Tamil": ("ta", "Taml"),
    "te": ("te", "Telu"),
    "kn": ("kn", "Knda"),
    "ml": ("ml", "Mlym"),
    "malayalam": ("ml", "Mlym"),
    "si": ("si", "Sinh"),
    "sr": ("sr", "Cyrl"),
    "Serbian": ("sr", "Cyrl"),
    "sr-Cyrl": ("sr", "Cyrl"),
    "sr-Latn": ("sr-Latn", "Latn"),
    "SR-latn": ("sr-Latn", "Latn"),
    "sr_latn_RS": ("sr-Latn", "Latn"),
    "ru": ("ru", "Cyrl"),
    "uk": ("uk", "Cyrl"),
    "zh": ("zh", "Hans"),
    "Chinese": ("zh", "Hans"),
    "zh-CN": ("zh", "Hans"),
    "zh_TW": ("zh-Hant", "Hant"),
    "zh-tw": ("zh-Hant", "Hant"),
    "zh-HK": ("zh-Hant", "Hant"),
    "zh-Hant": ("zh-Hant", "Hant"),
    "zh_hans": ("zh", "Hans"),
    "ja": ("ja", "Jpan"),
    "Japanese": ("ja", "Jpan"),
    "ko": ("ko", "Kore"),
    "ar": ("ar", "Arab"),
    "Arabic": ("ar", "Arab"),
    "ur": ("ur", "Arab"),
    "fa": ("fa", "Arab"),
    "he": ("he", "Hebr"),
    "iw": ("he", "Hebr"),  # deprecated code, replaced by its current one
    "el": ("el", "Grek"),
    "th": ("th", "Thai"),
    "ka": ("ka", "Geor"),
    "hy": ("hy", "Armn"),
    "am": ("am", "Ethi"),
    "km": ("km", "Khmr"),
    "en": ("en", "Latn"),
    "EN-us": ("en", "Latn"),
    "English": ("en", "Latn"),
    "sw": ("sw", "Latn"),
    "in": ("id", "Latn"),  # deprecated code for Indonesian
}


@pytest.mark.parametrize("value", sorted(TAGS))
def test_normalize_language_and_default_script(value):
    tag, script = TAGS[value]
    assert normalize_language(value) == tag
    assert default_script(normalize_language(value)) == script


def test_coverage_of_the_tag_table():
    tags = {t for t, _ in TAGS.values()}
    languages = {t.split("-")[0] for t in tags}
    scripts = {s for _, s in TAGS.values()}
    assert len(languages) >= 20
    assert len(scripts) >= 10


def test_private_use_prefix_does_not_reject_real_x_languages():
    assert normalize_language("xh") == "xh"  # Xhosa starts with x, it is not private use
    assert normalize_language("Xhosa") == "xh"


@pytest.mark.parametrize("value", ["  hindi  ", "\tpa\n"])
def test_surrounding_whitespace_is_ignored(value):
    assert normalize_language(value) in ("hi", "pa")


@pytest.mark.parametrize(
    "value", ["xx", "zz-notalang", "qwertyuiop", "not a language", "12", "", "   ", "hi\x00", "\ud800", "-", "_", "x-foo"]
)
def test_unknown_tags_and_names_are_rejected(value):
    with pytest.raises(UnknownLanguage):
        normalize_language(value)


def test_unknown_language_is_a_value_error_with_the_value_in_the_message():
    with pytest.raises(ValueError, match="qwertyuiop"):
        normalize_language("qwertyuiop")


def test_two_script_languages_differ_only_by_script():
    assert default_script("sr") != default_script("sr-Latn")
    assert default_script("pa") != default_script("pa-Arab")
    assert default_script("zh-CN") != default_script("zh-TW")


def test_language_name():
    assert language_name("hi") == "Hindi"
    assert language_name("pa") == "Punjabi"


# language tag -> (sentence, the script its letters are written in)
SENTENCES = {
    "hi": ("भारत एक बड़ा देश है और यहाँ कई भाषाएँ बोली जाती हैं।", "Deva"),
    "mr": ("मी रोज सकाळी शाळेत जातो.", "Deva"),
    "ne": ("म आज घर जाँदैछु।", "Deva"),
    "bn": ("আমি প্রতিদিন সকালে বাজারে যাই।", "Beng"),
    "as": ("মই আজি ঘৰলৈ যাম।", "Beng"),
    "pa": ("ਮੈਂ ਅੱਜ ਸਵੇਰੇ ਘਰ ਜਾ ਰਿਹਾ ਹਾਂ।", "Guru"),
    "pa-Arab": ("میں اج سویرے گھر جا رہیا ہاں", "Arab"),
    "gu": ("હું આજે સવારે ઘરે જાઉં છું.", "Gujr"),
    "or": ("ମୁଁ ଆଜି ସକାଳେ ଘରକୁ ଯାଉଛି।", "Orya"),
    "ta": ("நான் இன்று காலை வீட்டுக்குப் போகிறேன்.", "Taml"),
    "te": ("నేను ఈ రోజు ఇంటికి వెళ్తున్నాను.", "Telu"),
    "kn": ("ನಾನು ಇಂದು ಮನೆಗೆ ಹೋಗುತ್ತಿದ್ದೇನೆ.", "Knda"),
    "ml": ("ഞാൻ ഇന്ന് വീട്ടിലേക്ക് പോകുന്നു.", "Mlym"),
    "si": ("මම අද ගෙදර යනවා.", "Sinh"),
    "sr": ("Добар дан, како сте данас?", "Cyrl"),
    "sr-Latn": ("Dobar dan, kako ste danas?", "Latn"),
    "ru": ("Сегодня я иду домой пешком.", "Cyrl"),
    "zh-CN": ("我们今天下午去学校学习。", "Hani"),
    "zh-TW": ("我們今天下午去學校學習。", "Hani"),
    "ko": ("저는 오늘 학교에 갑니다.", "Hang"),
    "ar": ("أنا ذاهب إلى البيت الآن.", "Arab"),
    "ur": ("میں ابھی گھر جا رہا ہوں۔", "Arab"),
    "fa": ("من الان به خانه می‌روم.", "Arab"),
    "he": ("אני הולך הביתה עכשיו.", "Hebr"),
    "el": ("Πηγαίνω στο σπίτι τώρα.", "Grek"),
    "th": ("ฉันกำลังกลับบ้านตอนนี้", "Thai"),
    "ka": ("მე ახლა სახლში მივდივარ.", "Geor"),
    "hy": ("Ես հիմա գնում եմ տուն։", "Armn"),
    "am": ("እኔ አሁን ወደ ቤት እሄዳለሁ።", "Ethi"),
    "km": ("ខ្ញុំទៅផ្ទះឥឡូវនេះ។", "Khmr"),
    "en": ("I am walking home right now.", "Latn"),
    "sw": ("Ninakwenda nyumbani sasa hivi.", "Latn"),
}


@pytest.mark.parametrize("tag", sorted(SENTENCES))
def test_detect_script_on_real_sentences(tag):
    text, expected = SENTENCES[tag]
    guess = detect_script(text)
    assert guess.script == expected
    assert guess.share == 1.0  # digits, spaces and punctuation do not count
    assert guess.letters >= 8
    # the script detected is consistent with the language's declared script
    assert script_matches(default_script(normalize_language(tag)), guess.script)


def test_sentence_table_covers_20_languages_and_10_scripts():
    assert len({t.split("-")[0] for t in SENTENCES}) >= 20
    assert len({s for _, s in SENTENCES.values()}) >= 10


def test_japanese_mixes_kanji_and_kana_and_matches_jpan():
    counts = script_counts("私は毎日学校に行きます。")
    assert set(counts) == {"Hani", "Hira"}
    assert counts["Hani"] == 6  # 私 毎 日 学 校 行
    assert script_matches("Jpan", detect_script("私は毎日学校に行きます。").script)
    assert script_matches("Jpan", "Kana")
    assert not script_matches("Jpan", "Hang")


def test_han_text_matches_both_chinese_scripts_but_not_others():
    han = detect_script("我們今天下午去學校學習。").script
    assert script_matches("Hant", han) and script_matches("Hans", han)
    assert not script_matches("Deva", han)


def test_two_script_languages_are_told_apart_by_detection():
    # Serbian: the same sentence in its two scripts
    assert not script_matches(default_script("sr"), detect_script(SENTENCES["sr-Latn"][0]).script)
    assert not script_matches(default_script("sr-Latn"), detect_script(SENTENCES["sr"][0]).script)
    # Punjabi: Gurmukhi text is not Shahmukhi and vice versa
    assert not script_matches(default_script("pa"), detect_script(SENTENCES["pa-Arab"][0]).script)
    assert not script_matches(default_script("pa-Arab"), detect_script(SENTENCES["pa"][0]).script)


def test_mixed_text_reports_the_dominant_script_and_its_share():
    text = "नमस्ते hello"  # 6 Devanagari letters/marks, 5 Latin
    counts = script_counts(text)
    assert counts == {"Deva": 6, "Latn": 5}
    guess = detect_script(text)
    assert guess.script == "Deva"
    assert guess.share == pytest.approx(6 / 11)
    assert guess.letters == 11


@pytest.mark.parametrize("text", ["", "   ", "12345 !?", "...", None, 42])
def test_text_without_letters_has_no_script(text):
    guess = detect_script(text)
    assert guess.script is None and guess.share == 0.0 and guess.letters == 0
    assert script_matches("Deva", guess.script)  # nothing to contradict


def test_combining_marks_alone_are_ignored():
    # U+0301 (combining acute) is Inherited: it carries no script of its own
    assert script_counts("e\u0301") == {"Latn": 1}


def test_lone_surrogates_and_astral_characters_do_not_crash():
    assert detect_script("a\ud800b").script == "Latn"
    assert detect_script("\U00020000\U00020001").script == "Hani"  # CJK extension B


def test_script_name():
    assert script_name("Deva") == "Devanagari"
    assert script_name("Guru") == "Gurmukhi"
    assert script_name("Zzzq") == "Zzzq"  # unknown codes come back as they are


def test_detect_scripts_agrees_with_detect_script_on_every_text():
    texts = [text for text, _ in SENTENCES.values()] + ["", "12 !", None, 7, "नमस्ते hello", "a\ud800b"]
    scripts, share, letters = detect_scripts(texts, block=5)  # several blocks
    for i, text in enumerate(texts):
        guess = detect_script(text if isinstance(text, str) else "")
        assert (scripts[i], letters[i]) == (guess.script, guess.letters)
        assert share[i] == pytest.approx(guess.share)
