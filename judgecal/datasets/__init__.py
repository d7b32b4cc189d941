"""Data sets: the PARIKSHA release (ratings and pairwise battles) and synthetic generators."""

from judgecal.datasets.fetch import fetch_pariksha
from judgecal.datasets.pariksha import JUDGE_ID as PARIKSHA_JUDGE_ID
from judgecal.datasets.pariksha import find_pariksha, load_pariksha
from judgecal.datasets.pariksha_battles import battle_counts, load_pariksha_battles
from judgecal.datasets.synthetic import make_judge_ratings
from judgecal.datasets.synthetic_battles import make_battles

__all__ = ["fetch_pariksha", "find_pariksha", "load_pariksha", "load_pariksha_battles", "battle_counts",
           "make_judge_ratings", "make_battles", "PARIKSHA_JUDGE_ID"]
