"""The Examples sections of the public data API run and give what they show."""

from __future__ import annotations

import doctest

import pytest

from judgecal.data import consensus, delimited, io, languages, metrics, scripts, tables, validate

MODULES = [io, consensus, validate, metrics, scripts, tables, delimited, languages]


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module.__name__} has no examples"
    assert result.failed == 0
