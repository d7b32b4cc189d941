"""`judgecal report --battles`: the Pairwise battles section of the ratings report. Its numbers
are build_battles_report's for the same battles; without --battles the report is what it was;
names from the data stay text; bad battles stop the command before anything is written."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from judgecal.cli import main
from judgecal.datasets import make_battles, make_judge_ratings
from judgecal.pairwise.io import read_battles, write_battles
from judgecal.pairwise.overview import build_battles_report
from judgecal.report.render_battles import battles_json

TERMINAL_CONTROLS = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairwise-report")
    ratings = make_judge_ratings(n_items=160, languages=("hi", "ta"), n_systems=3, random_state=3)
    ratings.to_csv(root / "ratings.csv", index=False)
    battles = write_battles(make_battles(500, n_systems=5, random_state=1), root / "battles.csv")
    return root, root / "ratings.csv", battles


# Fast settings shared by every run below (and by the expected pairwise report).
FAST = ["--resamples", "30", "--no-calibration"]


def run_report(capsys, *args):
    rc = main(["report", *args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


@pytest.fixture(scope="module")
def with_and_without(files):
    """The same report with and without --battles (run once for the tests below)."""
    root, ratings, battles = files
    outs = {}
    for name, extra in (("with", ["--battles", str(battles), "--judge-family", "system-4",
                                  "--leaderboards", str(root / "with" / "lb.csv")]), ("without", [])):
        html = root / name / "report.html"
        assert main(["report", str(ratings), "--out", str(html), *FAST, *extra]) == 0
        outs[name] = {"html": html.read_text(encoding="utf-8"),
                      "json": json.loads(html.with_suffix(".json").read_text(encoding="utf-8")),
                      "md": html.with_suffix(".md").read_text(encoding="utf-8")}
    return outs


@pytest.fixture(scope="module")
def expected(files):
    """What `report-battles` computes for the same file and settings (leaderboard level: the
    report's --estimate-confidence, 0.9)."""
    _, _, battles = files
    return build_battles_report(read_battles(battles), judge_family="system-4", n_resamples=30, confidence=0.9,
                                alpha=1.0, random_state=0)


class _Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def tables_of(html: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def two(value) -> str:
    """A number as the report writes it: two decimals, zero without a sign, NaN as empty."""
    if value is None or pd.isna(value):
        return ""
    text = f"{value:.2f}"
    return text.lstrip("-") if float(text) == 0 else text


def md_rows(text: str) -> list[list[str]]:
    """The cells of the Markdown tables in ``text`` as a reader sees them (escapes resolved)."""
    import markdown_it

    tokens = markdown_it.MarkdownIt("commonmark").enable(["table"]).parse(text)
    rows, cells = [], None
    for t in tokens:
        if t.type == "tr_open":
            cells = []
        elif t.type == "inline" and cells is not None:
            cells.append("".join(c.content for c in t.children))
        elif t.type == "tr_close":
            rows.append(cells)
            cells = None
    return rows


def section(html: str) -> str:
    return html.split("<h2>Pairwise battles</h2>")[1].split("<h2>Timings</h2>")[0]


def test_json_pairwise_is_report_battles_json(with_and_without, expected):
    doc = with_and_without["with"]["json"]
    assert set(doc) == {"meta", "timings_seconds", "tables", "pairwise"}
    ours, theirs = doc["pairwise"], json.loads(battles_json(expected))
    assert set(ours) == set(theirs) == {"meta", "timings_seconds", "tables"}
    assert ours["tables"] == theirs["tables"]  # every number, every table
    differ = {k for k in theirs["meta"] if ours["meta"][k] != theirs["meta"][k]}
    assert differ <= {"generated", "title"}


def test_html_section_shows_build_battles_report_numbers(with_and_without, expected):
    part = section(with_and_without["with"]["html"])
    tables = tables_of(part)
    summary = tables[0]
    header, rows = summary[0], summary[1:]
    s = expected.summary
    assert [r[0] for r in rows] == s["language"].tolist()
    col = {h: i for i, h in enumerate(header)}
    for r, e in zip(rows, s.itertuples(), strict=True):
        assert r[col["pairs"]] == str(e.pairs)
        assert r[col["agreement, 3-way"]] == f"{two(e.agree_3way)} → {two(e.agree_3way_cal)}"
        assert r[col["tie rate judge"]] == f"{two(e.tie_judge)} → {two(e.tie_cal)}"
        assert r[col["self-preference"]] == f"{two(e.self_preference)} → {two(e.self_preference_cal)}"
        assert r[col["tie rate natives"]] == two(e.tie_native)
        assert r[col["tau natives vs raw judge"]] == (
            f"{two(e.tau_judge)} [{two(e.tau_judge_low)}, {two(e.tau_judge_high)}]")
    # one figure per language, and per language the leaderboards side by side
    languages = sorted(expected.leaderboards["language"].unique())
    assert part.count("<svg") == len(languages) >= 5
    boards = expected.leaderboards
    side_by_side = [t for t in tables if t[0][0] == "system"]
    assert len(side_by_side) == len(languages)
    for language, table in zip(languages, side_by_side, strict=True):
        sources = [c for c in table[0][1:]]
        assert sources == ["native votes", "raw judge", "calibrated judge", "human-anchored (PPI++)"]
        for row in table[1:]:
            for source, cell in zip(("human", "judge", "calibrated", "anchored"), row[1:], strict=True):
                b = boards[(boards["language"] == language) & (boards["source"] == source)
                           & (boards["system"] == row[0])].iloc[0]
                assert cell.startswith(f"{two(b.strength)} [{two(b.ci_low)}, {two(b.ci_high)}] #{b['rank']} ")
    # the notes (how the 'after' numbers were made) and the section's settings
    assert "held out" in part and "ridge alpha 1" in part and "30 resamples" in part


def test_markdown_section_and_leaderboards_csv(with_and_without, expected, files):
    md = with_and_without["with"]["md"]
    assert "## Pairwise battles" in md and "### Per language: raw judge → calibrated judge" in md
    after = md.split("## Pairwise battles")[1]
    rows = md_rows(after.split("### Leaderboards")[0])
    assert rows[0][:4] == ["language", "script", "pairs", "agreement, 3-way"]
    assert [r[:4] for r in rows[1:]] == [[e.language, e.script, str(e.pairs),
                                          f"{two(e.agree_3way)} → {two(e.agree_3way_cal)}"]
                                         for e in expected.summary.itertuples()]
    assert after.count("#### ") == expected.leaderboards["language"].nunique()
    root, _, _ = files
    boards = pd.read_csv(root / "with" / "lb.csv")
    pd.testing.assert_frame_equal(boards[["language", "source", "system", "rank"]],
                                  expected.leaderboards[["language", "source", "system", "rank"]]
                                  .reset_index(drop=True), check_dtype=False)


def test_without_battles_the_report_is_unchanged(with_and_without):
    """The section is all --battles adds: take it (and its timings) out and the page is the
    page without --battles, byte for byte but for the generation time and the timings."""
    w, wo = with_and_without["with"], with_and_without["without"]
    assert set(wo["json"]) == {"meta", "timings_seconds", "tables"}
    assert set(wo["json"]["meta"]) == set(w["json"]["meta"]) and set(wo["json"]["tables"]) == set(w["json"]["tables"])
    assert "Pairwise" not in wo["html"] and "Pairwise" not in wo["md"]

    def bare(html: str) -> str:
        html = re.sub(r"<h2>Pairwise battles</h2>.*?(?=<h2>Timings</h2>)", "", html, flags=re.S)
        return STAMP.sub("", re.sub(r"<h2>Timings</h2>.*?</p>", "", html, flags=re.S))

    assert bare(w["html"]) == bare(wo["html"])
    h2 = re.findall(r"<h2>([^<]*)</h2>", w["html"])
    assert h2[-2:] == ["Pairwise battles", "Timings"] and h2[:-2] + ["Timings"] == re.findall(r"<h2>([^<]*)</h2>",
                                                                                            wo["html"])

    def bare_md(text: str) -> str:
        text = re.sub(r"## Pairwise battles\n.*?(?=## Timings)", "", text, flags=re.S)
        return STAMP.sub("", text.split("## Timings")[0])

    assert bare_md(w["md"]) == bare_md(wo["md"])
    for doc in (w["json"], wo["json"]):
        doc["meta"].pop("generated")
    assert w["json"]["tables"] == wo["json"]["tables"] and w["json"]["meta"] == wo["json"]["meta"]


HOSTILE_SYSTEM = "sys\x1b]8;;https://evil.example/\x1b\\[click](https://evil.example)<script>x</script>\x1b]8;;\x1b\\"
HOSTILE_JUDGE = "gpt\x1b[31m<b onclick=x>j</b>\u202e"


def test_hostile_names_stay_text(files, tmp_path, capsys):
    import markdown_it

    _, ratings, battles = files
    table = read_battles(battles)
    table[["system_1", "system_2"]] = table[["system_1", "system_2"]].replace("system-0", HOSTILE_SYSTEM)
    table.loc[table["rater_kind"] == "judge", "rater"] = HOSTILE_JUDGE
    path = write_battles(table, tmp_path / "hostile.parquet")
    out = tmp_path / "r" / "report.html"
    rc, stdout, stderr = run_report(capsys, str(ratings), "--out", str(out), *FAST, "--battles", str(path),
                                    "--battle-sources", "human,judge")
    assert rc == 0, stderr
    for stream in (stdout, stderr):
        assert not re.search(TERMINAL_CONTROLS, stream) and "evil.example/" not in stream
    page = out.read_text(encoding="utf-8")
    assert not re.search(TERMINAL_CONTROLS, page)  # `cat report.html` must not act on the terminal either
    part = section(page)
    assert "<script>x" not in part and "&lt;script&gt;x&lt;/script&gt;" in part
    assert "<b onclick" not in part and "&lt;b onclick=x&gt;" in part  # the judge's name in the counts line
    assert "[click](https://evil.example)&lt;script&gt;" in part  # the leaderboards side by side: a name, as text
    assert "href" not in part
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert not re.search(TERMINAL_CONTROLS, md)
    tokens = markdown_it.MarkdownIt("commonmark").enable(["table"]).parse(md)
    inline = [c for t in tokens for c in (t.children or [])]
    assert not {c.type for c in inline} & {"link_open", "image", "html_inline"}
    assert not {t.type for t in tokens} & {"html_block"}
    shown = "".join(c.content for c in inline if c.type == "text")
    assert "sys[click](https://evil.example)<script>x</script>" in shown  # reads as written, minus the escapes
    doc = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert HOSTILE_SYSTEM in {r["system"] for r in doc["pairwise"]["tables"]["leaderboards"]}  # data kept as is


def test_bad_battles_stop_before_anything_is_written(files, tmp_path, capsys):
    _, ratings, battles = files
    bad = pd.read_csv(battles)
    bad.loc[3, "verdict"] = "A"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    out = tmp_path / "r" / "report.html"
    rc, stdout, stderr = run_report(capsys, str(ratings), "--out", str(out), *FAST, "--battles",
                                    str(tmp_path / "bad.csv"))
    assert rc != 0 and "Traceback" not in stderr
    assert "bad.csv" in stderr and "row 5" in stderr and "'A'" in stderr and "verdict" in stderr
    assert not out.parent.exists() and stdout == ""  # no report, not even its folder
    # a folder that is no PARIKSHA release
    (tmp_path / "empty").mkdir()
    rc, _, stderr = run_report(capsys, str(ratings), "--out", str(out), *FAST, "--battles", str(tmp_path / "empty"))
    assert rc != 0 and "PARIKSHA release not found" in stderr and str(tmp_path / "empty") in stderr
    # two judges and none named: this command's flag in the message
    two_judges = read_battles(battles)
    other = two_judges[two_judges["rater_kind"] == "judge"].assign(rater="another-judge")
    path = write_battles(pd.concat([two_judges, other]), tmp_path / "two.parquet")
    rc, _, stderr = run_report(capsys, str(ratings), "--out", str(out), *FAST, "--battles", str(path))
    assert rc != 0 and "several judges" in stderr and "--battle-judge" in stderr
    rc, _, stderr = run_report(capsys, str(ratings), "--out", str(out), *FAST, "--battles", str(battles),
                               "--battle-alpha", "-1")
    assert rc != 0 and "--battle-alpha must be >= 0" in stderr
    assert not out.parent.exists()


def test_pairwise_options_without_battles_are_an_error(files, tmp_path, capsys):
    _, ratings, _ = files
    out = tmp_path / "report.html"
    rc, _, stderr = run_report(capsys, str(ratings), "--out", str(out), "--battle-calibrator", "cal.json")
    assert rc == 2 and "--battle-calibrator is for the pairwise section" in stderr and "--battles PATH" in stderr
    rc, _, stderr = run_report(capsys, str(ratings), "--out", str(out), "--judge-family", "gpt",
                               "--leaderboards", "lb.csv")
    assert rc == 2 and "--judge-family, --leaderboards are for the pairwise section" in stderr
    assert not out.exists()


def test_pariksha_report_with_battles(pariksha_path, tmp_path, capsys):
    """PARIKSHA's ratings and battles in one report (held-out pairwise calibration by nested CV)."""
    out = tmp_path / "pariksha.html"
    rc, stdout, stderr = run_report(capsys, str(pariksha_path), "--repair", "--out", str(out), "--resamples", "20",
                                    "--no-calibration", "--battles", str(pariksha_path), "--judge-family", "gpt",
                                    "--battle-sources", "human,judge")
    assert rc == 0, stderr
    assert "Pairwise battles per language" in stdout
    doc = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    summary = pd.DataFrame(doc["pairwise"]["tables"]["summary"]).set_index("language")
    assert len(summary) == 10 and set(summary.index) == set(doc["meta"]["languages"])
    assert (summary["log_loss_cal"] < summary["log_loss_fixed"]).all()
    assert summary["self_preference"].notna().all() and summary["tau_judge"].between(0.5, 1).all()
    assert doc["pairwise"]["meta"]["n_pairs_with_systems"] < doc["pairwise"]["meta"]["n_pairs"]
    page = out.read_text(encoding="utf-8")
    assert not re.search(TERMINAL_CONTROLS, page)  # `cat report.html` must not act on the terminal either
    part = section(page)
    assert part.count("<svg") == 10
    rows = {r[0]: r for r in tables_of(part)[0][1:]}
    for language, e in summary.iterrows():
        assert rows[language][3] == f"{two(e['agree_3way'])} → {two(e['agree_3way_cal'])}"
