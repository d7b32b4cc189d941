"""Damaged calibrator files: every damage is refused with CalibratorFileError naming
the field, never a traceback of another type; a file edited and re-hashed (the
checksum recomputed the way the writer does) is checked on its content too."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgecal.calibration._fit.fileformat import _digest
from judgecal.calibration.persist import calibrator_from_dict, load_calibrator
from judgecal.errors import CalibratorFileError, InputError


def _rehash(body: dict) -> dict:
    body["sha256"] = _digest({k: v for k, v in body.items() if k != "sha256"})
    return body


def _write(tmp_path, text: str, name="damaged.json"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def body(saved):
    return json.loads(saved.read_text())


def _iso_node(body):
    return next(k for k, n in body["nodes"].items() if n["model"]["kind"] == "isotonic" and len(n["model"]["knots"]) > 2)


def test_reversed_isotonic_knots_with_a_valid_checksum_are_refused(body, tmp_path):
    key = _iso_node(body)
    body["nodes"][key]["model"]["values"] = body["nodes"][key]["model"]["values"][::-1]
    with pytest.raises(CalibratorFileError, match=re.escape(f"nodes.{key}.model.values") + ".*non-decreasing"):
        load_calibrator(_write(tmp_path, json.dumps(_rehash(body))))


def test_unsorted_isotonic_x_is_refused(body, tmp_path):
    key = _iso_node(body)
    body["nodes"][key]["model"]["knots"] = body["nodes"][key]["model"]["knots"][::-1]
    with pytest.raises(CalibratorFileError, match=r"model\.knots.*increasing"):
        load_calibrator(_write(tmp_path, json.dumps(_rehash(body))))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_non_finite_numbers_are_refused(saved, tmp_path, literal):
    text = saved.read_text()
    body = json.loads(text)
    key = _iso_node(body)
    body["nodes"][key]["model"]["values"][0] = 12345.678
    text = json.dumps(body).replace("12345.678", literal)
    with pytest.raises(CalibratorFileError, match="finite|not valid JSON"):
        load_calibrator(_write(tmp_path, text))


def test_non_finite_number_in_a_dict_is_refused(body):
    body["nodes"][_iso_node(body)]["offset"] = float("nan")
    with pytest.raises(CalibratorFileError, match=r"offset.*finite"):
        calibrator_from_dict(body)


def test_a_5000_digit_version_is_refused(saved, tmp_path):
    text = saved.read_text().replace('"format_version": 1', '"format_version": ' + "9" * 5000, 1)
    assert "9" * 5000 in text
    with pytest.raises(CalibratorFileError, match="digits|format version"):
        load_calibrator(_write(tmp_path, text))


def test_deep_nesting_is_refused(tmp_path):
    with pytest.raises(CalibratorFileError, match="nested"):
        load_calibrator(_write(tmp_path, "[" * 200_000 + "]" * 200_000))
    with pytest.raises(CalibratorFileError):
        load_calibrator(_write(tmp_path, '{"a": ' * 100_000 + "1" + "}" * 100_000))


def test_an_oversized_file_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    from judgecal.calibration._fit import fileformat

    monkeypatch.setattr(fileformat, "MAX_FILE_BYTES", 1000)
    with pytest.raises(CalibratorFileError, match="larger than"):
        load_calibrator(_write(tmp_path, " " * 5000))


DAMAGES = {
    "node without model": (lambda b: b["nodes"][_iso_node(b)].pop("model"), r"nodes\..*model"),
    "model of unknown kind": (lambda b: b["nodes"][_iso_node(b)]["model"].update(kind="spline"), r"kind"),
    "knots and values of different lengths": (lambda b: b["nodes"][_iso_node(b)]["model"]["values"].pop(), r"values"),
    "text where a number belongs": (lambda b: b["nodes"][_iso_node(b)]["model"]["knots"].__setitem__(0, "x"), r"knots\[0\]"),
    "negative group size": (lambda b: b["groups"][0].update(n_items=-3), r"groups\[0\]\.n_items"),
    "fractional group size": (lambda b: b["nodes"][_iso_node(b)].update(n_items=2.5), r"n_items"),
    "metrics missing": (lambda b: b.pop("metrics"), r"metrics"),
    "metrics a list": (lambda b: b.update(metrics=[]), r"metrics"),
    "judge missing model": (lambda b: b["judge"].pop("model"), r"judge\.model"),
    "params missing": (lambda b: b["params"].pop("coverage"), r"params\.coverage"),
    "coverage out of range": (lambda b: b["params"].update(coverage=7), r"params\.coverage"),
    "node of an unknown metric": (lambda b: b["nodes"][_iso_node(b)].update(metric="zz"), r"metric"),
    "metric without a metric-level node": (lambda b: b["nodes"].pop("la|*|*"), r"la\|\*\|\*"),
    "conformal counts negative": (lambda b: next(iter(b["conformal"].values()))["folds"][0]["counts"].__setitem__(0, -1),
                                  r"conformal\..*counts"),
    "scale levels not increasing": (lambda b: b["metrics"]["la"]["scale"].update(levels=[2, 1, 0]), r"metrics\.la\.scale"),
    "version a bool": (lambda b: b.update(format_version=True), r"format version"),
    "fold nodes not a list": (lambda b: b["fold_nodes"].update(la={}), r"fold_nodes\.la"),
    "cv quality row not a dict": (lambda b: b["cv_quality"].__setitem__(0, 3), r"cv_quality\[0\]"),
    "alias not text": (lambda b: b["metrics"]["h"]["scale"]["aliases"].__setitem__(0, 0.0), r"scale\.aliases\[0\]"),
    "shrinkage negative": (lambda b: b["metrics"]["la"]["shrinkage"].update(script=-1.0), r"shrinkage\.script"),
}


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_edited_and_rehashed_content_is_refused_with_its_field(body, tmp_path, name):
    change, field = DAMAGES[name]
    change(body)
    with pytest.raises(CalibratorFileError, match=field):
        load_calibrator(_write(tmp_path, json.dumps(_rehash(body))))


def test_ordinal_thresholds_must_increase(ratings, tmp_path):
    from judgecal.calibration import GroupedCalibrator

    body = json.loads(GroupedCalibrator(method="ordinal").fit(ratings).save(tmp_path / "o.json").read_text())
    node = body["nodes"]["la|*|*"]["model"]
    node["thresholds"] = node["thresholds"][::-1]
    with pytest.raises(CalibratorFileError, match=r"thresholds.*increasing"):
        load_calibrator(_write(tmp_path, json.dumps(_rehash(body))))


def _paths(obj, prefix=()):
    """Every (path, value) of the leaves and dict keys of a JSON object."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*prefix, ("key", k)), k
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))
    else:
        yield prefix, obj


