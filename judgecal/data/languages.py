"""Language tags: normalise to BCP-47 and derive each language's usual script.

Uses ``langcodes`` (CLDR likely-subtags data through ``language_data``), not a
hand-written table. Accepts tags (``hi``, ``zh_TW``, ``sr-Latn``, ``HI``) and
language names (``hindi``, ``Punjabi``, ``odia``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import langcodes
from langcodes.data_dicts import LIKELY_SUBTAGS

from judgecal.errors import ConfigError, JudgecalError


class UnknownLanguage(JudgecalError, ValueError):
    """A value that is neither a valid language tag nor a known language name,
    or a language whose script cannot be known."""


@dataclass(frozen=True)
class ParsedLanguage:
    """A language value as read: its language subtag, the script it names
    (``explicit``) or implies through its region or the language's likely
    script (``likely``), and the full standard tag (region, variants kept)."""

    language: str
    explicit: str | None
    likely: str | None
    full: str

    @property
    def script(self) -> str | None:
        """The script named in the tag, else the implied one; None when neither is known."""
        return self.explicit or self.likely

    @property
    def has_more(self) -> bool:
        """The full tag holds more than the group tag keeps (a region, variants)."""
        lang = langcodes.Language.get(self.full)
        return bool(lang.territory or lang.variants or lang.extensions or lang.private)


@lru_cache(maxsize=4096)
def parse_language(value: str) -> ParsedLanguage:
    """Read a tag or a language name (see :func:`normalize_language`)."""
    full = _standard_tag(value)
    lang = langcodes.Language.get(full)
    language = lang.language or "und"
    explicit = lang.script
    # hi-Deva: standardize_tag drops a script the language implies; keep it known
    likely = None if language == "und" else _likely_script(language, lang.territory)
    return ParsedLanguage(language, explicit, likely, full)


@lru_cache(maxsize=4096)
def normalize_language(value: str) -> str:
    """The normalised BCP-47 tag of a tag or a language name: the language and
    its script, with the script written only where it is not the language's
    usual one (the minimal tag that keeps the script). Regions and variants
    are dropped; they are kept in the ``locale`` column of a ratings table.

    >>> [normalize_language(v) for v in ("hindi", "hi-Deva", "zh_TW", "zh-Hant-HK", "zh-CN", "SR-latn", "pa-PK")]
    ['hi', 'hi', 'zh-Hant', 'zh-Hant', 'zh', 'sr-Latn', 'pa-Arab']

    ``und`` (undetermined) and languages without a likely script (private use
    ``qaa``..``qtz``) stay as they are unless they carry a script subtag; their
    script must come from a script column or the texts (:func:`default_script`
    refuses to guess). Raises :class:`UnknownLanguage` for values that are
    neither a tag nor a language name.
    """
    parsed = parse_language(value)
    return with_script(parsed.language, parsed.script)


def with_script(language: str, script: str | None) -> str:
    """The group tag of a language subtag (or a tag) written in ``script``:
    ``with_script("pa", "Arab") == "pa-Arab"``, ``with_script("hi", "Deva") == "hi"``."""
    language = langcodes.Language.get(language).language or "und"
    if not isinstance(script, str) or not script or (language != "und" and script == _likely_script(language, None)):
        return language
    return f"{language}-{script}"


def _likely_script(language: str, region: str | None) -> str | None:
    """The script CLDR's likely subtags give the language (in the region), or
    None when the data has nothing for this language itself: its catch-all
    (``und`` -> English in Latin) would give every unknown language Latin."""
    for key in ((f"{language}-{region}",) if region else ()) + (language,):
        if key in LIKELY_SUBTAGS:
            return langcodes.Language.get(LIKELY_SUBTAGS[key], normalize=False).script
    return None


def _standard_tag(value: str) -> str:
    text = str(value).strip()
    if not text:
        raise UnknownLanguage("empty language")
    # langcodes' name index crashes (UnicodeDecodeError, SystemError) on NUL and
    # lone surrogates; no tag or language name contains control characters.
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        raise UnknownLanguage(f"{text!r} contains control characters; not a language tag or name")
    candidate = text.replace("_", "-")
    try:
        tag = langcodes.standardize_tag(candidate)
        lang = langcodes.Language.get(tag)
        # Private-use tags (x-...) name no language whose script could be checked;
        # und (undetermined) is a valid tag, its script comes from elsewhere.
        undetermined = tag.lower().split("-")[0] == "und"
        if langcodes.tag_is_valid(tag) and (undetermined or (lang.language is not None
                                                            and not lang.language.startswith("x-"))):
            return tag
    except (ValueError, langcodes.LanguageTagError):
        pass
    try:
        return _find_by_name(text)
    except ModuleNotFoundError as exc:  # language_data is a core dependency
        raise ConfigError(
            "language names need the language-data package: pip install language-data"
        ) from exc


def _find_by_name(text: str) -> str:
    try:
        found = langcodes.find(text)
    except LookupError as exc:
        raise UnknownLanguage(f"{text!r} is not a language tag or a known language name") from exc
    return found.to_tag()


def is_private_use(language: str) -> bool:
    """Language subtags qaa..qtz, reserved for local use."""
    return len(language) == 3 and "qaa" <= language <= "qtz"


@lru_cache(maxsize=4096)
def default_script(tag: str) -> str:
    """The ISO 15924 script a language tag implies.

    Its script subtag, else the language's likely script from CLDR. Raises
    :class:`UnknownLanguage` where nothing gives one (``und``, private use
    ``qaa``..``qtz``, languages CLDR has no data for) rather than guessing Latin.

    Examples
    --------
    >>> default_script("pa"), default_script("sr"), default_script("zh-TW"), default_script("sr-Latn")
    ('Guru', 'Cyrl', 'Hant', 'Latn')
    """
    lang = langcodes.Language.get(tag)
    if lang.script:
        return lang.script
    language = lang.language or "und"
    script = None if language == "und" else _likely_script(language, lang.territory)
    if script:
        return script
    if language == "und":
        why = f"{tag!r} (undetermined language) says nothing about its script"
    elif is_private_use(language):
        why = f"{tag!r} is a private-use language code (qaa..qtz), which has no usual script"
    else:
        why = f"no usual script is known for {tag!r}"
    raise UnknownLanguage(f"{why}: give a script subtag ({language}-Deva, say) or a script column")


def language_name(tag: str) -> str:
    """English display name of a tag (``hi`` -> ``Hindi``); the tag if unknown."""
    try:
        return langcodes.Language.get(tag).display_name()
    except Exception:  # display names need language_data; fall back to the tag
        return tag
