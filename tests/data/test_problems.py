"""The error messages users read: Problem, InputError, and the exception tree."""

from __future__ import annotations

import pytest

from judgecal.errors import (
    CalibratorError,
    CalibratorFileError,
    ConfigError,
    DatasetError,
    InputError,
    JudgecalError,
    MissingDependencyError,
    Problem,
    ProviderError,
    RateLimitError,
    ScoreParseError,
)


def test_problem_text_names_file_row_column_and_value():
    p = Problem("not on the la scale", file="r.csv", row=7, column="score", value="9")
    assert str(p) == "r.csv, row 7, column 'score': not on the la scale (value: '9')"
    assert str(Problem("the file is empty", file="r.csv")) == "r.csv: the file is empty"
    assert str(Problem("no location")) == "no location"
    long = str(Problem("x", value="a" * 200))
    assert long.endswith("...)") and len(long) < 90


def test_input_error_lists_every_problem():
    err = InputError([Problem("a", file="f", row=2), Problem("b", file="f", row=3)], summary="2 problems in f")
    assert str(err) == "2 problems in f:\n  - f, row 2: a\n  - f, row 3: b"
    assert len(err.problems) == 2 and err.exit_code == 1
    assert str(InputError("just text")).endswith("- just text")
    assert InputError(Problem("one")).problems == [Problem("one")]


def test_many_problems_are_grouped_by_kind_with_counts():
    problems = [Problem("bad score", file="f", row=r, column="score", value=9) for r in range(2, 102)]
    problems += [Problem("bad language", file="f", row=r, column="language", value="xx") for r in (5, 6)]
    text = str(InputError(problems))
    assert "102 problem(s) in the input:" in text
    assert "f, column 'score': bad score at rows 2, 3, 4, 5, 6, 7, 8, 9, ... (100 rows) (e.g. value 9)" in text
    assert "f, column 'language': bad language at rows 5, 6 (e.g. value 'xx')" in text


def test_missing_dependency_says_which_extra():
    err = MissingDependencyError("litellm", "litellm", "the LiteLLM judge")
    assert isinstance(err, ImportError) and isinstance(err, JudgecalError)
    assert "pip install 'judgecal[litellm]'" in str(err) and "the LiteLLM judge" in str(err)


def test_tree():
    for cls in (InputError, ConfigError, DatasetError, CalibratorError):
        assert issubclass(cls, JudgecalError)
    assert issubclass(RateLimitError, ProviderError) and issubclass(CalibratorFileError, CalibratorError)
    err = ProviderError("boom", status=503, retry_after=2.5)
    assert (err.status, err.retry_after) == (503, 2.5)
    assert ScoreParseError("no score", raw="I think it is good").raw == "I think it is good"
    with pytest.raises(JudgecalError):
        raise DatasetError("x")
