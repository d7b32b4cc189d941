"""Text from the data, made safe for where it is shown.

Rater ids, system and judge names, titles and reasoning come from files a user
did not necessarily write. Shown raw they can act on the reader: escape
sequences recolour or retitle a terminal, hide text or plant hyperlinks
(``ESC ] 8 ;;``); Markdown turns ``[x](url)`` into a link and ``![](url)`` into
a request to another host; bidirectional overrides reorder what a reader sees.
Every place that shows such text passes it through one of:

* :func:`terminal_text` for the terminal: escape sequences, C0/C1 control
  characters (other than newline and tab) and bidi controls removed;
* :func:`markdown_text` for Markdown (``report.md``, the dashboard's
  ``st.markdown``, captions and messages): the same characters removed, line
  breaks as spaces, and everything Markdown or HTML would interpret escaped,
  so the text reads as written.

* :func:`html_text` for HTML (the reports, their SVG figures): the same
  characters removed, then ``& < > " '`` escaped. A browser would not run an
  escape sequence, but ``cat report.html`` or a log of it would, and bidi
  controls reorder what the reader sees in a browser too.
"""

from __future__ import annotations

import re
from html import escape

# ESC-introduced sequences: CSI (ESC [ ... final byte), OSC/DCS/SOS/PM/APC strings
# (ESC ] P X ^ _ ... up to BEL or ESC \), and two-byte escapes (ESC + one character).
# Their 8-bit forms (0x9b CSI, 0x9d OSC, ...) likewise. Unterminated strings run to the end.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
# C0 controls but tab and newline, DEL, C1 controls; bidi embeddings, overrides
# and isolates (U+202A-U+202E, U+2066-U+2069) and the Arabic letter mark.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u061c]")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
# Characters Markdown (CommonMark, GFM, Streamlit's extensions) or inline HTML act on.
_MARKDOWN = re.compile(r"([\\`*{}\[\]<>!|~$&#^])")
# Emphasis by underscore needs a word boundary: rater_kind stays as it is, _x_ does not.
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# Bare URLs and www. names that GFM turns into links.
_AUTOLINK = re.compile(r"(?i)(:)(//)|\b(www)(\.)")
# What starts a block (list, heading, quote, rule, table) at the start of the text.
_BLOCK_START = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)]))")


def terminal_text(text: object) -> str:
    """``text`` without escape sequences, control characters (but newline and tab) or bidi controls."""
    return _CONTROLS.sub("", _ESCAPES.sub("", str(text)))


def markdown_text(text: object) -> str:
    """``text`` for one line of Markdown: it shows as written, nothing in it is interpreted.

    Control characters, escape sequences and bidi controls are removed, line
    breaks become spaces, and Markdown and HTML syntax is backslash-escaped.
    """
    out = _LINE_BREAKS.sub(" ", terminal_text(text)).replace("\t", " ")
    out = _MARKDOWN.sub(r"\\\1", out)
    out = _UNDERSCORE.sub(r"\\_", out)
    out = _AUTOLINK.sub(lambda m: f"{m[1]}\\/\\/" if m[1] else f"{m[3]}\\.", out)
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if not m[2][0].isdigit() else f"{m[1]}{m[2]}\\", out)


def html_text(text: object) -> str:
    """``text`` for HTML text or an attribute: :func:`terminal_text`, then HTML-escaped (quotes too)."""
    return escape(terminal_text(text), quote=True)
