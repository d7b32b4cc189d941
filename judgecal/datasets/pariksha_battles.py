"""PARIKSHA's pairwise release as a battles table (see docs/pairwise.md).

Three parts, joined by ``pairing_id``:

- native votes, ``karya_eval/round1/pairwise/<language>_pairwise_ratings.tsv``,
  about 3 per pair; ``battle_outcome`` 0 = the first response (A) is better,
  1 = the second (B), 2 = tie (checked against the judge's verdicts: with this
  reading judge and natives agree on 60-80 % of pairs, with 1 and 2 read the
  other way round on far fewer);
- the GPT judge's verdict per pair,
  ``gpt_eval/outputs/round1/pairwise/battle_outcomes_<language>.json``: ``A``,
  ``B``, ``C`` = tie, with its justification;
- pair metadata (prompt, both systems and responses) for about a quarter of
  each language's pairs in ``pairings/round1/new_karya_eval/<language>/*.json``,
  and for every Punjabi pair in ``pairings/round1/llm_eval/punjabi_pairings.json``.

Natives and the judge both saw response1 first, so every row has ``shown = 12``.
Pairs without metadata keep their language and verdicts (agreement and
calibration use them) but have no systems (leaderboards cannot).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from judgecal.data.battles import normalize_battles
from judgecal.datasets.pariksha import JUDGE_ID, LANGUAGES, _read_json, find_pariksha
from judgecal.errors import DatasetError

HUMAN_DIR = "karya_eval/round1/pairwise"
JUDGE_DIR = "gpt_eval/outputs/round1/pairwise"
PAIRINGS_DIRS = ("pairings/round1/new_karya_eval", "pairings/round1/llm_eval")
HUMAN_CODES = {"0": "first", "1": "second", "2": "tie"}
JUDGE_CODES = {"A": "first", "B": "second", "C": "tie"}
TASK = "qa"
_NO_REASON = {"", "none", "nan"}


def pariksha_battle_files(root: Path, lang: str) -> list[Path]:
    """Every file the loader reads for one language (votes, verdicts, pair metadata)."""
    files = [root / HUMAN_DIR / f"{lang}_pairwise_ratings.tsv", root / JUDGE_DIR / f"battle_outcomes_{lang}.json"]
    files += sorted((root / PAIRINGS_DIRS[0] / lang).glob(f"{lang}_pairings_*.json"))
    llm = root / PAIRINGS_DIRS[1] / f"{lang}_pairings.json"
    return files + ([llm] if llm.exists() else [])


def load_pariksha_battles(
    path: str | os.PathLike | None = None,
    *,
    languages: tuple[str, ...] | None = None,
    include: tuple[str, ...] = ("human", "judge"),
) -> pd.DataFrame:
    """Load PARIKSHA's pairwise battles as one battles table.

    Returns one row per vote: pair_id (PARIKSHA's pairing_id), language, script,
    prompt_id, system_1/system_2 and prompt/response_1/response_2 where the pair
    metadata has them (else empty), rater (Karya worker id, or
    :data:`~judgecal.datasets.pariksha.JUDGE_ID`), rater_kind, shown = ``12``,
    verdict (first/tie/second), justification, has_systems, source (file:row).
    The responses are not script-checked here: some systems answered in English
    or Hindi, which is a property of the system the natives judged, not bad
    input; :func:`judgecal.data.battles.response_findings` counts them.
    """
    root = find_pariksha(path)
    if root is None:
        where = path if path is not None else "any default location"
        raise DatasetError(f"PARIKSHA release not found at {where}. Pass its folder, set JUDGECAL_PARIKSHA, "
                           "or download it with `judgecal fetch-pariksha`.")
    langs = tuple(languages or LANGUAGES)
    unknown = sorted(set(langs) - set(LANGUAGES))
    if unknown:
        raise DatasetError(f"unknown PARIKSHA language(s) {unknown}; choose from {LANGUAGES}")
    if not set(include) & {"human", "judge"}:
        raise DatasetError("include must name 'human' and/or 'judge'")
    parts = []
    for lang in langs:
        meta = _read_pairings(root, lang)
        if "human" in include:
            parts.append(_read_votes(root, lang, meta))
        if "judge" in include:
            parts.append(_read_verdicts(root, lang, meta))
    df = pd.concat(parts, ignore_index=True)
    return normalize_battles(df, source=str(root), check_texts=False).table


def battle_counts(battles: pd.DataFrame) -> pd.DataFrame:
    """Per language: pairs, pairs with systems (usable for leaderboards) and
    without, native votes and judge verdicts."""
    pairs = battles.drop_duplicates("pair_id")
    out = pd.DataFrame({
        "pairs": pairs.groupby("language").size(),
        "with_systems": pairs.groupby("language")["has_systems"].sum().astype(int),
        "human_votes": battles[battles["rater_kind"] == "human"].groupby("language").size(),
        "judge_verdicts": battles[battles["rater_kind"] == "judge"].groupby("language").size(),
    }).fillna(0).astype(int)
    out.insert(2, "without_systems", out["pairs"] - out["with_systems"])
    return out.reset_index()


def _read_json_list(file: Path) -> list[dict]:
    return _read_json(file, key="pairing_id")


def _read_pairings(root: Path, lang: str) -> dict[str, dict]:
    """pairing_id -> pair metadata; a pair listed twice must be listed the same way."""
    meta: dict[str, dict] = {}
    for file in pariksha_battle_files(root, lang)[2:]:
        for number, rec in enumerate(_read_json_list(file), start=1):
            missing = {"prompt_id", "model1", "model2", "response1", "response2"} - set(rec)
            if missing:
                raise DatasetError(f"PARIKSHA file {file} record {number} lacks {sorted(missing)}")
            entry = {
                "prompt_id": rec["prompt_id"], "prompt": rec.get("prompt"),
                "system_1": rec["model1"], "system_2": rec["model2"],
                "response_1": rec["response1"], "response_2": rec["response2"],
            }
            old = meta.get(rec["pairing_id"])
            if old is not None and old != entry:
                raise DatasetError(f"PARIKSHA pairing {rec['pairing_id']} is described differently in two files "
                                   f"(second time in {file} record {number})")
            meta[rec["pairing_id"]] = entry
    return meta


def _row(pid: str, lang: str, meta: dict, rater: str, kind: str, verdict: str, reason, source: str) -> dict:
    info = meta.get(pid)
    row = {"pair_id": pid, "language": lang, "rater": rater, "rater_kind": kind, "shown": "12",
           "verdict": verdict, "justification": reason, "task": TASK, "has_systems": info is not None,
           "source": source}
    for col in ("prompt_id", "system_1", "system_2", "prompt", "response_1", "response_2"):
        row[col] = info.get(col) if info else None
    return row


def _read_votes(root: Path, lang: str, meta: dict) -> pd.DataFrame:
    file = root / HUMAN_DIR / f"{lang}_pairwise_ratings.tsv"
    try:
        with file.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            records = list(reader)
            header = reader.fieldnames or []
    except FileNotFoundError as exc:
        raise DatasetError(f"PARIKSHA file missing: {file}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"PARIKSHA file {file} is damaged: {exc}") from exc
    if missing := sorted({"pairing_id", "annotator_id", "battle_outcome"} - set(header)):
        raise DatasetError(f"PARIKSHA file {file} is damaged: it lacks the column(s) {missing}")
    rel = file.relative_to(root).as_posix()
    rows = []
    for number, rec in enumerate(records, start=2):
        code = (rec["battle_outcome"] or "").strip()
        reason = (rec.get("justification_native") or "").strip()
        # An unknown code stays as it is: the contract check reports it with its row.
        rows.append(_row(rec["pairing_id"], lang, meta, str(rec["annotator_id"]).strip(), "human",
                         HUMAN_CODES.get(code, code), None if reason.lower() in _NO_REASON else reason,
                         f"{rel}:{number}"))
    return pd.DataFrame(rows)


def _read_verdicts(root: Path, lang: str, meta: dict) -> pd.DataFrame:
    file = root / JUDGE_DIR / f"battle_outcomes_{lang}.json"
    rel = file.relative_to(root).as_posix()
    rows = []
    for number, rec in enumerate(_read_json_list(file), start=1):
        code = str(rec.get("battle_outcome", "")).strip()
        rows.append(_row(rec["pairing_id"], lang, meta, JUDGE_ID, "judge", JUDGE_CODES.get(code, code),
                         rec.get("justification"), f"{rel}:record {number}"))
    return pd.DataFrame(rows)
