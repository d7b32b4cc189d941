"""Small synthetic ratings tables for analysis tests (built here, not loaded)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_ratings(
    n_items: int = 200,
    *,
    languages: tuple[str, ...] = ("hi", "ta"),
    metric: str = "tq",
    n_raters: int = 3,
    systems: tuple[str, ...] = ("sys-a", "sys-b"),
    judge_shift: float = 0.5,
    noise: float = 0.6,
    seed: int = 0,
) -> pd.DataFrame:
    """A ratings table for a 0-2 metric: a latent quality per item, humans read it
    with noise, the judge reads it with noise plus ``judge_shift`` (inflation)."""
    rng = np.random.default_rng(seed)
    scripts = {"hi": "Deva", "ta": "Taml", "pa": "Guru", "bn": "Beng"}
    rows = []
    for lang in languages:
        for i in range(n_items):
            system = systems[i % len(systems)]
            quality = rng.normal(1.0 + 0.3 * systems.index(system), 0.7)
            item = f"{lang}-{i}"
            base = {"item_id": item, "language": lang, "script": scripts.get(lang, "Latn"), "metric": metric,
                    "system": system, "prompt_id": f"{lang}-p{i // len(systems)}", "task": "open_prompt"}
            for r in range(n_raters):
                s = float(np.clip(np.rint(quality + rng.normal(0, noise)), 0, 2))
                rows.append(base | {"rater": f"{lang}-w{r}", "rater_kind": "human", "score": s})
            j = float(np.clip(np.rint(quality + judge_shift + rng.normal(0, noise)), 0, 2))
            rows.append(base | {"rater": "judge-x", "rater_kind": "judge", "score": j})
    return pd.DataFrame(rows)
