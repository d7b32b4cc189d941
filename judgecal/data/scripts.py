"""Which script a text is written in, from Unicode Script properties.

The lookup table comes from fontTools' copy of the Unicode Character Database
(``Scripts.txt``); codes are ISO 15924 (``Deva``, ``Guru``, ``Latn``...). Texts
are measured as counts of letters per script, ignoring Common (digits,
punctuation, spaces) and Inherited (combining marks) characters, vectorised with
numpy so that whole columns of long texts are cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Scripts that a declared script may legitimately be written with. Han is shared
# by Simplified and Traditional Chinese (the Unicode property cannot tell them
# apart), Japanese mixes Han with the kana, Korean may use Han.
COMPATIBLE_SCRIPTS: dict[str, frozenset[str]] = {
    "Hans": frozenset({"Hani"}),
    "Hant": frozenset({"Hani"}),
    "Jpan": frozenset({"Hani", "Hira", "Kana"}),
    "Kore": frozenset({"Hang", "Hani"}),
    "Hrkt": frozenset({"Hira", "Kana"}),
}
IGNORED = ("Zyyy", "Zinh", "Zzzz")


@lru_cache(maxsize=1)
def _table() -> tuple[np.ndarray, list[str]]:
    """Script index for every code point, shape (0x110000,), and the code list."""
    from fontTools.unicodedata import Scripts

    codes = sorted(set(Scripts.VALUES) | set(IGNORED))
    index = {c: i for i, c in enumerate(codes)}
    starts = np.asarray(Scripts.RANGES, dtype=np.int64)
    ends = np.append(starts[1:], 0x110000)
    values = np.asarray([index[v] for v in Scripts.VALUES], dtype=np.int16)
    table = np.repeat(values, ends - starts)
    return table, codes


def script_counts(text: str) -> dict[str, int]:
    """Letters per script in ``text`` (Common and Inherited characters left out)."""
    if not isinstance(text, str) or not text:
        return {}
    table, codes = _table()
    cps = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
    counts = np.bincount(table[cps], minlength=len(codes))
    return {codes[i]: int(counts[i]) for i in np.flatnonzero(counts) if codes[i] not in IGNORED}


@dataclass(frozen=True)
class ScriptGuess:
    script: str | None  # dominant script, None when the text has no letters
    share: float  # its share of the letters, 0..1
    letters: int


def detect_script(text: str) -> ScriptGuess:
    """The dominant script of a text and its share of the letters.

    >>> detect_script("नमस्ते दुनिया").script
    'Deva'
    """
    counts = script_counts(text)
    total = sum(counts.values())
    if not total:
        return ScriptGuess(None, 0.0, 0)
    script, n = max(counts.items(), key=lambda kv: kv[1])
    return ScriptGuess(script, n / total, total)


def script_matches(declared: str, detected: str | None) -> bool:
    """Whether text in ``detected`` script is consistent with a ``declared`` script."""
    if detected is None:
        return True
    if detected == declared:
        return True
    return detected in COMPATIBLE_SCRIPTS.get(declared, ())


def script_name(code: str) -> str:
    """English name of an ISO 15924 code (``Deva`` -> ``Devanagari``)."""
    from fontTools.unicodedata import script_name as _name

    try:
        return _name(code)
    except KeyError:
        return code
