"""Bradley-Terry with ties plus 1,000 bootstrap resamples on 1M battles among 100 systems.

Prints (see bench/README.md, section "bt_speed.py"):

1. judgecal's Davidson fit (``DavidsonBT.fit``: checks, per-pair sufficient statistics, Newton);
2. 1,000 bootstrap resamples clustered by prompt, and 1,000 by battle;
3. for comparison on the same battles: a plain scipy fit (L-BFGS on the per-battle
   Davidson likelihood with its analytic gradient), a plain sklearn fit (logistic
   regression Bradley-Terry without ties, sparse design, ties dropped), and FastChat's
   ``compute_elo_mle_with_tie`` / ``get_bootstrap_result`` when the ``fschat``
   package imports (a few bootstrap rounds, extrapolated to 1,000).

Usage::

    python bench/bt_speed.py [--battles 1000000] [--systems 100] [--prompts 10000]
                             [--resamples 1000] [--fastchat-rounds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import optimize, sparse, stats

from judgecal.pairwise.leaderboard import DavidsonBT


def make_battles(n: int, m: int, n_prompts: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 1, m)
    theta -= theta.mean()
    i = rng.integers(m, size=n)
    j = (i + rng.integers(1, m, size=n)) % m
    d = theta[i] - theta[j]
    z = np.exp(d / 2) + np.exp(-d / 2) + 0.5
    cum = np.column_stack([np.exp(d / 2) / z, (np.exp(d / 2) + 0.5) / z])
    u = rng.random(n)
    outcome = (u > cum[:, 0]).astype(int) + (u > cum[:, 1]).astype(int)
    prompt = rng.integers(n_prompts, size=n)
    return theta, i, j, outcome, prompt


def scipy_davidson(i, j, outcome, m):
    """Per-battle Davidson NLL with analytic gradient, minimised by L-BFGS (system 0 anchored)."""
    y = np.eye(3)[outcome]

    def nll(p):
        theta = np.concatenate([[0.0], p[: m - 1]])
        nu = np.exp(p[-1])
        d = theta[i] - theta[j]
        z = np.exp(d / 2) + np.exp(-d / 2) + nu
        val = -(0.5 * d * (y[:, 0] - y[:, 2]) + y[:, 1] * p[-1] - np.log(z)).sum()
        g_d = -(0.5 * (y[:, 0] - y[:, 2]) - 0.5 * (np.exp(d / 2) - np.exp(-d / 2)) / z)
        g_theta = np.bincount(i, g_d, minlength=m) - np.bincount(j, g_d, minlength=m)
        g_phi = -(y[:, 1] - nu / z).sum()
        return val, np.concatenate([g_theta[1:], [g_phi]])

    res = optimize.minimize(nll, np.zeros(m), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    theta = np.concatenate([[0.0], res.x[: m - 1]])
    return theta - theta.mean(), res


def sklearn_bt(i, j, outcome, m):
    from sklearn.linear_model import LogisticRegression

    keep = outcome != 1
    n = int(keep.sum())
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([i[keep], j[keep]])
    x = sparse.csr_matrix((np.concatenate([np.ones(n), -np.ones(n)]), (rows, cols)), shape=(n, m))
    lr = LogisticRegression(fit_intercept=False, C=1e6, tol=1e-6, max_iter=1000).fit(x, outcome[keep] == 0)
    coef = lr.coef_[0]
    return coef - coef.mean()


def timed(label, fn):
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    print(f"{label:<62s} {dt:8.2f} s")
    return out, dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--battles", type=int, default=1_000_000)
    ap.add_argument("--systems", type=int, default=100)
    ap.add_argument("--prompts", type=int, default=10_000)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--fastchat-rounds", type=int, default=3)
    args = ap.parse_args()
    n, m = args.battles, args.systems
    theta, i, j, outcome, prompt = make_battles(n, m, args.prompts)
    print(f"{n:,} battles, {m} systems, {args.prompts:,} prompts, tie rate {np.mean(outcome == 1):.3f}")

    model, t_fit = timed("judgecal DavidsonBT.fit", lambda: DavidsonBT().fit(i, j, outcome, n_systems=m))
    boot_p, t_bp = timed(f"judgecal bootstrap, {args.resamples} resamples by prompt",
                         lambda: model.bootstrap(prompt, n_resamples=args.resamples))
    boot_b, t_bb = timed(f"judgecal bootstrap, {args.resamples} resamples by battle",
                         lambda: model.bootstrap(None, n_resamples=args.resamples))
    print(f"{'judgecal fit + bootstrap by prompt':<62s} {t_fit + t_bp:8.2f} s")
    print(f"  strengths vs truth: max |error| {np.abs(model.strengths_ - theta).max():.4f}; "
          f"bootstrap sd (median) by prompt {np.median(boot_p.std(axis=0)):.4f}, by battle "
          f"{np.median(boot_b.std(axis=0)):.4f}, model-based se {np.median(model.se_):.4f}")

    (sp_theta, res), _ = timed("scipy L-BFGS on the per-battle Davidson likelihood (one fit)",
                               lambda: scipy_davidson(i, j, outcome, m))
    print(f"  scipy vs judgecal: max |strength difference| {np.abs(sp_theta - model.strengths_).max():.2e} "
          f"({res.nit} iterations, {res.message})")
    sk_theta, _ = timed("sklearn LogisticRegression BT, ties dropped (one fit)", lambda: sklearn_bt(i, j, outcome, m))
    print(f"  sklearn (no ties) vs judgecal: Kendall tau {stats.kendalltau(sk_theta, model.strengths_).statistic:.4f}")

    try:
        from fastchat.serve.monitor.elo_analysis import (
            compute_elo_mle_with_tie,
            get_bootstrap_result,
        )
    except Exception as exc:  # report why FastChat could not be compared, then stop
        print(f"FastChat not compared: {type(exc).__name__}: {exc}")
        return
    names = np.array([f"m{k:03d}" for k in range(m)])
    frame = pd.DataFrame({"model_a": names[i], "model_b": names[j],
                          "winner": np.array(["model_a", "tie", "model_b"])[outcome]})
    elo, t_fc = timed("FastChat compute_elo_mle_with_tie (one fit)", lambda: compute_elo_mle_with_tie(frame))
    fc = elo.reindex(names).to_numpy()
    print(f"  FastChat vs judgecal: Kendall tau {stats.kendalltau(fc, model.strengths_).statistic:.4f}")
    rounds = args.fastchat_rounds
    _, t_fb = timed(f"FastChat get_bootstrap_result, {rounds} rounds",
                    lambda: get_bootstrap_result(frame, compute_elo_mle_with_tie, num_round=rounds))
    print(f"{'FastChat bootstrap extrapolated to ' + str(args.resamples) + ' rounds':<62s} "
          f"{t_fb / rounds * args.resamples:8.0f} s")


if __name__ == "__main__":
    main()
