import json

import pandas as pd

results = json.load(open("results.json"))["results"]["results"]
applied = pd.read_csv("pf_calibrated.csv").set_index("item_id")
rows = []
for r in results:
    item = r["vars"]["item_id"]
    [c] = r["gradingResult"]["componentResults"]
    rows.append({"item": item, "raw": c["namedScores"]["judge_raw"], "promptfoo_score": c["score"],
                 "judgecal_apply": applied.loc[item, "score_calibrated"], "pass": c["pass"],
                 "reason": c["reason"]})
t = pd.DataFrame(rows).sort_values("item")
print(t.drop(columns="reason").to_string(index=False))
print(t["reason"].iloc[0])
print("max |promptfoo - apply| =", (t["promptfoo_score"] - t["judgecal_apply"]).abs().max())
