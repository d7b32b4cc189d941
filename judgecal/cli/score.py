"""`judgecal score`: judge model outputs with an LLM judge."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from judgecal.cli._common import add_levels_option
from judgecal.errors import ConfigError
from judgecal.judges.options import (
    BATCH_RETRY_MODES,
    DEFAULT_METRICS,
    LOGPROB_MODES,
    MODES,
    VARIANTS,
    BatchOptions,
    ScoringOptions,
    TransportOptions,
)

HELP = "judge model outputs with an LLM judge and write judge rows of the ratings table"

EXIT_WITH_FAILURES = 3  # the run finished, but some (item, metric) pairs have no score


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="generations: JSONL/CSV/TSV/JSON/Parquet with item_id, language, prompt, response "
                                 "(optional reference, task, system, prompt_id)")
    p.add_argument("--judge", required=True, help="openai/<model>, anthropic/<model> or litellm/<model>")
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                   help="comma-separated metric ids (default: %(default)s)")
    p.add_argument("--out", help="judge ratings file (format from the extension); required unless --dry-run")
    p.add_argument("--failures", help="failures file (default: <out>.failures<ext>)")
    p.add_argument("--summary", help="also write the run summary as JSON here")
    p.add_argument("--variant", choices=VARIANTS, default=ScoringOptions.variant, help="rubric variant")
    p.add_argument("--mode", choices=MODES, default=ScoringOptions.mode,
                   help="one call per metric, or one call for all metrics")
    p.add_argument("--task", help="task framing for rows without a task column (open_prompt, continue_writing, summarize, qa)")
    p.add_argument("--samples", type=int, default=ScoringOptions.samples,
                   help="answers per item and metric (default %(default)s)")
    p.add_argument("--temperature", type=float, help="default 0 for one sample, 0.7 for several")
    p.add_argument("--max-tokens", type=int, default=ScoringOptions.max_tokens, help="answer budget per metric")
    p.add_argument("--base-url", help="provider base URL (OpenAI-compatible local servers, proxies)")
    p.add_argument("--cache", help="SQLite judgment cache (default: the user cache folder)")
    p.add_argument("--concurrency", type=int, default=TransportOptions.concurrency,
                   help="requests in flight at once (default %(default)s)")
    p.add_argument("--workers", type=int, default=TransportOptions.workers,
                   help="processes (default %(default)s); more when one process's CPU cannot keep up (hundreds of calls "
                        "per second): with 2 the main process and one helper send half the calls each; with 3 "
                        "or more the helpers send and the main process coordinates")
    p.add_argument("--rpm", type=float, help="requests-per-minute limit")
    p.add_argument("--tpm", type=float, help="tokens-per-minute limit")
    p.add_argument("--max-attempts", type=int, default=TransportOptions.max_attempts, help="attempts per request on 429/5xx/timeouts")
    p.add_argument("--timeout", type=float, default=TransportOptions.timeout, help="seconds per request")
    p.add_argument("--retry-unparseable", type=int, default=ScoringOptions.retry_unparseable, help="re-ask this many times after a refused or unparseable answer")
    p.add_argument("--logprobs", choices=LOGPROB_MODES, default=ScoringOptions.logprobs,
                   help="score distributions from token logprobs: auto (where the provider returns them; the "
                        "output says where not), require (stop if it does not), off (default: auto)")
    p.add_argument("--no-structured", action="store_true", help="do not ask for structured (JSON schema) output")
    p.add_argument("--price-in", type=float, help="USD per million input tokens (if the model's price is unknown)")
    p.add_argument("--price-out", type=float, help="USD per million output tokens")
    p.add_argument("--prompts-dir", help="folder with extra or replacement metrics/ and tasks/ templates")
    p.add_argument("--metrics-file", help="JSON/TOML metric declarations for user-defined metrics")
    add_levels_option(p)
    p.add_argument("--format", choices=["csv", "tsv", "jsonl", "json", "parquet"],
                   help="format of the input file (default: from its extension)")
    p.add_argument("--encoding", default="utf-8", help="text encoding of a CSV/TSV/JSON input (default utf-8)")
    p.add_argument("--no-text", action="store_true", help="leave prompt/response text out of the output")
    p.add_argument("--seed", type=int, help="sampling seed passed to providers that accept one")
    p.add_argument("--dry-run", action="store_true", help="print what would be sent and its estimated cost; send nothing")
    p.add_argument("--batch", action="store_true",
                   help="send through the provider's batch API (openai/, anthropic/): cheaper, slower; "
                        "an interrupted run resumes its batches when run again")
    p.add_argument("--batch-retry", choices=BATCH_RETRY_MODES, default=BatchOptions.retry,
                   help="requests that failed inside a batch: retry live (default), in a new batch, or not")
    p.add_argument("--batch-poll", type=float, default=BatchOptions.poll_interval, help="first wait between batch status polls (s)")
    p.add_argument("--batch-poll-max", type=float, default=BatchOptions.poll_max, help="longest wait between polls (s)")
    p.add_argument("--batch-wait", type=float, help="stop waiting after this many seconds (re-run to collect)")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show a progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false")


def _failures_path(out: Path, given: str | None) -> Path:
    if given:
        return Path(given)
    return out.with_name(out.stem + ".failures" + out.suffix)


def run(args: argparse.Namespace) -> int:
    from judgecal._atomic import atomic_write_text
    from judgecal.data.io import write_ratings
    from judgecal.data.metrics import build_registry
    from judgecal.judges import score_generations

    if not args.dry_run and not args.out:
        raise ConfigError("--out is required (or use --dry-run)")
    if (args.price_in is None) != (args.price_out is None):
        raise ConfigError("give both --price-in and --price-out, or neither")
    registry = build_registry(args.metrics_file, args.levels)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if not metrics:
        raise ConfigError("--metrics is empty")
    if not args.dry_run:  # an output the writer cannot make must stop the run before anything is paid for
        from judgecal.data.io import FORMATS

        for flag, path in (("--out", Path(args.out)), ("--failures", _failures_path(Path(args.out), args.failures))):
            if path.suffix.lower() not in FORMATS:
                raise ConfigError(f"{flag} {path}: cannot tell the format from the extension {path.suffix!r}; "
                                  f"end the name with one of {', '.join(sorted(FORMATS))}")
    scoring = ScoringOptions(
        variant=args.variant, mode=args.mode, task=args.task, samples=args.samples, temperature=args.temperature,
        max_tokens=args.max_tokens, logprobs=args.logprobs, structured=not args.no_structured, seed=args.seed,
        retry_unparseable=args.retry_unparseable, prompts_dir=args.prompts_dir, registry=registry)
    transport = TransportOptions(
        base_url=args.base_url, concurrency=args.concurrency, workers=args.workers, rpm=args.rpm, tpm=args.tpm,
        max_attempts=args.max_attempts, timeout=args.timeout, batch=_batch_options(args))
    result = score_generations(
        args.input, args.judge, metrics, scoring=scoring, transport=transport, cache=args.cache,
        prices=(args.price_in, args.price_out) if args.price_in is not None else None,
        include_text=not args.no_text, progress="auto" if args.progress is None else args.progress,
        dry_run=args.dry_run, input_format=args.format, encoding=args.encoding,
    )
    s = result.summary
    if args.dry_run:
        ex = result.example or {}
        print("=== first request (system) ===\n" + ex.get("system", ""))
        print("=== first request (user) ===\n" + ex.get("user", ""))
        cost = "unknown (pass --price-in/--price-out)" if not s.price_known else f"${s.est_cost_usd:.4f}"
        print(f"=== dry run: {s.requests} requests, {s.cached} already cached, {s.to_send} to send; "
              f"about {s.est_tokens_in:,} input and {s.est_tokens_out:,} output tokens; estimated cost {cost}")
        return 0
    out = Path(args.out)
    write_ratings(result.ratings, out)
    fail_path = _failures_path(out, args.failures)
    write_ratings(result.failures, fail_path)
    if args.summary:
        atomic_write_text(args.summary, json.dumps(s.as_dict(), indent=2, default=str))
    known = s.price_known and not math.isnan(s.cost_usd)
    cost = f"${s.cost_usd:.4f}" if known else "unknown (pass --price-in/--price-out)"
    if s.cache_hits:  # say what this run paid for, not only what the answers cost when first bought
        cost += (f" (this run: tokens {s.tokens_in_sent:,} in / {s.tokens_out_sent:,} out"
                 + (f", ${s.cost_usd_sent:.4f}" if known else "") + "; the rest came from the cache)")
    print(f"judgecal score: {s.judgments} judgments -> {out}; {s.unscored} without a score; "
          f"{s.failures} failed answers -> {fail_path}; "
          f"{s.cache_hits} of {s.requests} requests from cache, {s.http_requests} sent, "
          f"{s.retries} retries; tokens {s.tokens_in:,} in / {s.tokens_out:,} out, failed answers "
          f"included; cost {cost}",
          file=sys.stderr)
    if s.batch is not None:
        from judgecal.judges.batch_state import describe_report

        print(describe_report(s.batch), file=sys.stderr)
    return EXIT_WITH_FAILURES if s.unscored else 0


def _batch_options(args: argparse.Namespace) -> BatchOptions | None:
    if not args.batch:
        return None
    return BatchOptions(retry=args.batch_retry, poll_interval=args.batch_poll, poll_max=args.batch_poll_max,
                        max_wait=args.batch_wait)
