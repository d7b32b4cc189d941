"""Uploads from the browser and bad files: readable messages, never a traceback."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import frames, messages, open_page, page_text

GOOD_CSV = (
    "item_id,language,metric,rater,rater_kind,score,system\n"
    + "".join(
        f"i{i},hi,la,{r},human,{(i + k) % 3},sys{i % 2}\n" for i in range(12) for k, r in enumerate(("a", "b"))
    )
    + "".join(f"i{i},hi,la,gpt,judge,2,sys{i % 2}\n" for i in range(12))
)


def upload(at, widget_key: str, name: str, data: bytes, mime: str = "text/csv"):
    at.file_uploader(key=widget_key).set_value((name, data, mime)).run()
    return at


def assert_no_traceback(at):
    assert not at.exception, [e.message for e in at.exception]
    assert "Traceback" not in page_text(at)


def test_bad_ratings_upload_gives_readable_error_and_keeps_data(pariksha_app, pariksha):
    at = open_page(pariksha_app, "data")
    bad = b"item,lang,score\n1,hi,2\n"
    upload(at, "judgecal_ratings_uploader", "mine.csv", bad)
    assert_no_traceback(at)
    errors = messages(at, "error")
    assert len(errors) == 1, errors
    err = errors[0]
    assert "mine.csv" in err and "required column" in err and "rater_kind" in err
    assert "/tmp" not in err  # the message names the upload, not the temporary file
    # the data shown before the upload is still in use
    assert any(f"{len(pariksha):,} ratings rows" in m for m in messages(at, "success"))
    at = open_page(at, "overview")
    assert {m.label: m.value for m in at.metric}["Ratings"] == f"{len(pariksha):,}"


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("broken.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
        ("rows.jsonl", b'{"item_id": 1}\nnot json\n', "not valid JSON"),
        ("empty.csv", b"", "empty"),
        ("scores.csv", GOOD_CSV.replace("human,1,", "human,7,", 1).encode(), "score"),
        ("table.xlsx", b"PK\x03\x04", "extension"),
    ],
)
def test_bad_files_each_get_a_message(pariksha_app, name, data, expected):
    at = open_page(pariksha_app, "data")
    upload(at, "judgecal_ratings_uploader", name, data)
    assert_no_traceback(at)
    errors = messages(at, "error")
    assert errors and expected in errors[0] and name in errors[0], errors


def test_good_upload_replaces_the_data_on_every_page(pariksha_app):
    at = open_page(pariksha_app, "data")
    upload(at, "judgecal_ratings_uploader", "small.csv", GOOD_CSV.encode())
    assert_no_traceback(at)
    assert not messages(at, "error")
    assert any("uploaded file small.csv: 36 ratings rows" in m for m in messages(at, "success"))
    at = open_page(at, "overview")
    assert {m.label: m.value for m in at.metric}["Ratings"] == "36"
    assert at.multiselect(key="judgecal_filter_language").options == ["hi"]
    at = open_page(at, "agreement")
    assert set(frames(at)[0]["language"]) == {"hi"}
    # back to the command line's data
    at = open_page(at, "data")
    at.button[0].click().run()
    at = open_page(at, "overview")
    assert {m.label: m.value for m in at.metric}["Languages"] == "10"


def test_filter_values_missing_from_new_data_are_cleared(pariksha_app):
    at = pariksha_app
    at.multiselect(key="judgecal_filter_language").set_value(["ta"]).run()
    at = open_page(at, "data")
    upload(at, "judgecal_ratings_uploader", "small.csv", GOOD_CSV.encode())
    at = open_page(at, "overview")
    assert_no_traceback(at)
    assert at.multiselect(key="judgecal_filter_language").value == []
    assert {m.label: m.value for m in at.metric}["Ratings"] == "36"


def test_bad_calibrator_upload_gives_readable_error(pariksha_app):
    at = open_page(pariksha_app, "data")
    upload(at, "judgecal_calibrator_uploader", "cal.json", b'{"format": "something else"}', "application/json")
    assert_no_traceback(at)
    errors = messages(at, "error")
    assert errors and "cal.json" in errors[0], errors


def test_bad_ratings_file_on_the_command_line(make_app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("item_id,language\nx,hi\n", encoding="utf-8")
    at = make_app(bad).run()
    assert_no_traceback(at)
    errors = messages(at, "error")
    assert errors and "could not be loaded" in errors[0] and "required column" in errors[0]
    at = open_page(at, "data")
    assert_no_traceback(at)
    assert at.file_uploader(key="judgecal_ratings_uploader")  # the way out is offered


def test_missing_path_and_no_path(make_app, tmp_path):
    at = make_app(tmp_path / "nope.parquet").run()
    assert_no_traceback(at)
    assert any("no such file" in e for e in messages(at, "error"))
    at = make_app(None).run()
    assert_no_traceback(at)
    assert any("No ratings loaded yet" in m for m in messages(at, "info"))


def test_ratings_without_judge_rows(make_app, tmp_path):
    humans_only = tmp_path / "humans.csv"
    humans_only.write_text("\n".join(line for line in GOOD_CSV.splitlines() if ",judge," not in line) + "\n",
                           encoding="utf-8")
    at = make_app(humans_only).run()
    assert_no_traceback(at)
    assert any("no judge ratings" in w for w in messages(at, "warning"))
