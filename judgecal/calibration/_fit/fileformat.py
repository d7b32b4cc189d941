"""The calibrator file format: a FittedGroups and the estimator's parameters <-> versioned JSON.

The file holds the fitted parameters of every node (and of the per-fold models
used for conformal sets), the group hierarchy and sizes, the metric scales, the
judge and judge prompt hash the calibrator was fitted for, a hash of the
training data, the cross-validated quality per group and the judgecal version.
A sha256 over the canonical JSON of all of that is stored beside it: loading
recomputes it and refuses a file that was edited or damaged, and refuses format
versions it does not know. The public functions are in ``calibration.persist``.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from judgecal._atomic import atomic_write_text
from judgecal._version import __version__
from judgecal.calibration._fit.filecheck import MAX_FORMAT_VERSION, check_content
from judgecal.calibration._fit.profile import check_profile
from judgecal.calibration._fit.state import FittedGroups
from judgecal.data.metrics import MetricRegistry, MetricScale
from judgecal.errors import CalibratorFileError, CalibratorMismatchError

FORMAT = "judgecal-calibrator"
# A PARIKSHA calibrator (10 languages, 3 metrics) is about 0.25 MB; reading stops well
# before a damaged or hostile file (or /dev/zero) can fill memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_INT_DIGITS = 30  # no count or version in a calibrator needs more
FORMAT_VERSION = 1
PARAMS = ("method", "features", "target", "pooling", "min_group_size", "n_splits", "groups", "coverage",
          "min_conformal_size", "alpha", "prior_weight", "bias_penalty", "random_state")


def encode(params: dict, state: FittedGroups) -> dict:
    """The JSON-able content of a calibrator file, with its checksum.

    params : the estimator's parameters (``get_params()``); those in ``PARAMS`` are stored.
    """
    metrics = {}
    for m, info in state.metric_info.items():
        entry = dict(info)
        entry["shrinkage"] = {lv: _k_out(k) for lv, k in info["shrinkage"].items()}
        entry["scale"] = state.scales[m].to_dict()
        metrics[m] = entry
    groups = [{"key": k, **{f: n[f] for f in ("metric", "level", "language", "script", "n_items")}}
              for k, n in sorted(state.nodes.items())]
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "judgecal_version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "judge": {"model": state.judge, "prompt_hash": state.judge_prompt_hash},
        "params": {p: (list(params[p]) if p == "features" else params[p]) for p in PARAMS},
        "metrics": metrics,
        "groups": groups,
        "nodes": state.nodes,
        "fold_nodes": state.fold_nodes,
        "conformal": state.conformal,
        "training": state.training,
        "cv_quality": _records(state.cv_quality),
    }
    if state.judge_profile is not None:  # optional key: files without it (older ones) still load
        body["judge_profile"] = state.judge_profile
    body = json.loads(_canonical(body))  # normalise types (numpy -> builtin) before hashing
    body["sha256"] = _digest(body)
    return body


def write(body: dict, path: str | Path) -> Path:
    """Write a file's content (from :func:`encode`) as JSON, atomically: a reader sees the
    old file or the new one, never half of one. Returns the path."""
    return atomic_write_text(path, json.dumps(body, ensure_ascii=False, indent=1, allow_nan=False) + "\n")


def read(path: str | Path) -> dict:
    """The parsed JSON of a calibrator file (not yet checked: see :func:`decode`)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except FileNotFoundError as exc:
        raise CalibratorFileError(f"calibrator file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibratorFileError(f"calibrator file {path} cannot be read: {exc}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise CalibratorFileError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB: not a judgecal calibrator")
    return parse(text, str(path))


def parse(text: str, source: str):
    """JSON of a calibrator file, refusing what JSON allows but a calibrator never holds:
    NaN and infinities (also 1e309, which overflows to infinity), integers of more than
    ``MAX_INT_DIGITS`` digits, and nesting too deep for the parser."""
    def finite(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise _Refused(f"the number {literal[:40]} is not a finite float")
        return value

    def short_int(literal: str) -> int:
        if len(literal.lstrip("-")) > MAX_INT_DIGITS:
            raise _Refused(f"an integer of {len(literal)} digits ({literal[:20]}...)")
        return int(literal)

    def no_constant(name: str):
        raise _Refused(f"{name} is not a finite number")

    try:
        return json.loads(text, parse_float=finite, parse_int=short_int, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise CalibratorFileError(f"{source} is not a judgecal calibrator (not valid JSON: {exc})") from exc
    except _Refused as exc:
        raise CalibratorFileError(f"{source} is not a valid calibrator file: {exc}") from exc
    except RecursionError as exc:
        raise CalibratorFileError(f"{source} is not a judgecal calibrator: its JSON is nested too deeply") from exc


class _Refused(ValueError):
    """A JSON literal a calibrator file never holds (raised from the parser's hooks)."""


def decode(body, *, source: str = "calibrator", expect_judge=None, expect_prompt_hash=None,
           allow_mismatch: bool = False) -> tuple[dict, FittedGroups]:
    """Check a calibrator file's content and return (estimator parameters, fitted state).

    Raises CalibratorFileError for content that is not a calibrator, an unknown or newer
    format version, or a checksum that does not match (an edited or damaged file);
    CalibratorMismatchError when ``expect_judge``/``expect_prompt_hash`` differ from what
    it was fitted for (unless ``allow_mismatch``). The content is checked field by field
    (``filecheck.check_content``) even when the checksum matches: a checksum can be
    recomputed after an edit.
    """
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise CalibratorFileError(f"{source} is not a judgecal calibrator file (no format {FORMAT!r})")
    version = body.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CalibratorFileError(f"{source}: unknown calibrator format version {version!r}")
    if version > MAX_FORMAT_VERSION:
        raise CalibratorFileError(f"{source}: unknown calibrator format version {version!r}")
    if version > FORMAT_VERSION:
        raise CalibratorFileError(
            f"{source} was written by judgecal {body.get('judgecal_version', '?')} in calibrator format "
            f"version {version}; this judgecal ({__version__}) reads versions up to {FORMAT_VERSION}. "
            "Upgrade judgecal to load it.")
    stored = body.get("sha256")
    content = {k: v for k, v in body.items() if k != "sha256"}
    try:
        digest = _digest(content)
    except (ValueError, TypeError) as exc:  # NaN, infinity or a non-JSON object in a dict: name the field
        check_content(body, source)
        raise CalibratorFileError(f"{source} is not a valid calibrator file: {exc}") from exc
    if not isinstance(stored, str) or stored != digest:
        raise CalibratorFileError(
            f"{source} has been edited or damaged: its checksum does not match its content. "
            "Refit the calibrator (judgecal calibrate) instead of editing the file.")
    check_content(body, source)
    judge = body["judge"]
    if not allow_mismatch:
        if expect_judge is not None and expect_judge != judge["model"]:
            raise CalibratorMismatchError(
                f"{source} was fitted for judge {judge['model']!r}, not {expect_judge!r} "
                "(pass allow_mismatch=True to use it anyway)")
        hashes = _prompt_hashes(judge.get("prompt_hash"), body.get("metrics", {}))
        if expect_prompt_hash is not None and any(h != expect_prompt_hash for h in hashes.values()):
            raise CalibratorMismatchError(
                f"{source} was fitted for judge prompt(s) {hashes}, not {expect_prompt_hash} "
                "(pass allow_mismatch=True to use it anyway)")
    scales = {m: MetricScale.from_dict(e["scale"]) for m, e in body["metrics"].items()}
    params = dict(body["params"])
    params["features"] = tuple(params["features"])
    params.update(judge=judge["model"], metrics=MetricRegistry(scales.values()))
    metric_info = {}
    for m, e in body["metrics"].items():
        info = {k: v for k, v in e.items() if k != "scale"}
        info["shrinkage"] = {lv: _k_in(k) for lv, k in e["shrinkage"].items()}
        metric_info[m] = info
    state = FittedGroups(
        judge=judge["model"], judge_prompt_hash=_prompt_hashes(judge.get("prompt_hash"), body["metrics"]),
        scales=scales, metric_info=metric_info, nodes=body["nodes"], fold_nodes=body["fold_nodes"],
        conformal=body["conformal"], training=body["training"],
        cv_quality=pd.DataFrame.from_records(body["cv_quality"]),
        judge_profile=_profile(body.get("judge_profile"), source))
    return params, state


def _profile(profile, source: str):
    check_profile(profile, source)
    return profile


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=_jsonable)


def _digest(content: dict) -> str:
    return hashlib.sha256(_canonical(content).encode("utf-8")).hexdigest()


def _jsonable(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"cannot store {type(value).__name__} in a calibrator file")


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()})
    return out


def _k_out(k: float):
    """Pseudo-count for JSON: infinity (group ignored) is stored as null."""
    return None if math.isinf(k) else float(k)


def _k_in(k) -> float:
    return math.inf if k is None else float(k)


def _prompt_hashes(stored, metrics) -> dict[str, str]:
    """metric -> prompt hash. Files may hold one hash for every metric (a
    compound prompt, or files written before per-metric hashes) or none."""
    if stored is None:
        return {}
    if isinstance(stored, str):
        return {m: stored for m in metrics}
    if isinstance(stored, dict):
        return {str(m): str(h) for m, h in stored.items()}
    raise CalibratorFileError(f"judge prompt hash has an unexpected form: {stored!r}")
