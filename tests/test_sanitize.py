"""judgecal.sanitize: hostile names and texts shown in a terminal or as Markdown."""

from __future__ import annotations

import re

import markdown_it
import pytest

from judgecal.sanitize import html_text, markdown_text, terminal_text

HOSTILE = {
    "colour": "\x1b[31mred\x1b[0m",
    "clear screen": "x\x1b[2J\x1b[Hy",
    "hyperlink": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "hyperlink with BEL": "\x1b]8;;https://evil.example/\x07click me\x1b]8;;\x07",
    "window title": "\x1b]0;pwned\x07name",
    "8-bit CSI": "a\x9b31mb",
    "bell and backspace": "judge\x07\x08\x08\x08",
    "bidi override": "abc\u202eexe.txt\u202c",
    "bidi isolate": "\u2067evil\u2069",
    "unterminated OSC": "ok\x1b]8;;https://evil.example/",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_terminal_text_leaves_no_control_character(name):
    out = terminal_text(HOSTILE[name])
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out), repr(out)
    assert "evil.example" not in out  # an escape sequence's payload goes with it


def test_terminal_text_keeps_ordinary_text():
    for text in ("pariksha-gpt-judge", "openai/gpt-4o-mini", "हिन्दी मॉडल", "ਪੰਜਾਬੀ", "a\tb\nc", "مرحبا"):
        assert terminal_text(text) == text
    assert terminal_text(HOSTILE["colour"]) == "red"
    assert terminal_text(HOSTILE["hyperlink"]) == "click me"


@pytest.mark.parametrize("name", list(HOSTILE))
def test_html_text_has_no_control_character_and_no_markup(name):
    out = html_text("<b a='1'>&\"" + HOSTILE[name])  # first: an unterminated OSC runs to the end
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out), repr(out)
    assert "evil.example" not in out
    assert out.startswith("&lt;b a=&#x27;1&#x27;&gt;&amp;&quot;")


def test_html_text_keeps_ordinary_text():
    assert html_text("हिन्दी मॉडल\tgpt-4o") == "हिन्दी मॉडल\tgpt-4o"
    assert html_text(HOSTILE["hyperlink"]) == "click me"


def _rendered(markdown: str):
    """Tokens of the Markdown as CommonMark (with tables and strikethrough, as GitHub) parses it."""
    md = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    return md, md.parse(markdown)


MARKUP = [
    "[click](https://evil.example)",
    "![x](https://evil.example/pixel.png)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** _em_ `code` ~~gone~~",
    "<https://evil.example>",
    "https://evil.example and www.evil.example",
    "# heading",
    "- item",
    "1. item",
    "> quote",
    "a | b",
    "line\n# heading on the next line",
    "$x^2$ :red[coloured]",
    "&lt;script&gt;",
    "back\\slash\\*",
]


@pytest.mark.parametrize("text", MARKUP)
def test_markdown_text_reads_as_written(text):
    md, tokens = _rendered(markdown_text(text))
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    # One paragraph of plain text: no link, image, HTML, emphasis, code, heading, list or quote.
    assert kinds <= {"paragraph_open", "paragraph_close", "inline", "text", "softbreak"}, kinds
    shown = "".join(c.content for t in tokens for c in (t.children or []) if c.type == "text")
    assert shown == " ".join(text.split("\n")).replace("\n", " ")
    # GitHub and Streamlit also link bare URLs (not parsed above): their marks are broken up.
    assert "://" not in markdown_text(text) and "www." not in markdown_text(text)


def test_markdown_text_keeps_names_readable():
    assert markdown_text("rater_kind") == "rater_kind"
    assert markdown_text("pariksha-gpt-judge") == "pariksha-gpt-judge"
    assert markdown_text("हिन्दी") == "हिन्दी"
    assert markdown_text("judge\x1b[31m\u202e") == "judge"
