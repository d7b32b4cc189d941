"""LLM judges: provider adapters, rubric prompts, the scoring engine.

Main entry point: :func:`score_generations` (``judgecal score`` on the command
line). Provider SDKs are imported only when a judge of that provider is used.
"""

from judgecal.judges.api import (
    ScoreResult,
    ascore_generations,
    default_cache_path,
    score_generations,
)
from judgecal.judges.base import (
    Completion,
    CompletionRequest,
    JudgeAdapter,
    make_adapter,
    parse_judge,
)
from judgecal.judges.cache import JudgmentCache
from judgecal.judges.generations import generations_from_ratings, read_generations
from judgecal.judges.templates import PromptLibrary

__all__ = [
    "Completion",
    "CompletionRequest",
    "JudgeAdapter",
    "JudgmentCache",
    "PromptLibrary",
    "ScoreResult",
    "ascore_generations",
    "default_cache_path",
    "generations_from_ratings",
    "make_adapter",
    "parse_judge",
    "read_generations",
    "score_generations",
]
