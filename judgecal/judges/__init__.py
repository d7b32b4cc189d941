"""LLM judges: provider adapters, rubric prompts, the scoring engine.

Main entry points: :func:`score_generations` (``judgecal score`` on the command
line) for pointwise scores and :func:`score_battles` (``judgecal score
--pairwise``) for pairwise verdicts, both with their options grouped in
:class:`ScoringOptions` (what the judge is asked, how answers are read) and
:class:`TransportOptions` (how requests reach the provider). Provider SDKs are imported only when a judge of that provider is
used. The names below load on first use, so that a judge worker process
(:mod:`judgecal.judges.workers`) starts without pandas and the prompt library.
"""

from __future__ import annotations

from judgecal._lazy import lazy_exports

_LAZY = {
    "ScoreResult": "judgecal.judges.api",
    "ascore_generations": "judgecal.judges.api",
    "default_cache_path": "judgecal.judges.api",
    "score_generations": "judgecal.judges.api",
    "Completion": "judgecal.judges.base",
    "CompletionRequest": "judgecal.judges.base",
    "JudgeAdapter": "judgecal.judges.base",
    "make_adapter": "judgecal.judges.base",
    "parse_judge": "judgecal.judges.base",
    "JudgmentCache": "judgecal.judges.cache",
    "generations_from_ratings": "judgecal.judges.generations",
    "read_generations": "judgecal.judges.generations",
    "BatchOptions": "judgecal.judges.options",
    "PairingPlan": "judgecal.judges.options",
    "ScoringOptions": "judgecal.judges.options",
    "TransportOptions": "judgecal.judges.options",
    "DryRunSummary": "judgecal.judges.run_summary",
    "RunSummary": "judgecal.judges.run_summary",
    "PromptLibrary": "judgecal.judges.templates",
    "BattleResult": "judgecal.judges.pairwise",
    "ascore_battles": "judgecal.judges.pairwise",
    "score_battles": "judgecal.judges.pairwise",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
