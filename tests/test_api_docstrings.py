"""The Examples sections of what ``import judgecal`` exports (outside calibration and
data, tested beside them) run and give what they show. The judge examples are dry
runs: they render and price requests and send nothing."""

from __future__ import annotations

import doctest

import pytest

from judgecal import calibrated_judge
from judgecal.judges import api

MODULES = [api, calibrated_judge]


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module.__name__} has no examples"
    assert result.failed == 0
