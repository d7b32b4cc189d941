"""Pairwise calibrator files: versioned JSON with a SHA-256 of the content, no pickle.

Same conventions as pointwise calibrator files: a ``format`` name, an integer
``format_version`` (newer versions refused with an upgrade hint), the judgecal
version that wrote it, and a checksum over the canonical JSON of everything
else, so an edited or damaged file is refused instead of silently used.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from judgecal._atomic import atomic_write_text
from judgecal._version import __version__
from judgecal.errors import CalibratorFileError, CalibratorMismatchError

FORMAT = "judgecal-pairwise-calibrator"
FORMAT_VERSION = 1
PARAMS = ("model", "features", "pooling", "min_group_size", "n_splits", "random_state", "alpha", "prior_weight")


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _k_out(k: float):
    return "inf" if math.isinf(k) else float(k)


def _k_in(k) -> float:
    if k == "inf":
        return math.inf
    if isinstance(k, bool) or not isinstance(k, (int, float)) or k < 0:
        raise ValueError(f"pseudo-count {k!r} is not a non-negative number or 'inf'")
    return float(k)


def to_dict(cal) -> dict:
    params = cal.get_params()
    params["features"] = list(cal.features_)
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "judgecal_version": __version__,
        "judge": cal.judge_,
        "model": cal.model_,
        "params": {k: params[k] for k in PARAMS},
        "pooling": {"k_script": _k_out(cal.k_script_), "k_language": _k_out(cal.k_language_)},
        "nodes": [{"language": lg, "script": sc, **node} for (lg, sc), node in sorted(cal.nodes_.items())],
        "training": {"n_pairs": cal.n_pairs_, "n_votes": cal.n_votes_,
                     "votes_without_verdict": cal.votes_without_verdict_, "cv_log_loss": cal.cv_log_loss_},
    }
    body = json.loads(_canonical(body))
    body["sha256"] = hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()
    return body


def _node(entry: dict) -> dict:
    if "counts" in entry:
        counts = [[float(c) for c in row] for row in entry["counts"]]
        if len(counts) != 3 or any(len(r) != 3 or min(r) < 0 for r in counts):
            raise ValueError("a table node needs 3 x 3 non-negative counts")
        return {"n": int(entry["n"]), "counts": counts}
    return {"n": int(entry["n"]), "coef": [float(c) for c in entry["coef"]],
            "thresholds": [float(t) for t in entry["thresholds"]]}


def save(cal, path) -> Path:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(cal, "nodes_")
    return atomic_write_text(path, json.dumps(to_dict(cal), ensure_ascii=False, indent=1) + "\n")


def load(cls, path, *, expect_judge: str | None = None):
    path = Path(path)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CalibratorFileError(f"calibrator file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalibratorFileError(f"{path} is not a pairwise calibrator file: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise CalibratorFileError(f"{path} is not a pairwise calibrator file (no format {FORMAT!r})")
    version = body.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CalibratorFileError(f"{path}: unknown pairwise calibrator format version {version!r}")
    if version > FORMAT_VERSION:
        raise CalibratorFileError(f"{path} was written in pairwise calibrator format version {version} by judgecal "
                                  f"{body.get('judgecal_version', '?')}; this judgecal ({__version__}) reads up to "
                                  f"{FORMAT_VERSION}. Upgrade judgecal to load it.")
    content = {k: v for k, v in body.items() if k != "sha256"}
    if body.get("sha256") != hashlib.sha256(_canonical(content).encode("utf-8")).hexdigest():
        raise CalibratorFileError(f"{path} has been edited or damaged: its checksum does not match its content. "
                                  "Refit the calibrator instead of editing the file.")
    if expect_judge is not None and body.get("judge") != expect_judge:
        raise CalibratorMismatchError(f"{path} was fitted for judge {body.get('judge')!r}, not {expect_judge!r}")
    try:
        params = dict(body["params"])
        params["features"] = tuple(params["features"])
        cal = cls(judge=body["judge"], **params)
        cal.judge_ = str(body["judge"])
        cal.model_ = str(body["model"])
        if cal.model_ not in ("ordinal", "table"):
            raise ValueError(f"unknown node model {cal.model_!r}")
        cal.features_ = params["features"]
        cal.k_script_ = _k_in(body["pooling"]["k_script"])
        cal.k_language_ = _k_in(body["pooling"]["k_language"])
        cal.nodes_ = {(n["language"], n["script"]): _node(n) for n in body["nodes"]}
        if ("*", "*") not in cal.nodes_:
            raise ValueError("the all-languages node is missing")
        training = body["training"]
        cal.n_pairs_, cal.n_votes_ = int(training["n_pairs"]), int(training["n_votes"])
        cal.votes_without_verdict_ = int(training["votes_without_verdict"])
        cal.cv_log_loss_ = {str(m): float(v) for m, v in training["cv_log_loss"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibratorFileError(f"{path} is not a valid pairwise calibrator file: {type(exc).__name__}: {exc}") from exc
    cal.source_ = str(path)
    return cal
