"""Language tags: normalise to BCP-47 and derive each language's usual script.

Uses ``langcodes`` (CLDR likely-subtags data through ``language_data``), not a
hand-written table. Accepts tags (``hi``, ``zh_TW``, ``sr-Latn``, ``HI``) and
language names (``hindi``, ``Punjabi``, ``odia``).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import langcodes

from judgecal.errors import ConfigError


class UnknownLanguage(ValueError):
    """A value that is neither a valid language tag nor a known language name."""


@lru_cache(maxsize=4096)
def normalize_language(value: str) -> str:
    """Return the normalised BCP-47 tag for a tag or a language name.

    >>> normalize_language("hindi"), normalize_language("zh_TW"), normalize_language("SR-latn")
    ('hi', 'zh-TW', 'sr-Latn')

    Raises :class:`UnknownLanguage` for values that are neither.
    """
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
        # Private-use tags (x-...) name no language whose script could be checked.
        if langcodes.tag_is_valid(tag) and lang.language not in (None, "und") and not lang.language.startswith("x-"):
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


@lru_cache(maxsize=4096)
def default_script(tag: str) -> str:
    """The ISO 15924 script a language tag implies.

    Its script subtag, else the language's likely script from CLDR; UnknownLanguage
    when there is none.

    Examples
    --------
    >>> default_script("pa"), default_script("sr"), default_script("zh-TW"), default_script("sr-Latn")
    ('Guru', 'Cyrl', 'Hant', 'Latn')
    """
    lang = langcodes.Language.get(tag)
    if lang.script:
        return lang.script
    script = lang.maximize().script
    if not script:
        raise UnknownLanguage(f"no likely script is known for {tag!r}")
    return script


def language_name(tag: str) -> str:
    """English display name of a tag (``hi`` -> ``Hindi``); the tag if unknown."""
    try:
        return langcodes.Language.get(tag).display_name()
    except Exception:  # display names need language_data; fall back to the tag
        return tag
