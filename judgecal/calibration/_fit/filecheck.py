"""Content checks of a calibrator file, beyond its checksum.

A checksum only says the file is what some writer wrote; anyone can recompute
it after an edit. Before a file's content becomes a fitted state it is checked
here: required keys and their types, finite numbers, isotonic knots with
increasing x and non-decreasing values, increasing ordinal thresholds of the
right length, non-negative integer sizes and counts, every node's metric
declared and every metric's top node present. A failure raises
CalibratorFileError naming the field by its path (``nodes.la|hi|Deva.model.values[3]``).
"""

from __future__ import annotations

import math

from judgecal.data.metrics import MetricScale
from judgecal.errors import CalibratorFileError

METHODS = ("isotonic", "ordinal")
LEVELS = ("language", "script", "metric")
MAX_FORMAT_VERSION = 1000  # a version is a small int; anything larger is damage


class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, what: str):
        raise CalibratorFileError(f"{self.source} is not a valid calibrator file: {path} {what}")

    def get(self, obj: dict, key: str, path: str):
        if key not in obj:
            self.fail(f"{path}.{key}" if path else key, "is missing")
        return obj[key]

    def dict_(self, value, path: str) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, not {type(value).__name__}")
        return value

    def list_(self, value, path: str) -> list:
        if not isinstance(value, list):
            self.fail(path, f"must be a list, not {type(value).__name__}")
        return value

    def str_(self, value, path: str, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            self.fail(path, f"must be text, not {value!r:.60}")
        return value

    def num(self, value, path: str, *, lo: float | None = None, hi: float | None = None,
            optional: bool = False) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"must be a number, not {value!r:.60}")
        if not math.isfinite(value):
            self.fail(path, f"must be a finite number, not {value!r}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.fail(path, f"must lie in [{lo}, {hi}], not {value!r}")
        return float(value)

    def count(self, value, path: str, *, lo: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            self.fail(path, f"must be an integer >= {lo}, not {value!r:.60}")
        return value

    def numbers(self, value, path: str, *, min_len: int = 0) -> list[float]:
        out = [self.num(v, f"{path}[{i}]") for i, v in enumerate(self.list_(value, path))]
        if len(out) < min_len:
            self.fail(path, f"must hold at least {min_len} number(s), not {len(out)}")
        return out

    def increasing(self, values: list[float], path: str, *, strict: bool):
        for i in range(1, len(values)):
            if values[i] < values[i - 1] or (strict and values[i] == values[i - 1]):
                order = "increasing" if strict else "non-decreasing"
                self.fail(f"{path}[{i}]", f"must be {order}: {values[i]!r} follows {values[i - 1]!r}")


def check_content(body: dict, source: str) -> None:
    """Raise CalibratorFileError naming the first field of ``body`` (a file's parsed JSON,
    format and version already checked) that is missing, of the wrong type or out of range."""
    c = _Checker(source)
    judge = c.dict_(c.get(body, "judge", ""), "judge")
    c.str_(c.get(judge, "model", "judge"), "judge.model")
    prompt_hash = judge.get("prompt_hash")
    if isinstance(prompt_hash, dict):
        for m, h in prompt_hash.items():
            c.str_(h, f"judge.prompt_hash.{m}")
    elif prompt_hash is not None:
        c.str_(prompt_hash, "judge.prompt_hash")
    _check_params(c, c.dict_(c.get(body, "params", ""), "params"))
    metrics = c.dict_(c.get(body, "metrics", ""), "metrics")
    levels = {m: _check_metric(c, m, c.dict_(e, f"metrics.{m}")) for m, e in metrics.items()}
    nodes = c.dict_(c.get(body, "nodes", ""), "nodes")
    _check_nodes(c, nodes, "nodes", levels, metrics)
    fold_nodes = c.dict_(c.get(body, "fold_nodes", ""), "fold_nodes")
    for m, folds in fold_nodes.items():
        if m not in levels:
            c.fail(f"fold_nodes.{m}", "is a metric the file does not declare")
        for f, fold in enumerate(c.list_(folds, f"fold_nodes.{m}")):
            _check_nodes(c, c.dict_(fold, f"fold_nodes.{m}[{f}]"), f"fold_nodes.{m}[{f}]", levels, metrics,
                         need_top=False)
    conformal = c.dict_(c.get(body, "conformal", ""), "conformal")
    for key, entry in conformal.items():
        _check_conformal(c, key, c.dict_(entry, f"conformal.{key}"))
    for i, g in enumerate(c.list_(c.get(body, "groups", ""), "groups")):
        g = c.dict_(g, f"groups[{i}]")
        c.str_(c.get(g, "key", f"groups[{i}]"), f"groups[{i}].key")
        c.count(c.get(g, "n_items", f"groups[{i}]"), f"groups[{i}].n_items")
    c.dict_(c.get(body, "training", ""), "training")
    for i, row in enumerate(c.list_(c.get(body, "cv_quality", ""), "cv_quality")):
        for k, v in c.dict_(row, f"cv_quality[{i}]").items():
            if not isinstance(v, str) and v is not None:
                c.num(v, f"cv_quality[{i}].{k}")


def _check_params(c: _Checker, params: dict) -> None:
    c.str_(c.get(params, "method", "params"), "params.method")
    for i, f in enumerate(c.list_(c.get(params, "features", "params"), "params.features")):
        c.str_(f, f"params.features[{i}]")
    c.num(c.get(params, "coverage", "params"), "params.coverage", lo=0.0, hi=1.0)
    c.count(c.get(params, "n_splits", "params"), "params.n_splits", lo=2)
    c.count(c.get(params, "min_group_size", "params"), "params.min_group_size", lo=1)
    c.count(c.get(params, "min_conformal_size", "params"), "params.min_conformal_size", lo=1)
    for name in ("alpha", "prior_weight", "bias_penalty"):
        c.num(c.get(params, name, "params"), f"params.{name}", lo=0.0)
    for name in ("pooling", "target"):
        if name in params:
            c.str_(params[name], f"params.{name}")


def _check_metric(c: _Checker, m: str, entry: dict) -> int:
    """Check one metric's entry; returns its number of levels."""
    path = f"metrics.{m}"
    method = c.get(entry, "method", path)
    if method not in METHODS:
        c.fail(f"{path}.method", f"must be one of {METHODS}, not {method!r:.60}")
    scale = c.dict_(c.get(entry, "scale", path), f"{path}.scale")
    c.numbers(c.get(scale, "levels", f"{path}.scale"), f"{path}.scale.levels", min_len=2)
    c.str_(c.get(scale, "id", f"{path}.scale"), f"{path}.scale.id")
    for key in ("name", "measurement", "description"):
        if key in scale:
            c.str_(scale[key], f"{path}.scale.{key}")
    for key in ("labels", "aliases"):
        for i, text in enumerate(c.list_(scale.get(key, []), f"{path}.scale.{key}")):
            c.str_(text, f"{path}.scale.{key}[{i}]")
    if not isinstance(scale.get("higher_is_better", True), bool):
        c.fail(f"{path}.scale.higher_is_better", f"must be true or false, not {scale['higher_is_better']!r:.60}")
    try:  # the scale's own checks (levels sorted and distinct, labels per level, ...)
        parsed = MetricScale.from_dict(scale)
    except (ValueError, TypeError) as exc:
        c.fail(f"{path}.scale", f"is not a valid metric scale: {exc}")
    if parsed.id != m:
        c.fail(f"{path}.scale.id", f"must be {m!r}, not {parsed.id!r}")
    for level, k in c.dict_(c.get(entry, "shrinkage", path), f"{path}.shrinkage").items():
        c.num(k, f"{path}.shrinkage.{level}", lo=0.0, optional=True)  # null: group ignored
    design = c.dict_(c.get(entry, "design", path), f"{path}.design")
    iso = c.str_(c.get(design, "iso_feature", f"{path}.design"), f"{path}.design.iso_feature")
    if iso not in ("judge_score", "judge_expected"):
        c.fail(f"{path}.design.iso_feature", f"must be judge_score or judge_expected, not {iso!r:.60}")
    c.numbers(c.get(design, "onehot", f"{path}.design"), f"{path}.design.onehot")
    numeric = c.list_(c.get(design, "numeric", f"{path}.design"), f"{path}.design.numeric")
    for i, col in enumerate(numeric):
        c.str_(col, f"{path}.design.numeric[{i}]")
    fill = c.numbers(c.get(design, "fill", f"{path}.design"), f"{path}.design.fill")
    if len(fill) != len(numeric):
        c.fail(f"{path}.design.fill", f"must hold one value per numeric column ({len(numeric)}), not {len(fill)}")
    for key in ("cv_mae", "cv_loss"):  # cv_loss: None where a method has no value of the loss
        for k, v in c.dict_(entry.get(key, {}), f"{path}.{key}").items():
            c.num(v, f"{path}.{key}.{k}", optional=key == "cv_loss")
    if "loss" in entry and entry["loss"] not in ("mae", "brier", "log_loss"):
        c.fail(f"{path}.loss", f"must be mae, brier or log_loss, not {entry['loss']!r:.60}")
    return len(parsed.levels)


def _check_nodes(c: _Checker, nodes: dict, path: str, levels: dict, metrics: dict, *, need_top: bool = True) -> None:
    for key, node in nodes.items():
        p = f"{path}.{key}"
        node = c.dict_(node, p)
        m = c.str_(c.get(node, "metric", p), f"{p}.metric")
        if m not in levels:
            c.fail(f"{p}.metric", f"is {m!r:.60}, a metric the file does not declare")
        level = c.get(node, "level", p)
        if level not in LEVELS:
            c.fail(f"{p}.level", f"must be one of {LEVELS}, not {level!r:.60}")
        lang = c.str_(c.get(node, "language", p), f"{p}.language", optional=True)
        script = c.str_(c.get(node, "script", p), f"{p}.script", optional=True)
        expected = f"{m}|{lang or '*'}|{script or '*'}"
        if key != expected:
            c.fail(p, f"is keyed {key!r:.60} but describes node {expected!r:.60}")
        if (level == "metric") != (script is None) or (level == "language") != (lang is not None):
            c.fail(f"{p}.level", f"{level!r} does not match language {lang!r:.30} and script {script!r:.30}")
        c.count(c.get(node, "n_items", p), f"{p}.n_items")
        c.num(c.get(node, "offset", p), f"{p}.offset")
        _check_model(c, c.dict_(c.get(node, "model", p), f"{p}.model"), f"{p}.model", metrics[m], levels[m])
    if need_top:
        for m in levels:
            if f"{m}|*|*" not in nodes:
                c.fail(f"{path}.{m}|*|*", f"is missing: every metric needs its metric-level node ({m})")


def _check_model(c: _Checker, model: dict, path: str, metric: dict, n_levels: int) -> None:
    kind = c.get(model, "kind", path)
    if kind != metric["method"]:
        c.fail(f"{path}.kind", f"must be the metric's method {metric['method']!r}, not {kind!r:.60}")
    levels = metric["scale"]["levels"]
    if kind == "isotonic":
        x = c.numbers(c.get(model, "knots", path), f"{path}.knots", min_len=1)
        y = c.numbers(c.get(model, "values", path), f"{path}.values", min_len=1)
        if len(x) != len(y):
            c.fail(f"{path}.values", f"must hold one value per knot ({len(x)}), not {len(y)}")
        c.increasing(x, f"{path}.knots", strict=True)
        c.increasing(y, f"{path}.values", strict=False)
        if y[0] < min(levels) or y[-1] > max(levels):
            c.fail(f"{path}.values", f"must lie within the scale [{min(levels)}, {max(levels)}]")
        return
    coef = c.numbers(c.get(model, "coef", path), f"{path}.coef")
    n_coef = len(metric["design"]["onehot"]) + len(metric["design"]["numeric"])
    if len(coef) != n_coef:
        c.fail(f"{path}.coef", f"must hold {n_coef} coefficient(s) (one per feature), not {len(coef)}")
    thresholds = c.numbers(c.get(model, "thresholds", path), f"{path}.thresholds")
    if len(thresholds) != n_levels - 1:
        c.fail(f"{path}.thresholds", f"must hold {n_levels - 1} threshold(s) (levels - 1), not {len(thresholds)}")
    c.increasing(thresholds, f"{path}.thresholds", strict=True)


def _check_conformal(c: _Checker, key: str, entry: dict) -> None:
    path = f"conformal.{key}"
    c.count(c.get(entry, "n", path), f"{path}.n")
    for f, fold in enumerate(c.list_(c.get(entry, "folds", path), f"{path}.folds")):
        fp = f"{path}.folds[{f}]"
        fold = c.dict_(fold, fp)
        values = c.numbers(c.get(fold, "values", fp), f"{fp}.values")
        counts = c.list_(c.get(fold, "counts", fp), f"{fp}.counts")
        for i, n in enumerate(counts):
            c.count(n, f"{fp}.counts[{i}]")
        if len(values) != len(counts):
            c.fail(f"{fp}.counts", f"must hold one count per value ({len(values)}), not {len(counts)}")
        c.increasing(values, f"{fp}.values", strict=True)
