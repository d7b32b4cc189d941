"""Apply a fitted calibrator one partition at a time (Spark, Dask, Ray Data).

:class:`PartitionCalibrator` is a plain pandas -> pandas callable. It carries the
calibrator as its JSON text (the same content as the calibrator file, checksum
included), rebuilds it once per worker process, and calls
``GroupedCalibrator.apply`` on each partition. Splitting a table into
partitions and concatenating the results gives the same rows and columns as
``calibrator.apply(table)``, because

* every partition gets the same columns (the string columns as plain strings,
  where ``apply`` gives categoricals: the values are the same): ``apply`` adds ``prob_<level>`` only
  for ordinal metrics present in the frame it sees, so the missing ones are
  added here as NaN, and the order is the input's columns then
  :func:`output_columns` (what ``apply`` gives on a table holding every metric);
* the per-row randomisation of conformal ties is a hash of item id and metric,
  not of the row's position;
* calibrators whose features include the judge's scores on the item's other
  metrics (``features=("score", "other_metrics")``) read them from the rows of
  the same item; :attr:`PartitionCalibrator.whole_items` says so, and then every
  item must sit in one partition (Dask: ``shuffle("item_id")``; Ray:
  ``groupby("item_id").map_groups``; Spark does it for you).

Dask::

    fn = PartitionCalibrator(load_calibrator("calibrator.json"))
    out = ddf.map_partitions(fn, meta=fn.meta(ddf._meta))

Ray Data::

    out = ds.map_batches(PartitionCalibrator(cal), batch_format="pandas")
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from judgecal.calibration.persist import calibrator_from_dict, calibrator_to_dict
from judgecal.errors import CalibratorFileError

# The columns GroupedCalibrator.apply adds, in its order, before prob_<level>.
BASE_OUTPUT = ("score_calibrated", "calibration_level", "calibration_group", "calibration_weight",
               "score_set", "score_set_low", "score_set_high")
STRING_OUTPUT = frozenset({"calibration_level", "calibration_group", "score_set"})

_LOADED: OrderedDict[str, object] = OrderedDict()  # sha256 of JSON text -> calibrator, per process
_MAX_LOADED = 8


def calibrator_json(calibrator) -> str:
    """The calibrator as JSON text: from a fitted/loaded calibrator, a file path,
    the file's parsed content (dict) or its text. Checked by loading it once."""
    if isinstance(calibrator, dict):
        text = json.dumps(calibrator, ensure_ascii=False, allow_nan=False)
    elif isinstance(calibrator, str) and calibrator.lstrip().startswith("{"):
        text = calibrator
    elif isinstance(calibrator, str | Path):
        try:
            text = Path(calibrator).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise CalibratorFileError(f"calibrator file {calibrator} does not exist") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise CalibratorFileError(f"calibrator file {calibrator} cannot be read: {exc}") from exc
    elif hasattr(calibrator, "apply") and hasattr(calibrator, "metric_info_"):
        text = json.dumps(calibrator_to_dict(calibrator), ensure_ascii=False, allow_nan=False)
    else:
        raise CalibratorFileError(
            f"expected a fitted calibrator, a calibrator file path or its JSON, got {type(calibrator).__name__}")
    _loaded(text)  # fail here, on the driver, not inside a worker
    return text


def _loaded(text: str):
    """The calibrator for a JSON text, built once per process (workers reuse it)."""
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    cal = _LOADED.get(key)
    if cal is None:
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalibratorFileError(f"not a judgecal calibrator (not valid JSON: {exc})") from exc
        cal = calibrator_from_dict(body, source="calibrator JSON")
        _LOADED[key] = cal
        while len(_LOADED) > _MAX_LOADED:
            _LOADED.popitem(last=False)
    else:
        _LOADED.move_to_end(key)
    return cal


def output_columns(calibrator) -> list[str]:
    """Columns apply adds on a table holding every metric of the calibrator:
    the base columns, then ``prob_<level>`` of the ordinal metrics, sorted by name."""
    probs = {f"prob_{lv:g}" for m, info in calibrator.metric_info_.items() if info["method"] == "ordinal"
             for lv in calibrator.scales_[m].levels}
    return [*BASE_OUTPUT, *sorted(probs)]


