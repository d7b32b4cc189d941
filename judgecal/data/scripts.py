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
# A text counts as written in a script when that script holds at least this share
# of its letters and the text has at least this many letters: short or mixed
# snippets ("OK", a URL) say nothing reliable about the language.
MIN_SHARE = 0.6
MIN_LETTERS = 8


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
    """The dominant script of a text.

    Attributes
    ----------
    script : str or None
        ISO 15924 code of the script with the most letters; None when the text has no letters.
    share : float
        Its share of the letters, 0..1.
    letters : int
        Letters counted (Common and Inherited characters left out).
    """
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


def detect_scripts(texts, *, block: int = 8192) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`detect_script` for many texts at once, vectorised.

    Parameters
    ----------
    texts : sequence of str, shape (n,); other values count as texts without letters

    Returns
    -------
    scripts : object array, shape (n,): dominant script code, None without letters
    share : float array, shape (n,): its share of the letters
    letters : int array, shape (n,): letters counted (Common/Inherited left out)
    """
    table, codes = _table()
    n_codes = len(codes)
    ignored = np.isin(np.arange(n_codes), [codes.index(c) for c in IGNORED])
    texts = [t if isinstance(t, str) else "" for t in texts]
    scripts = np.full(len(texts), None, dtype=object)
    share = np.zeros(len(texts))
    letters = np.zeros(len(texts), dtype=np.int64)
    names = np.asarray(codes, dtype=object)
    # Blocks bound the (texts x scripts) count matrix to block * n_codes cells.
    for start in range(0, len(texts), block):
        part = texts[start : start + block]
        lengths = np.fromiter((len(t) for t in part), dtype=np.int64, count=len(part))
        cps = np.frombuffer("".join(part).encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
        owner = np.repeat(np.arange(len(part)), lengths)
        counts = np.bincount(owner * n_codes + table[cps], minlength=len(part) * n_codes).reshape(len(part), n_codes)
        counts[:, ignored] = 0
        total = counts.sum(axis=1)
        top = counts.argmax(axis=1)  # first of equal counts, as detect_script
        has = total > 0
        sl = slice(start, start + len(part))
        scripts[sl] = np.where(has, names[top], None)
        letters[sl] = total
        share[sl] = np.where(has, counts[np.arange(len(part)), top] / np.maximum(total, 1), 0.0)
    return scripts, share, letters


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
