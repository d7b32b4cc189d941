"""Small synthetic ratings tables with a known judge/human relation, built here
so the calibration tests do not depend on any loader."""

from __future__ import annotations

import numpy as np
import pandas as pd

SCRIPTS = {"hi": "Deva", "mr": "Deva", "ta": "Taml", "bn": "Beng", "pa": "Guru", "te": "Telu"}


def synthetic_ratings(
    n_prompts: int = 30,
    systems: int = 4,
    languages=("hi", "mr", "ta"),
    inflation=None,
    n_raters: int = 3,
    metrics=("la", "tq", "h"),
    seed: int = 0,
    judge: str = "test-judge",
) -> pd.DataFrame:
    """Ratings table: human rows (n_raters per item and metric) and judge rows.

    Each item has a latent quality q in [0, 2]; humans rate round(q + noise);
    the judge rates round(q + inflation[language] + noise), clipped to the scale,
    so its bias per language is known.
    """
    rng = np.random.default_rng(seed)
    inflation = inflation or {lang: 0.3 + 0.2 * i for i, lang in enumerate(languages)}
    rows = []
    for lang in languages:
        for p in range(n_prompts):
            pid = f"{lang}-p{p}"
            for s in range(systems):
                item = f"{pid}/sys{s}"
                q = rng.uniform(0, 2)
                for metric in metrics:
                    top = 1 if metric == "h" else 2
                    qm = q / 2 if metric == "h" else q
                    for r in range(n_raters):
                        score = np.clip(np.round(qm + rng.normal(0, 0.45) * (top / 2)), 0, top)
                        rows.append((item, lang, SCRIPTS[lang], metric, f"w{lang}{r % 5}", "human", float(score), pid))
                    shift = inflation[lang] * (top / 2)
                    jscore = np.clip(np.round(qm + shift + rng.normal(0, 0.3) * (top / 2)), 0, top)
                    rows.append((item, lang, SCRIPTS[lang], metric, judge, "judge", float(jscore), pid))
    return pd.DataFrame(rows, columns=["item_id", "language", "script", "metric", "rater", "rater_kind", "score", "prompt_id"])


def metric_arrays(metric: str = "la", languages=("hi", "mr", "ta", "bn"), n_prompts: int = 8):
    """One metric's MetricData (hierarchy arrays) from a small synthetic table."""
    from judgecal.calibration._fit.design import make_design_spec
    from judgecal.calibration._fit.examples import build_examples
    from judgecal.calibration._fit.metric_data import metric_data
    from judgecal.data.metrics import DEFAULT_REGISTRY

    ex = build_examples(synthetic_ratings(n_prompts=n_prompts, languages=languages))
    mask = (ex.items["metric"] == metric).to_numpy()
    items = ex.items[mask].reset_index(drop=True)
    scale = DEFAULT_REGISTRY.get(metric)
    return metric_data(ex, mask, items, scale, make_design_spec(items, metric, scale, ("score",)), "consensus")
