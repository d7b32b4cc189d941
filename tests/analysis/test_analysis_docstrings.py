"""The Examples sections of the public analysis API run and give what they show."""

from __future__ import annotations

import doctest

import pytest

from judgecal.analysis import (
    agreement,
    annotation_kit,
    bias,
    budget,
    calibrated,
    estimates,
    items,
    simulate,
)

MODULES = [agreement, bias, budget, calibrated, estimates, items, simulate, annotation_kit]


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module.__name__} has no examples"
    assert result.failed == 0
