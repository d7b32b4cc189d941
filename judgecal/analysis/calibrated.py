"""Before and after calibration, side by side.

"After" must not flatter the calibrator: every judge score is calibrated by a
calibrator fitted without that item (and without the other items of its
prompt), i.e. out of fold, through
:func:`judgecal.calibration.out_of_fold_predictions`. A table whose judge rows
already carry calibrated values (``score_calibrated``) can be passed directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from judgecal.errors import ConfigError

CALIBRATED_COLUMN = "score_calibrated"
STAGES = ("raw", "calibrated")


def out_of_fold_table(
    ratings: pd.DataFrame,
    *,
    method: str = "auto",
    groups: str | None = None,
    n_splits: int = 5,
    random_state: int = 0,
    judge: str | None = None,
) -> pd.DataFrame:
    """The ratings table with out-of-fold calibrated judge scores in ``score_calibrated``.

    Folds are grouped by ``groups`` (default: prompt_id when present, else
    item_id). Human rows are kept as they are (``score_calibrated`` NaN);
    judge rows are replaced by the calibration module's out-of-fold rows.
    """
    from judgecal.calibration import out_of_fold_predictions

    params = {"judge": judge} if judge is not None else {}
    judged = out_of_fold_predictions(ratings, method=method, groups=groups, n_splits=n_splits,
                                     random_state=random_state, **params)
    if CALIBRATED_COLUMN not in judged.columns:
        raise ConfigError(f"out_of_fold_predictions returned no {CALIBRATED_COLUMN!r} column")
    humans = ratings[ratings["rater_kind"] == "human"]
    return pd.concat([humans, judged[judged["rater_kind"] == "judge"]], ignore_index=True)


def before_after(
    table_fn: Callable[..., pd.DataFrame],
    ratings: pd.DataFrame,
    calibrated: pd.DataFrame | None,
    *,
    calibrated_column: str = CALIBRATED_COLUMN,
    **kwargs,
) -> pd.DataFrame:
    """Run an analysis (``agreement_table``, ``bias_table``, ``level_distribution``)
    on raw and calibrated judge scores and stack the results with a ``stage`` column.

    ``calibrated`` is a ratings table whose judge rows hold calibrated values in
    ``calibrated_column`` (e.g. from :func:`out_of_fold_table`); None gives the
    raw stage only.
    """
    raw = table_fn(ratings, judge_column="score", **kwargs)
    raw.insert(0, "stage", "raw")
    if calibrated is None:
        return raw
    if calibrated_column not in calibrated.columns:
        raise ConfigError(f"the calibrated table has no {calibrated_column!r} column")
    after = table_fn(calibrated, judge_column=calibrated_column, **kwargs)
    after.insert(0, "stage", "calibrated")
    return pd.concat([raw, after], ignore_index=True)


def stage_pivot(frame: pd.DataFrame, keys: Sequence[str], value: str = "estimate") -> pd.DataFrame:
    """Raw and calibrated values of a before/after table as two columns, one row per key."""
    wide = frame.pivot_table(index=list(keys), columns="stage", values=value, aggfunc="first")
    return wide.reindex(columns=[s for s in STAGES if s in wide.columns]).reset_index()