def needs_whole_items(calibrator) -> bool:
    """True when some metric's features read the item's scores on other metrics."""
    for info in calibrator.metric_info_.values():
        # Same test as serving uses for "score on another metric" features.
        for col in info["design"]["numeric"]:
            if col.startswith("judge_") and not col.startswith("judge_p") and col != "judge_expected":
                return True
    return False


class PartitionCalibrator:
    """pandas DataFrame -> pandas DataFrame: one partition through ``calibrator.apply``.

    Parameters
    ----------
    calibrator : fitted or loaded GroupedCalibrator, calibrator file path, or its JSON
    allow_mismatch, randomize : passed to ``apply``

    Pickling an instance carries only the JSON text and the two options.
    """

    def __init__(self, calibrator, *, allow_mismatch: bool = False, randomize: bool = True):
        self.calibrator_json = calibrator_json(calibrator)
        self.allow_mismatch = bool(allow_mismatch)
        self.randomize = bool(randomize)

    @property
    def calibrator(self):
        return _loaded(self.calibrator_json)

    @property
    def added_columns(self) -> list[str]:
        return output_columns(self.calibrator)

    @property
    def whole_items(self) -> bool:
        """Whether every item's rows must be in the same partition."""
        return needs_whole_items(self.calibrator)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        """The batch with the calibrated columns; shape (n, input columns + added columns)."""
        added = self.added_columns
        # Calibrated columns already in the input are replaced, never half-kept.
        stale = [c for c in added if c in batch.columns]
        source = batch.drop(columns=stale) if stale else batch
        out = self.calibrator.apply(source, allow_mismatch=self.allow_mismatch, randomize=self.randomize)
        for col in added:
            if col not in out.columns:  # an ordinal metric absent from this partition
                out[col] = np.nan
            elif col in STRING_OUTPUT and isinstance(out[col].dtype, pd.CategoricalDtype):
                # apply returns categoricals; partitions' categories differ, and Arrow/Spark
                # want plain strings: same values, missing as None.
                values = out[col].astype(object)
                out[col] = values.where(values.notna(), None)
        order = list(batch.columns) + [c for c in added if c not in batch.columns]
        return out[order]

    def iter_batches(self, batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """For Spark's mapInPandas: an iterator of batches in, calibrated batches out."""
        for batch in batches:
            yield self(batch)

    def meta(self, frame: pd.DataFrame) -> pd.DataFrame:
        """An empty frame with the output's columns and dtypes (Dask ``meta=``)."""
        out = self(frame.iloc[:0])
        for col in self.added_columns:
            out[col] = out[col].astype(object if col in STRING_OUTPUT else float)
        return out

    def __getstate__(self) -> dict:
        return {"calibrator_json": self.calibrator_json, "allow_mismatch": self.allow_mismatch,
                "randomize": self.randomize}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        cal = self.calibrator
        return f"PartitionCalibrator(judge={cal.judge_!r}, metrics={sorted(cal.metric_info_)})"


def check_partitioned(calibrator, table: pd.DataFrame, n_partitions: int = 8) -> dict:
    """Apply ``calibrator`` to ``table`` whole and in ``n_partitions`` partitions
    (rows of an item kept together) and compare; for demos and smoke checks.

    Returns {"rows", "partitions", "columns_equal", "max_abs_diff" (float columns),
    "text_equal" (string columns)}.
    """
    fn = PartitionCalibrator(calibrator)
    whole = fn.calibrator.apply(table)
    items = pd.unique(table["item_id"].astype(str))
    part_of_item = dict(zip(items, np.arange(len(items)) % max(1, int(n_partitions)), strict=True))
    part = table["item_id"].astype(str).map(part_of_item).to_numpy()
    pieces = [fn(table[part == p]) for p in range(max(1, int(n_partitions)))]
    joined = pd.concat(pieces).loc[whole.index]
    floats = [c for c in fn.added_columns if c not in STRING_OUTPUT]
    diff = np.nanmax(np.abs(joined[floats].to_numpy(float) - whole.reindex(columns=floats).to_numpy(float)),
                     initial=0.0)
    text = all(joined[c].astype(object).where(joined[c].notna(), "").astype(str)
               .equals(whole[c].astype(object).where(whole[c].notna(), "").astype(str)) for c in STRING_OUTPUT)
    return {"rows": len(table), "partitions": len(pieces), "columns_equal": list(joined.columns) == list(fn(table).columns),
            "max_abs_diff": float(diff), "text_equal": bool(text)}
