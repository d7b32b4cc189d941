"""Agreement, bias, system-level estimates and annotation planning.

Every public function takes a ratings table and returns a tidy DataFrame (one
row per language, script, metric, ... with ``estimate``, ``ci_low``,
``ci_high`` and ``n``), so the report, the command line and the dashboard show
the same numbers.
"""

from judgecal.analysis.agreement import STATISTICS, agreement_table, krippendorff_alpha
from judgecal.analysis.bias import bias_table, level_distribution
from judgecal.analysis.budget import labels_needed, learning_curves, next_batch
from judgecal.analysis.calibrated import (
    CALIBRATED_COLUMN,
    before_after,
    out_of_fold_table,
    stage_pivot,
)
from judgecal.analysis.estimates import (
    ppi_mean,
    rank_systems,
    stratified_estimates,
    system_estimates,
)
from judgecal.analysis.items import item_table, shared_item_tables
from judgecal.analysis.simulate import ppi_simulation, simulation_summary

__all__ = [
    "CALIBRATED_COLUMN",
    "STATISTICS",
    "agreement_table",
    "before_after",
    "bias_table",
    "item_table",
    "shared_item_tables",
    "krippendorff_alpha",
    "labels_needed",
    "learning_curves",
    "level_distribution",
    "next_batch",
    "out_of_fold_table",
    "ppi_mean",
    "ppi_simulation",
    "rank_systems",
    "simulation_summary",
    "stage_pivot",
    "stratified_estimates",
    "system_estimates",
]