def _set(obj, path, value):
    *head, last = path
    for p in head:
        obj = obj[p]
    if isinstance(last, tuple):  # rename a key
        obj[value] = obj.pop(last[1])
    else:
        obj[last] = value


REPLACEMENTS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64), st.integers(-10**6, 10**6),
    st.sampled_from([None, True, False, "", "la", "isotonic", "ordinal", "metric", "*", [], {}, [1, 0], -0.0, 1e300]),
    st.text(max_size=5),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_edits_rehashed_load_cleanly_or_are_refused(saved, ratings, data):
    base = json.loads(saved.read_text())
    leaves = [p for p, v in _paths(base) if p and p[0] != "sha256"]
    body = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(leaves))
        value = data.draw(REPLACEMENTS)
        if isinstance(path[-1], tuple):
            value = data.draw(st.text(max_size=6))
        try:
            _set(body, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed the path
    _rehash(body)
    try:
        cal = calibrator_from_dict(body)
    except CalibratorFileError:
        return
    judged = ratings[ratings["rater_kind"] == "judge"]
    try:
        out = cal.apply(judged, allow_mismatch=True)
    except InputError as exc:
        # An edit that moves a scale's levels (la: 0, 1, 3) leaves a consistent file; the
        # judged rows scored 2 are then off its scale, and apply must say so, row by row.
        assert "off the" in exc.summary and "scale" in exc.summary, exc.summary
        assert all(p.row is not None and p.column == "score" for p in exc.problems)
        return
    values = out["score_calibrated"].to_numpy(dtype=float)
    assert np.isfinite(values).all()


def test_moved_scale_level_loads_and_then_refuses_scores_off_it(saved, ratings):
    # Found by hypothesis: la's levels edited from (0, 1, 2) to (0, 1, 3) and the file rehashed is
    # a consistent calibrator for another scale; the judged rows scored 2 are refused by row.
    body = json.loads(saved.read_text())
    _set(body, ("metrics", "la", "scale", "levels", 2), 3.0)
    _rehash(body)
    cal = calibrator_from_dict(body)
    judged = ratings[ratings["rater_kind"] == "judge"]
    with pytest.raises(InputError, match="off the la scale") as err:
        cal.apply(judged, allow_mismatch=True)
    twos = judged.index[(judged["metric"] == "la") & (judged["score"] == 2)]
    assert len(err.value.problems) == min(len(twos), 200) and {p.value for p in err.value.problems} == {2.0}
