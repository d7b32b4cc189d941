"""Data sets: the PARIKSHA release and a synthetic generator."""

from judgecal.datasets.fetch import fetch_pariksha
from judgecal.datasets.pariksha import JUDGE_ID as PARIKSHA_JUDGE_ID
from judgecal.datasets.pariksha import find_pariksha, load_pariksha
from judgecal.datasets.synthetic import make_judge_ratings

__all__ = ["fetch_pariksha", "find_pariksha", "load_pariksha", "make_judge_ratings", "PARIKSHA_JUDGE_ID"]
