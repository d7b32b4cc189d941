"""Client-side rate limits keep a provider's own limit from answering 429."""

from __future__ import annotations

import pandas as pd

from judgecal.judges import score_generations

from .conftest import openai_url


def _gens(n):
    return pd.DataFrame({"item_id": [f"r{i}" for i in range(n)], "language": "ta", "task": "open_prompt",
                         "prompt": "கவிதை எழுது", "response": [f"வரி {i}" for i in range(n)]})


def test_rpm_limit_prevents_429_from_a_limited_provider(fake, tmp_path):
    rpm, n = 1200.0, 50  # 20 requests a second
    fake.configure(rpm=rpm)  # the fake refills continuously and holds one second's worth
    res = score_generations(_gens(n), "openai/fake-judge", ["la"], base_url=openai_url(fake), rpm=rpm,
                            concurrency=32, cache=tmp_path / "c.sqlite", progress=False)
    st = fake.stats()
    assert len(res.ratings) == n and st["status"].get("429", 0) == 0
    times = sorted(t for t, _, o in st["events"] if o == "200")
    # Never faster than the limit (a lower bound on the span: a rate check, not a speed check).
    assert times[-1] - times[0] >= (n - 1) * 60.0 / rpm * 0.95


def test_without_client_limit_the_provider_limit_is_hit_and_recovered(fake, tmp_path):
    fake.configure(rpm=600.0, rpm_burst=2)
    res = score_generations(_gens(30), "openai/fake-judge", ["la"], base_url=openai_url(fake),
                            concurrency=16, cache=tmp_path / "c.sqlite", progress=False, max_attempts=20)
    assert len(res.ratings) == 30 and res.failures.empty
    assert fake.stats()["status"].get("429", 0) > 0 and res.summary.rate_limited > 0


def test_tpm_limit_paces_by_estimated_tokens(fake, tmp_path):
    n = 12
    res = score_generations(_gens(n), "openai/fake-judge", ["la"], base_url=openai_url(fake),
                            tpm=60_000, max_tokens=400, concurrency=8, cache=tmp_path / "c.sqlite", progress=False)
    assert len(res.ratings) == n
    times = sorted(t for t, _, o in fake.stats()["events"] if o == "200")
    # each request is estimated at > 400 tokens, so 60k tokens/min allows < 150 requests/min
    assert times[-1] - times[0] >= (n - 1) * 400 * 60.0 / 60_000 * 0.95


def test_progress_bar_shows_cache_hits_and_failures(fake, tmp_path, capsys):
    fake.configure(rules=[{"fault": "garbage", "contains": "வரி 3"}])
    kw = dict(base_url=openai_url(fake), cache=tmp_path / "c.sqlite", progress=True)
    score_generations(_gens(5), "openai/fake-judge", ["la"], **kw)
    score_generations(_gens(8), "openai/fake-judge", ["la"], **kw)
    err = capsys.readouterr().err
    assert "openai/fake-judge" in err and "cached=5" in err and "it/s" in err or "call/s" in err
