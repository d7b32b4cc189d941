"""Names and reasoning from the data reach the Disagreements page as text, never as markup (issue 15)."""

from __future__ import annotations

import re

import markdown_it
import pytest

from tests.dashboard.conftest import open_page

HOSTILE = "[click](https://evil.example) ![px](https://evil.example/p.png) <script>alert(1)</script> **b** \x1b[31m\u202e"
CONTROLS = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


@pytest.fixture
def hostile_file(tmp_path):
    from judgecal.datasets import make_judge_ratings

    ratings = make_judge_ratings(n_items=60, languages=("hi",), metrics=("la",), n_systems=2, random_state=1)
    human = ratings["rater_kind"] == "human"
    ratings.loc[human, "rater"] = "rater " + HOSTILE + ratings.loc[human, "rater"].astype(str)
    ratings.loc[human, "justification"] = "because " + HOSTILE
    ratings.loc[~human, "rater"] = "judge " + HOSTILE
    ratings["system"] = "system " + HOSTILE + ratings["system"].astype(str)
    path = tmp_path / "hostile.parquet"
    ratings.to_parquet(path)
    return path


def _rendered(markdown: str) -> tuple[set[str], str]:
    """(token kinds, text a reader sees) of Markdown as CommonMark renders it."""
    tokens = markdown_it.MarkdownIt("commonmark").parse(markdown)
    inline = [c for t in tokens for c in (t.children or [])]
    return {t.type for t in tokens} | {c.type for c in inline}, "".join(c.content for c in inline if c.type == "text")


def test_disagreements_page_shows_hostile_names_and_reasoning_as_text(make_app, hostile_file):
    at = make_app(hostile_file).run()
    assert not at.exception, at.exception
    at = open_page(at, "disagreements")
    assert not at.exception, at.exception
    assert len(at.expander) > 0
    shown = [str(e.value) for e in at.markdown] + [e.label for e in at.expander]
    from_data = [s for s in shown if "evil" in s]
    # the judge's line, and each expander's label (system) and raters' reasoning
    assert len(from_data) >= 2 * len(at.expander)
    visible = HOSTILE.replace("\x1b[31m\u202e", "").strip()
    for text in from_data:
        assert not re.search(CONTROLS, text), repr(text)
        kinds, seen = _rendered(text)
        assert not kinds & {"link_open", "image", "html_inline", "html_block"}, text
        assert visible in seen, (visible, seen)  # shown as written, "**b**" included
