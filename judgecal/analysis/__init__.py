"""Agreement, bias, system-level estimates and annotation planning.

Every public function takes a ratings table and returns a tidy DataFrame (one
row per language, script, metric, ... with ``estimate``, ``ci_low``,
``ci_high`` and ``n``), so the report, the command line and the dashboard show
the same numbers.
"""

from judgecal.analysis.agreement import STATISTICS, agreement_table, krippendorff_alpha
from judgecal.analysis.items import item_table

__all__ = ["STATISTICS", "agreement_table", "item_table", "krippendorff_alpha"]
