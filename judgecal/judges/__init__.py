"""LLM judges: provider adapters, rubric prompts, the scoring engine.

Main entry point: :func:`score_generations` (``judgecal score`` on the command
line). Provider SDKs are imported only when a judge of that provider is used.
The names below load on first use, so that a judge worker process
(:mod:`judgecal.judges.workers`) starts without pandas and the prompt library.
"""

from __future__ import annotations

import importlib

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
    "PromptLibrary": "judgecal.judges.templates",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'judgecal.judges' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
