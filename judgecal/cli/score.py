"""`judgecal score`: judge model outputs with an LLM judge."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from judgecal._atomic import atomic_write_text
from judgecal.cli._common import add_levels_option
from judgecal.errors import ConfigError
from judgecal.judges.options import (
    BATCH_RETRY_MODES,
    DEFAULT_METRICS,
    LOGPROB_MODES,
    MODES,
    PAIRINGS,
    VARIANTS,
    BatchOptions,
    PairingPlan,
    ScoringOptions,
    TransportOptions,
)

HELP = "judge model outputs with an LLM judge and write judge rows of the ratings table"

EXIT_WITH_FAILURES = 3  # the run finished, but some (item, metric) pairs have no score


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="generations: JSONL/CSV/TSV/JSON/Parquet with item_id, language, prompt, response "
                                 "(optional reference, task, system, prompt_id)")
    p.add_argument("--judge", required=True, help="openai/<model>, anthropic/<model> or litellm/<model>")
    p.add_argument("--metrics", help="comma-separated metric ids, not with --pairwise "
                                      f"(default: {','.join(DEFAULT_METRICS)})")
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
    pw = p.add_argument_group("pairwise battles (--pairwise; docs/pairwise.md)")
    pw.add_argument("--pairwise", action="store_true",
                    help="judge pairs of responses: the input is a pairs table (pair_id, language, prompt, response_1, "
                         "response_2, optional system_1/system_2/prompt_id/task), or generations with --pairing; "
                         "--out gets one battles row per pair and order shown")
    pw.add_argument("--pairing", choices=PAIRINGS,
                    help="build pairs from a generations input (one response per prompt and system): all pairs of "
                         "systems per prompt, random opponents per system and prompt, or against anchor systems")
    pw.add_argument("--opponents", type=int, help="with --pairing random: opponents per system and prompt")
    pw.add_argument("--anchors", help="with --pairing anchors: comma-separated anchor systems")
    pw.add_argument("--pairing-seed", type=int, default=PairingPlan.seed,
                    help="seed of the random opponents and of which response is shown first (default %(default)s)")
    pw.add_argument("--no-swap", action="store_true", help="judge each pair in one order only (default: both orders)")
    pw.add_argument("--pairs-out", help="per-pair verdicts, each order's and combined (default: <out>.pairs<ext>)")
    pw.add_argument("--no-check-texts", action="store_true",
                    help="accept responses written in another script than their row's language")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show a progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false")


def _side_path(out: Path, given: str | None, kind: str) -> Path:
    """An output beside ``--out``: the path given, else <out>.<kind><ext>."""
    if given:
        return Path(given)
    return out.with_name(out.stem + f".{kind}" + out.suffix)


def _check_output_paths(paths: list[tuple[str, Path]]) -> None:
    """An output the writer cannot make must stop the run before anything is paid for."""
    from judgecal.data.io import FORMATS

    for flag, path in paths:
        if path.suffix.lower() not in FORMATS:
            raise ConfigError(f"{flag} {path}: cannot tell the format from the extension {path.suffix!r}; "
                              f"end the name with one of {', '.join(sorted(FORMATS))}")


def _options(args: argparse.Namespace, registry=None) -> tuple[ScoringOptions, TransportOptions]:
    scoring = ScoringOptions(
        variant=args.variant, mode=args.mode, task=args.task, samples=args.samples, temperature=args.temperature,
        max_tokens=args.max_tokens, logprobs=args.logprobs, structured=not args.no_structured, seed=args.seed,
        retry_unparseable=args.retry_unparseable, prompts_dir=args.prompts_dir, registry=registry)
    transport = TransportOptions(
        base_url=args.base_url, concurrency=args.concurrency, workers=args.workers, rpm=args.rpm, tpm=args.tpm,
        max_attempts=args.max_attempts, timeout=args.timeout, batch=_batch_options(args))
    return scoring, transport


def _pairing_flags_alone(args: argparse.Namespace) -> list[str]:
    """Pairwise flags given without --pairwise (they would be ignored)."""
    given = [("--pairing", args.pairing is not None), ("--opponents", args.opponents is not None),
             ("--anchors", args.anchors is not None), ("--pairing-seed", args.pairing_seed != PairingPlan.seed),
             ("--no-swap", args.no_swap), ("--pairs-out", args.pairs_out is not None),
             ("--no-check-texts", args.no_check_texts)]
    return [flag for flag, on in given if on]


def run(args: argparse.Namespace) -> int:
    from judgecal.data.io import write_ratings
    from judgecal.data.metrics import build_registry
    from judgecal.judges import score_generations

    if not args.dry_run and not args.out:
        raise ConfigError("--out is required (or use --dry-run)")
    if (args.price_in is None) != (args.price_out is None):
        raise ConfigError("give both --price-in and --price-out, or neither")
    if args.pairwise:
        return run_pairwise(args)
    alone = _pairing_flags_alone(args)
    if alone:
        raise ConfigError(f"{', '.join(alone)} only apply with --pairwise")
    registry = build_registry(args.metrics_file, args.levels)
    metrics = [m.strip() for m in (args.metrics or ",".join(DEFAULT_METRICS)).split(",") if m.strip()]
    if not metrics:
        raise ConfigError("--metrics is empty")
    if not args.dry_run:
        _check_output_paths([("--out", Path(args.out)),
                             ("--failures", _side_path(Path(args.out), args.failures, "failures"))])
    scoring, transport = _options(args, registry)
    result = score_generations(
        args.input, args.judge, metrics, scoring=scoring, transport=transport, cache=args.cache,
        prices=(args.price_in, args.price_out) if args.price_in is not None else None,
        include_text=not args.no_text, progress="auto" if args.progress is None else args.progress,
        dry_run=args.dry_run, input_format=args.format, encoding=args.encoding,
    )
    s = result.summary
    if args.dry_run:
        print_dry_run(result.example, s)
        return 0
    out = Path(args.out)
    write_ratings(result.ratings, out)
    fail_path = _side_path(out, args.failures, "failures")
    write_ratings(result.failures, fail_path)
    write_summary(args.summary, s)
    print(f"judgecal score: {s.judgments} judgments -> {out}; {s.unscored} without a score; "
          f"{s.failures} failed answers -> {fail_path}; " + usage_line(s), file=sys.stderr)
    if s.batch is not None:
        from judgecal.judges.batch_state import describe_report

        print(describe_report(s.batch), file=sys.stderr)
    return EXIT_WITH_FAILURES if s.unscored else 0


def print_dry_run(example: dict | None, s) -> None:
    ex = example or {}
    print("=== first request (system) ===\n" + ex.get("system", ""))
    print("=== first request (user) ===\n" + ex.get("user", ""))
    cost = "unknown (pass --price-in/--price-out)" if not s.price_known else f"${s.est_cost_usd:.4f}"
    print(f"=== dry run: {s.requests} requests, {s.cached} already cached, {s.to_send} to send; "
          f"about {s.est_tokens_in:,} input and {s.est_tokens_out:,} output tokens; estimated cost {cost}")


def write_summary(path: str | None, s, extra: dict | None = None) -> None:
    """The run summary as JSON (``--summary``), with ``extra`` keys (the pairing report) added."""
    if path:
        atomic_write_text(path, json.dumps({**s.as_dict(), **(extra or {})}, indent=2, default=str))


def usage_line(s) -> str:
    """Cache hits, requests, retries, tokens and cost of a run (RunSummary)."""
    known = s.price_known and not math.isnan(s.cost_usd)
    cost = f"${s.cost_usd:.4f}" if known else "unknown (pass --price-in/--price-out)"
    if s.cache_hits:  # say what this run paid for, not only what the answers cost when first bought
        cost += (f" (this run: tokens {s.tokens_in_sent:,} in / {s.tokens_out_sent:,} out"
                 + (f", ${s.cost_usd_sent:.4f}" if known else "") + "; the rest came from the cache)")
    return (f"{s.cache_hits} of {s.requests} requests from cache, {s.http_requests} sent, "
            f"{s.retries} retries; tokens {s.tokens_in:,} in / {s.tokens_out:,} out, failed answers "
            f"included; cost {cost}")


def _batch_options(args: argparse.Namespace) -> BatchOptions | None:
    if not args.batch:
        return None
    return BatchOptions(retry=args.batch_retry, poll_interval=args.batch_poll, poll_max=args.batch_poll_max,
                        max_wait=args.batch_wait)


def _pairing(args: argparse.Namespace) -> PairingPlan | None:

    if args.pairing is None:
        stray = [f for f, on in (("--opponents", args.opponents is not None), ("--anchors", args.anchors is not None),
                                 ("--pairing-seed", args.pairing_seed != PairingPlan.seed)) if on]
        if stray:
            raise ConfigError(f"{', '.join(stray)} need --pairing (the input is read as a pairs table without it)")
        return None
    anchors = tuple(a.strip() for a in (args.anchors or "").split(",") if a.strip())
    return PairingPlan(args.pairing, opponents=args.opponents, anchors=anchors, seed=args.pairing_seed)


def run_pairwise(args: argparse.Namespace) -> int:
    from judgecal.judges.pairwise import score_battles
    from judgecal.pairwise.io import write_battles

    if args.metrics or args.metrics_file:
        raise ConfigError("--metrics and --metrics-file do not apply with --pairwise (one verdict per pair and order)")
    pairing = _pairing(args)
    out = Path(args.out) if args.out else None
    if out is not None and not args.dry_run:
        _check_output_paths([("--out", out), ("--pairs-out", _side_path(out, args.pairs_out, "pairs")),
                             ("--failures", _side_path(out, args.failures, "failures"))])
    scoring, transport = _options(args)
    result = score_battles(
        args.input, args.judge, pairing=pairing, swap=not args.no_swap, check_texts=not args.no_check_texts,
        scoring=scoring, transport=transport, cache=args.cache,
        prices=(args.price_in, args.price_out) if args.price_in is not None else None,
        include_text=not args.no_text, progress="auto" if args.progress is None else args.progress,
        dry_run=args.dry_run, input_format=args.format, encoding=args.encoding)
    s = result.summary
    if result.pairing is not None:
        p = result.pairing
        print(f"pairing {p.plan}: {p.pairs} pairs over {p.prompts} prompts and {p.systems} systems"
              + (f"; {len(p.single_system_prompts)} prompt(s) with one system (no pair)" if p.single_system_prompts else "")
              + "".join(f"; anchor {a} has no response on {n} prompt(s)" for a, n in p.missing_anchor.items()),
              file=sys.stderr)
    if args.dry_run:
        print_dry_run(result.example, s)
        return 0
    write_battles(result.battles, out)
    pairs_path = _side_path(out, args.pairs_out, "pairs")
    write_battles(result.pairs, pairs_path)
    fail_path = _side_path(out, args.failures, "failures")
    write_battles(result.failures, fail_path)
    write_summary(args.summary, s, {"pairing": result.pairing.as_dict()} if result.pairing is not None else None)
    print(f"judgecal score --pairwise: {s.judgments} battle verdicts ({s.items} pairs x {len(s.metrics)} order(s)) "
          f"-> {out}; {len(result.pairs)} pairs -> {pairs_path}; {s.unscored} orders without a verdict; "
          f"{s.failures} failed answers -> {fail_path}; " + usage_line(s), file=sys.stderr)
    if s.batch is not None:
        from judgecal.judges.batch_state import describe_report

        print(describe_report(s.batch), file=sys.stderr)
    return EXIT_WITH_FAILURES if s.unscored else 0
