"""Calibrated judges inside the evaluation frameworks teams already run.

One module per framework, each importing its framework only when used (with an
install hint naming its extra): :mod:`judgecal.integrations.inspect_ai`
(``pip install 'judgecal[inspect]'``), :mod:`judgecal.integrations.promptfoo`
(no Python extra; promptfoo itself is an npm package),
:mod:`judgecal.integrations.mlflow` (``[mlflow]``),
:mod:`judgecal.integrations.deepeval` (``[deepeval]``) and
:mod:`judgecal.integrations.lm_eval` (``[lmeval]``; importing it registers its
filter and metric with lm-eval). The part they share,
one judge score of one sample -> raw and calibrated with the same numbers as
``judgecal apply``, is :mod:`judgecal.integrations._common`.
"""
