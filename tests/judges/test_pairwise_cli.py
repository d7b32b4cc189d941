"""`judgecal score --pairwise` on the command line, resuming after SIGKILL, the
batch APIs, and PARIKSHA's pairs judged end to end beside the natives' votes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pandas as pd
import pytest

from judgecal.cli import main
from judgecal.judges.pairwise import score_battles
from judgecal.pairwise.io import read_battles

from .conftest import openai_url
from .fake_batch import FakeBatchProvider
from .test_pairwise_inputs import _gens
from .test_pairwise_scoring import _pairs


def _write(df, path):
    df.to_json(path, orient="records", lines=True, force_ascii=False)
    return str(path)


def _args(fake, tmp_path, src, *extra):
    return ["score", "--pairwise", src, "--judge", "openai/fake-judge", "--base-url", openai_url(fake),
            "--cache", str(tmp_path / "c.sqlite"), "--no-progress", *extra]


def test_cli_pairs_file_writes_battles_pairs_and_failures(fake, tmp_path, capsys):
    src = _write(_pairs(), tmp_path / "pairs.jsonl")
    fake.configure(rules=[{"fault": "garbage", "contains": "FAKE_POSITIONAL"}])
    out = tmp_path / "battles.csv"
    code = main(_args(fake, tmp_path, src, "--out", str(out), "--summary", str(tmp_path / "s.json")))
    assert code == 3  # finished, with orders that have no verdict
    battles = read_battles(out, check_texts=False)  # the battles-table reader accepts it
    assert len(battles) == 8 and set(battles["shown"]) == {"12", "21"}
    pairs = pd.read_csv(tmp_path / "battles.pairs.csv")
    assert len(pairs) == 4 and set(pairs.columns) >= {"outcome_12", "outcome_21", "outcome", "flipped"}
    fails = pd.read_csv(tmp_path / "battles.failures.csv")
    assert len(fails) == 2 and set(fails["kind"]) == {"unparseable"} and fails["raw_text"].notna().all()
    err = capsys.readouterr().err
    assert "8 battle verdicts (5 pairs x 2 order(s))" in err and "2 orders without a verdict" in err


def test_cli_pairing_from_generations_and_no_swap(fake, tmp_path, capsys):
    src = _write(_gens(n_prompts=2), tmp_path / "gens.jsonl")
    out = tmp_path / "b.jsonl"
    code = main(_args(fake, tmp_path, src, "--pairing", "anchors", "--anchors", "alpha", "--no-swap",
                      "--out", str(out)))
    assert code == 0
    battles = pd.read_json(out, lines=True, dtype=False)
    assert len(battles) == 6 and set(battles["shown"].astype(str)) == {"12"}
    assert "pairing anchors: 6 pairs over 2 prompts and 4 systems" in capsys.readouterr().err


def test_cli_summary_dry_run_and_no_text(fake, tmp_path, capsys):
    src = _write(_gens(n_prompts=2), tmp_path / "gens.jsonl")
    assert main(_args(fake, tmp_path, src, "--pairing", "all", "--dry-run")) == 0
    printed = capsys.readouterr().out
    assert "=== dry run: 24 requests, 0 already cached, 24 to send" in printed and "<<<SECOND RESPONSE" in printed
    assert fake.stats()["requests"] == 0
    out = tmp_path / "b.parquet"
    assert main(_args(fake, tmp_path, src, "--pairing", "random", "--opponents", "1", "--pairing-seed", "3",
                      "--out", str(out), "--summary", str(tmp_path / "s.json"), "--no-text")) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["pairing"]["plan"] == "random" and summary["pairing"]["prompts"] == 2
    assert summary["judgments"] == 2 * summary["items"] == 2 * summary["pairing"]["pairs"]
    battles = pd.read_parquet(out)
    assert not {"prompt", "response_1", "response_2"} & set(battles.columns)
    assert {"item_id_1", "item_id_2", "system_1", "system_2"} <= set(battles.columns)


@pytest.mark.parametrize("extra, match", [
    (["--pairing", "all"], "only apply with --pairwise"), (["--no-swap"], "only apply with --pairwise")])
def test_cli_pairwise_flags_need_pairwise(fake, tmp_path, capsys, extra, match):
    src = _write(_gens(n_prompts=1), tmp_path / "gens.jsonl")
    args = ["score", src, "--judge", "openai/fake-judge", "--base-url", openai_url(fake), "--out",
            str(tmp_path / "o.jsonl"), *extra]
    assert main(args) != 0 and match in capsys.readouterr().err
    assert fake.stats()["requests"] == 0


@pytest.mark.parametrize("extra, match", [(["--metrics", "la"], "do not apply with --pairwise"),
                                          (["--opponents", "2"], "need --pairing")])
def test_cli_flags_that_do_not_apply_to_pairwise(fake, tmp_path, capsys, extra, match):
    src = _write(_pairs(), tmp_path / "pairs.jsonl")
    assert main(_args(fake, tmp_path, src, "--out", str(tmp_path / "o.jsonl"), *extra)) != 0
    assert match in capsys.readouterr().err and fake.stats()["requests"] == 0


N_PAIRS = 20
CONCURRENCY = 4


def test_sigkill_halfway_then_resume(fake, tmp_path):
    long = "यह एक लंबा उत्तर है जिसमें कई शब्द हैं"
    pairs = pd.DataFrame({"pair_id": [f"k{i}" for i in range(N_PAIRS)], "language": "hi", "task": "qa",
                          "prompt": [f"सवाल {i}?" for i in range(N_PAIRS)], "response_1": long,
                          "response_2": [f"जवाब {'क' * i}" for i in range(N_PAIRS)]})
    src = _write(pairs, tmp_path / "pairs.jsonl")
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "judgecal", *_args(fake, tmp_path, src, "--out", str(out), "--concurrency",
                                                   str(CONCURRENCY))]
    fake.configure(latency=0.25)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while sum(fake.stats()["answered"].values()) < N_PAIRS:  # half of the 2 x N_PAIRS orders
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "the run made no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    before = Counter(fake.stats()["received"])
    answered = set(fake.stats()["answered"])
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    after = Counter(fake.stats()["received"]) - before
    # Answers that reached the cache are not paid again; only calls in flight at the kill may repeat.
    assert len(set(after) & answered) <= CONCURRENCY
    assert len(set(after) | set(before)) == 2 * N_PAIRS
    battles = pd.read_json(out, lines=True, dtype=False)
    assert len(battles) == 2 * N_PAIRS
    clean = score_battles(pairs, "openai/fake-judge", base_url=openai_url(fake), cache=tmp_path / "clean.sqlite",
                          progress=False)
    key = ["pair_id", "shown", "verdict"]
    got = battles.assign(shown=battles["shown"].astype(str))[key].sort_values(key[:2]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, clean.battles[key].sort_values(key[:2]).reset_index(drop=True))


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_batch_api_gives_the_live_verdicts(provider, tmp_path):
    with FakeBatchProvider(batch_delay=0.2) as server:
        url = server.base_url + ("/v1" if provider == "openai" else "")
        judge = f"{provider}/fake-judge"
        live = score_battles(_pairs(), judge, base_url=url, cache=tmp_path / "live.sqlite", progress=False)
        batched = score_battles(_pairs(), judge, base_url=url, cache=tmp_path / "batch.sqlite", progress=False,
                                batch={"poll_interval": 0.05, "poll_max": 0.2})
        assert server.batch_stats()[f"{provider}_batches_created"] == 1
        again = score_battles(_pairs(), judge, base_url=url, cache=tmp_path / "batch.sqlite", progress=False,
                              batch={"poll_interval": 0.05, "poll_max": 0.2})
        assert server.batch_stats()[f"{provider}_batches_created"] == 1  # all from the cache
    key = ["pair_id", "shown", "verdict", "verdict_probs"]
    pd.testing.assert_frame_equal(batched.battles[key], live.battles[key])
    assert batched.summary.batch is not None and again.battles["cached"].all()


def test_pariksha_pairs_judged_beside_the_natives(fake, pariksha_path, tmp_path):
    from judgecal.data.battle_verdicts import human_majority, human_votes
    from judgecal.data.battles import normalize_battles
    from judgecal.datasets import load_pariksha_battles

    table = load_pariksha_battles(pariksha_path, include=("human",))
    with_text = table[table["response_1"].notna() & table["response_2"].notna() & table["prompt"].notna()]
    pairs = with_text.drop_duplicates("pair_id").groupby("language", group_keys=False).head(4)
    assert pairs["language"].nunique() == 10
    res = score_battles(pairs.drop(columns=[c for c in ("rater", "verdict") if c in pairs]), "openai/fake-judge",
                        task="open_prompt", base_url=openai_url(fake), cache=tmp_path / "c.sqlite", concurrency=16,
                        progress=False, check_texts=False)
    assert res.failures.empty and len(res.battles) == 2 * len(pairs)
    # Judge rows and the natives' votes form one battles table, by the contract.
    votes = with_text[with_text["pair_id"].isin(set(pairs["pair_id"]))]
    both = normalize_battles(pd.concat([votes, res.battles], ignore_index=True), check_texts=False).table
    assert set(both["rater_kind"]) == {"human", "judge"}
    majority = human_majority(human_votes(both))
    judged = res.pairs.set_index("pair_id")["outcome"]
    common = majority.dropna().index.intersection(judged.index)
    assert len(common) > 0 and set(judged[common]) <= {0, 1, 2}
    # The natives' votes table itself (several rows per pair) is a valid input: each pair judged once, from the cache.
    sent = fake.stats()["requests"]
    again = score_battles(votes, "openai/fake-judge", task="open_prompt", base_url=openai_url(fake),
                          cache=tmp_path / "c.sqlite", progress=False, check_texts=False)
    assert fake.stats()["requests"] == sent and again.summary.cache_hits == again.summary.requests
    key = ["pair_id", "shown", "verdict"]
    pd.testing.assert_frame_equal(again.battles[key], res.battles[key])


def test_cli_pairing_problems_name_the_files_rows(fake, tmp_path, capsys):
    gens = _gens(n_prompts=1)
    gens.loc[2, "system"] = "alpha"  # the 3rd record answers q0 as alpha again: CSV row 4 (the header is row 1)
    src = tmp_path / "gens.csv"
    gens.to_csv(src, index=False)
    assert main(_args(fake, tmp_path, str(src), "--pairing", "all", "--out", str(tmp_path / "o.jsonl"))) == 1
    err = capsys.readouterr().err
    assert f"{src}, row 4, column 'system': this prompt already has a response from this system" in err
    assert fake.stats()["requests"] == 0
