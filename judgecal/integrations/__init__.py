"""Calibrated judges inside the evaluation frameworks teams already run.

One module per framework, each importing its framework only when used (with an
install hint naming its extra): :mod:`judgecal.integrations.inspect_ai`
(``pip install 'judgecal[inspect]'``) and :mod:`judgecal.integrations.promptfoo`
(no Python extra; promptfoo itself is an npm package). The part they share,
one judge score of one sample -> raw and calibrated with the same numbers as
``judgecal apply``, is :mod:`judgecal.integrations._common`.
"""
