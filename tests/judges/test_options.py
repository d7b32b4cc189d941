"""Options objects of a scoring run: validation, keyword arguments, CLI defaults,
the typed summary, and each answer parsed once."""

from __future__ import annotations

import dataclasses
import json

import pytest

import judgecal.judges.plan as plan
from judgecal.cli import build_parser, main
from judgecal.errors import ConfigError
from judgecal.judges import (
    BatchOptions,
    PairingPlan,
    ScoringOptions,
    TransportOptions,
    score_generations,
)
from judgecal.judges.options import build_options

from .conftest import openai_url


@pytest.mark.parametrize("make, message", [
    (lambda: ScoringOptions(samples=0), "samples must be at least 1"),
    (lambda: ScoringOptions(samples=3, temperature=0), "several samples at temperature 0"),
    (lambda: ScoringOptions(logprobs="maybe"), "logprobs must be one of"),
    (lambda: ScoringOptions(variant="short"), "prompt variant must be one of"),
    (lambda: ScoringOptions(mode="pairs"), "mode must be one of"),
    (lambda: ScoringOptions(retry_unparseable=-1), "retry_unparseable must be at least 0"),
    (lambda: TransportOptions(workers=0), "workers must be at least 1"),
    (lambda: TransportOptions(workers=4, concurrency=2), r"workers \(4\) cannot exceed concurrency \(2\)"),
    (lambda: TransportOptions(rpm=0), "rpm must be above 0"),
    (lambda: TransportOptions(timeout=0), "timeout must be above 0"),
    (lambda: TransportOptions(batch="yes"), "batch must be None, True or BatchOptions"),
    (lambda: BatchOptions(retry="sometimes"), "batch retry must be one of"),
    (lambda: BatchOptions(poll_interval=5, poll_max=1), "poll_interval"),
])
def test_bad_options_are_config_errors(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_options_are_frozen_and_batch_is_normalised():
    t = TransportOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.concurrency = 3
    assert TransportOptions(batch=True).batch == BatchOptions()
    assert TransportOptions(batch=False).batch is None
    assert TransportOptions(batch={"retry": "none"}).batch == BatchOptions(retry="none")
    assert ScoringOptions().effective_temperature == 0.0
    assert ScoringOptions(samples=3).effective_temperature == 0.7
    assert ScoringOptions(samples=3, temperature=0.2).effective_temperature == 0.2


def test_keywords_apply_on_top_of_given_options_and_unknown_ones_are_type_errors():
    scoring, transport = build_options(ScoringOptions(samples=2), TransportOptions(concurrency=8),
                                       {"mode": "compound", "rpm": 60})
    assert (scoring.samples, scoring.mode, transport.concurrency, transport.rpm) == (2, "compound", 8, 60)
    with pytest.raises(TypeError, match="'concurency'"):
        build_options(None, None, {"concurency": 3})


def test_cli_flag_defaults_are_the_options_defaults():
    score = build_parser()._subparsers._group_actions[0].choices["score"]
    d = {a.dest: a.default for a in score._actions}
    s, t, b = ScoringOptions(), TransportOptions(), BatchOptions()
    assert (d["variant"], d["mode"], d["samples"], d["max_tokens"], d["logprobs"], d["retry_unparseable"]) == (
        s.variant, s.mode, s.samples, s.max_tokens, s.logprobs, s.retry_unparseable)
    assert (d["concurrency"], d["workers"], d["max_attempts"], d["timeout"]) == (
        t.concurrency, t.workers, t.max_attempts, t.timeout)
    assert (d["batch_retry"], d["batch_poll"], d["batch_poll_max"], d["batch_wait"]) == (
        b.retry, b.poll_interval, b.poll_max, b.max_wait)
    assert (d["pairing_seed"], d["no_swap"]) == (PairingPlan().seed, False)
    assert "(default 16)" in score.format_help() and "(default: la,tq,h)" in score.format_help()


SUMMARY_KEYS = ["judge", "items", "metrics", "judgments", "unscored", "failures", "requests", "cache_hits",
                "http_requests", "retries", "rate_limited", "failed_requests", "tokens_in", "tokens_out", "cost_usd",
                "tokens_in_sent", "tokens_out_sent", "cost_usd_sent", "price_known", "elapsed_s", "judgments_per_s",
                "answers_by_process"]


def test_cli_summary_json_keys_and_values_match_the_typed_summary(fake, gens, tmp_path):
    src = tmp_path / "gens.jsonl"
    gens.to_json(src, orient="records", lines=True, force_ascii=False)
    out = tmp_path / "summary.json"
    args = ["score", str(src), "--judge", "openai/fake-judge", "--base-url", openai_url(fake), "--metrics", "la,h",
            "--out", str(tmp_path / "o.jsonl"), "--cache", str(tmp_path / "c.sqlite"), "--summary", str(out),
            "--no-progress", "--price-in", "1", "--price-out", "2"]
    assert main(args) == 0
    written = json.loads(out.read_text())
    assert list(written) == SUMMARY_KEYS
    again = score_generations(gens, "openai/fake-judge", ["la", "h"], base_url=openai_url(fake),
                              cache=tmp_path / "c.sqlite", progress=False, prices=(1.0, 2.0)).summary
    assert again.as_dict()["tokens_in"] == written["tokens_in"] == again.tokens_in > 0
    assert (written["judgments"], written["items"], written["metrics"]) == (2 * len(gens), len(gens), ["la", "h"])
    assert again.batch is None and "batch" not in again.as_dict()


def test_each_answer_is_parsed_once(fake, gens, tmp_path, monkeypatch):
    calls = []
    real = plan.parse_judgment

    def counting(text, scales, **kw):
        calls.append(text)
        return real(text, scales, **kw)

    monkeypatch.setattr(plan, "parse_judgment", counting)
    fake.configure(rules=[{"fault": "garbage", "contains": "சென்னை", "times": 1}])
    res = score_generations(gens, "openai/fake-judge", ["la", "h"], base_url=openai_url(fake),
                            cache=tmp_path / "c.sqlite", retry_unparseable=1, progress=False)
    answers = len(res.ratings) + len(res.failures)  # one parse per answer, re-asks included
    assert len(res.failures) == 2 and len(res.ratings) == 2 * len(gens)
    assert len(calls) == answers
