"""Calibrator files: save and load fitted GroupedCalibrators as versioned JSON (no pickle).

The file holds the calibrator's fitted state (one
:class:`~judgecal.calibration._fit.state.FittedGroups`: every node's parameters,
the per-fold models of the conformal sets, the group sizes, the metric scales, the
judge and judge prompt hash it was fitted for, a hash of the training data and
the held-out quality per group), its parameters and the judgecal version, with a
sha256 over all of it. Loading refuses an edited or damaged file (and, checksum or
not, content that is not a valid calibrator: see ``_fit/filecheck.py``) and format
versions it does not know. The format itself: ``_fit/fileformat.py``.
"""

from __future__ import annotations

from pathlib import Path

from judgecal.calibration._fit import fileformat
from judgecal.calibration._fit.fileformat import (
    FORMAT,
    FORMAT_VERSION,
    _digest,  # noqa: F401  (tests recompute checksums)
)
from judgecal.calibration.grouped import GroupedCalibrator
from judgecal.errors import CalibratorError, CalibratorFileError, ConfigError

__all__ = ["FORMAT", "FORMAT_VERSION", "calibrator_from_dict", "calibrator_to_dict", "load_calibrator",
           "save_calibrator"]


def calibrator_to_dict(cal: GroupedCalibrator) -> dict:
    """The JSON-able content of a fitted calibrator's file, with its checksum.

    Parameters
    ----------
    cal : GroupedCalibrator
        A fitted calibrator.

    Returns
    -------
    dict
        What :func:`save_calibrator` writes; :func:`calibrator_from_dict` reads it back.

    Raises
    ------
    CalibratorError
        If ``cal`` is not fitted.
    """
    if not hasattr(cal, "state_"):
        raise CalibratorError("cannot save a calibrator that is not fitted")
    return fileformat.encode(cal.get_params(), cal.state_)


def save_calibrator(cal: GroupedCalibrator, path: str | Path) -> Path:
    """Write a fitted calibrator as JSON (atomically); returns the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from judgecal.calibration import GroupedCalibrator, load_calibrator, save_calibrator
    >>> from judgecal.datasets import make_judge_ratings
    >>> ratings = make_judge_ratings(300, languages=("hi", "ta"), metrics=("la",), random_state=0)
    >>> cal = GroupedCalibrator(method="isotonic").fit(ratings)
    >>> path = save_calibrator(cal, pathlib.Path(tempfile.mkdtemp()) / "calibrator.json")
    >>> loaded = load_calibrator(path)
    >>> bool((loaded.predict([0, 1, 2], language="ta", metric="la") == cal.predict([0, 1, 2], language="ta", metric="la")).all())
    True
    """
    return fileformat.write(calibrator_to_dict(cal), path)


def load_calibrator(
    path: str | Path,
    *,
    expect_judge: str | None = None,
    expect_prompt_hash: str | None = None,
    allow_mismatch: bool = False,
) -> GroupedCalibrator:
    """Read a calibrator file and return the fitted GroupedCalibrator.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_calibrator`, ``GroupedCalibrator.save`` or
        ``judgecal calibrate``.
    expect_judge : str, optional
        Refuse a calibrator fitted for another judge (rater id).
    expect_prompt_hash : str, optional
        Refuse a calibrator fitted on scores from another judge prompt.
    allow_mismatch : bool, default False
        Load it even when ``expect_judge``/``expect_prompt_hash`` differ.

    Returns
    -------
    GroupedCalibrator
        Fitted: ``apply(df)``, ``predict(scores, language=..., metric=...)``,
        ``predict_proba`` and ``transform`` (a Pipeline step).

    Raises
    ------
    CalibratorFileError
        A missing, unreadable, damaged, edited or unknown-version file.
    CalibratorMismatchError
        The judge or judge prompt differ from the expected ones (unless ``allow_mismatch``).

    Examples
    --------
    >>> import judgecal
    >>> cal = judgecal.load_calibrator("calibrator.json")  # doctest: +SKIP
    >>> calibrated = cal.apply(judged)  # judged: a table of judge scores  # doctest: +SKIP

    See :func:`save_calibrator` for a round trip that runs.
    """
    body = fileformat.read(path)
    return calibrator_from_dict(body, source=str(path), expect_judge=expect_judge,
                                expect_prompt_hash=expect_prompt_hash, allow_mismatch=allow_mismatch)


def calibrator_from_dict(body, *, source: str = "calibrator", expect_judge=None, expect_prompt_hash=None,
                         allow_mismatch: bool = False) -> GroupedCalibrator:
    """Check a calibrator file's content (a dict, as :func:`calibrator_to_dict` gives) and rebuild
    the fitted calibrator; ``source`` names it in errors. Raises as :func:`load_calibrator`."""
    try:
        params, state = fileformat.decode(body, source=source, expect_judge=expect_judge,
                                          expect_prompt_hash=expect_prompt_hash, allow_mismatch=allow_mismatch)
        cal = GroupedCalibrator(**params)
        cal._set_state(state)
    except CalibratorError as exc:
        if not isinstance(exc, CalibratorFileError) and exc.__class__ is CalibratorError:
            raise CalibratorFileError(f"{source} is not a valid calibrator file: {type(exc).__name__}: {exc}") from exc
        raise
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise CalibratorFileError(f"{source} is not a valid calibrator file: {type(exc).__name__}: {exc}") from exc
    cal.source_ = source
    return cal
