"""What a battles table holds, per language and script (what ``judgecal validate`` prints)."""

from __future__ import annotations

import pandas as pd

from judgecal.data.battles import VERDICTS


def describe_battles(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (language, script) of a normalised battles table.

    Columns: rows, pairs, pairs_with_systems (both systems named: they count for
    leaderboards), systems, native_votes, natives (distinct human raters),
    pairs_with_votes, judge_verdicts, judges, pairs_judged, pairs_both_orders
    (a judge saw both orders), and the share of each verdict (first / tie /
    second, about the order seen) among native votes and judge verdicts.
    """
    has_systems = {"system_1", "system_2"} <= set(table.columns)
    rows = []
    for (lang, script), g in table.groupby(["language", "script"], sort=True):
        human, judge = g[g["rater_kind"] == "human"], g[g["rater_kind"] == "judge"]
        pairs = g.drop_duplicates("pair_id")
        row = {"language": lang, "script": script, "rows": len(g), "pairs": len(pairs)}
        if has_systems:
            named = pairs["system_1"].notna() & pairs["system_2"].notna()
            row["pairs_with_systems"] = int(named.sum())
            row["systems"] = int(pd.concat([pairs.loc[named, "system_1"], pairs.loc[named, "system_2"]]).nunique())
        orders = judge.groupby(["pair_id", "rater"])["shown"].nunique()
        row.update({"native_votes": len(human), "natives": int(human["rater"].nunique()),
                    "pairs_with_votes": int(human["pair_id"].nunique()), "judge_verdicts": len(judge),
                    "judges": int(judge["rater"].nunique()), "pairs_judged": int(judge["pair_id"].nunique()),
                    "pairs_both_orders": int(orders[orders == 2].index.get_level_values("pair_id").nunique())})
        for who, part in (("native", human), ("judge", judge)):
            for verdict in VERDICTS:
                row[f"{verdict}_{who}"] = float((part["verdict"] == verdict).mean()) if len(part) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)
