"""The PARIKSHA release as a ratings table.

PARIKSHA (MIT licence) holds prompts and model responses in 10 Indic languages,
3-4 native-speaker ratings per response for linguistic acceptability (0-2), task
quality (0-2) and hallucination (True/False), with the raters' reasoning, and a
GPT judge's score and justification for the same responses.

Known fault of the release: two human-rating files carry each other's language.
:func:`load_pariksha` keeps the release as it is by default, so that
``judgecal validate`` finds the fault from the scripts of the texts; with
``repair=True`` it reassigns rows whose prompt ids belong to another language's
prompts (the language each prompt was written for is in the outputs files), and
keeps the release's label in ``language_in_release``.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd

from judgecal.data.schema import normalize_ratings
from judgecal.errors import DatasetError

LANGUAGES = ("bengali", "gujarati", "hindi", "kannada", "malayalam", "marathi", "odia", "punjabi", "tamil", "telugu")
JUDGE_ID = "pariksha-gpt-judge"
JUDGE_METRIC_DIRS = {"la": "linguistic_acceptability", "tq": "task_quality", "h": "hallucinations"}
HUMAN_COLUMNS = {"la": ("ling_rating", "ling_rating_reasoning"), "tq": ("task_rating", "task_rating_reasoning"), "h": ("hallucination_rating", "hallucination_reasoning")}
HUMAN_DIR = "karya_eval/round1/individual"
JUDGE_DIR = "gpt_eval/outputs/round1/individual"
OUTPUTS_DIR = "outputs/round1/formatted"
TASK = "qa"  # every PARIKSHA prompt is a user question answered by the system
_NO_REASON = {"", "none", "nan"}


def find_pariksha(path: str | os.PathLike | None = None) -> Path | None:
    """Where the release is: ``path``, else $JUDGECAL_PARIKSHA, else the download
    cache, else ``./data/pariksha`` or ``../shared/data/pariksha``. None if nowhere."""
    from judgecal.datasets.fetch import cached_pariksha

    if path is not None:
        return Path(path) if is_pariksha_release(Path(path)) else None
    candidates = []
    if os.environ.get("JUDGECAL_PARIKSHA"):
        candidates.append(Path(os.environ["JUDGECAL_PARIKSHA"]))
    cached = cached_pariksha()
    if cached:
        candidates.append(cached)
    candidates += [Path("data/pariksha"), Path("../shared/data/pariksha")]
    return next((c for c in candidates if is_pariksha_release(c)), None)


def is_pariksha_release(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder laid out as the PARIKSHA release (its human-rating,
    judge and model-output folders), i.e. something :func:`load_pariksha` reads."""
    path = Path(path)
    return (path / HUMAN_DIR).is_dir() and (path / JUDGE_DIR).is_dir() and (path / OUTPUTS_DIR).is_dir()


def load_pariksha(
    path: str | os.PathLike | None = None,
    *,
    repair: bool = False,
    languages: tuple[str, ...] | None = None,
    include: tuple[str, ...] = ("human", "judge"),
) -> pd.DataFrame:
    """Load PARIKSHA's direct-assessment ratings as one ratings table.

    Parameters
    ----------
    path : the release's folder (as in its repository); default: see :func:`find_pariksha`
    repair : reassign human rows whose prompt ids belong to another language's
        prompts (fixes the release's swapped files); ``language_in_release`` keeps
        the original label either way
    languages : subset of :data:`LANGUAGES` (names as in the file names)
    include : ``"human"`` and/or ``"judge"`` rows

    Returns
    -------
    Ratings table: item_id = ``<prompt_id>/<system>``; metrics ``la``, ``tq``
    (0-2) and ``h`` (0/1, 1 = hallucination present); human rows rated by Karya
    workers (``rater`` = worker id), judge rows by :data:`JUDGE_ID`; with
    prompt_id, system, task, domain, prompt, response, justification,
    language_in_release and source (file:row).
    """
    root = find_pariksha(path)
    if root is None:
        where = path if path is not None else "any default location"
        raise DatasetError(
            f"PARIKSHA release not found at {where}. Pass its folder, set JUDGECAL_PARIKSHA, "
            "or download it with `judgecal fetch-pariksha`."
        )
    langs = tuple(languages or LANGUAGES)
    unknown = sorted(set(langs) - set(LANGUAGES))
    if unknown:
        raise DatasetError(f"unknown PARIKSHA language(s) {unknown}; choose from {LANGUAGES}")
    prompts = _read_prompts(root)
    parts = []
    if "human" in include:
        parts += [_read_human(root, lang, prompts) for lang in langs]
    if "judge" in include:
        parts += [_read_judge(root, lang, metric, prompts) for lang in langs for metric in JUDGE_METRIC_DIRS]
    if not parts:
        raise DatasetError("include must name 'human' and/or 'judge'")
    df = pd.concat(parts, ignore_index=True)
    if repair:
        owner = df["prompt_id"].map({pid: p["language"] for pid, p in prompts.items()})
        df["language"] = owner.where(owner.notna(), df["language"])
    return normalize_ratings(df, source=str(root)).table


def _read_prompts(root: Path) -> dict[str, dict]:
    """prompt_id -> {language, prompt, domain, responses: {system: text}}."""
    prompts: dict[str, dict] = {}
    for lang in LANGUAGES:
        file = root / OUTPUTS_DIR / f"output_{lang}.json"
        for record in _read_json(file):
            responses = {k: v.get("response") for k, v in record.items() if isinstance(v, dict)}
            prompts[record["prompt_id"]] = {
                "language": lang,
                "prompt": record.get("prompt"),
                "domain": record.get("prompt_type"),
                "responses": responses,
            }
    return prompts


def _read_json(file: Path, key: str = "prompt_id"):
    """A release JSON file: a list of records, each with a string ``key``."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"PARIKSHA file missing: {file}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"PARIKSHA file {file} is damaged: {exc}") from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) and isinstance(r.get(key), str) for r in data):
        raise DatasetError(f"PARIKSHA file {file} is damaged: expected a list of records with a {key}")
    return data


def _read_human(root: Path, lang: str, prompts: dict) -> pd.DataFrame:
    matches = sorted((root / HUMAN_DIR).glob(f"{lang}_ratings_output_indi*.tsv"))
    if len(matches) != 1:
        raise DatasetError(f"expected one human-ratings file for {lang} in {root / HUMAN_DIR}, found {len(matches)}")
    file = matches[0]
    try:
        with file.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            records = list(reader)
            header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"PARIKSHA file {file} is damaged: {exc}") from exc
    wanted = {"model", "prompt_id", "worker_id", *(c for pair in HUMAN_COLUMNS.values() for c in pair)}
    if missing := sorted(wanted - set(header)):
        raise DatasetError(f"PARIKSHA file {file} is damaged: it lacks the column(s) {missing}")
    rel = file.relative_to(root).as_posix()
    rows = []
    for number, rec in enumerate(records, start=2):
        pid, system = rec["prompt_id"], rec["model"]
        info = prompts.get(pid, {})
        for metric, (score_col, reason_col) in HUMAN_COLUMNS.items():
            reason = (rec.get(reason_col) or "").strip()
            rows.append(
                {
                    "item_id": f"{pid}/{system}",
                    "language": lang,
                    "language_in_release": lang,
                    "metric": metric,
                    "rater": str(rec["worker_id"]),
                    "rater_kind": "human",
                    "score": rec[score_col],
                    "task": TASK,
                    "prompt_id": pid,
                    "system": system,
                    "domain": info.get("domain"),
                    "prompt": info.get("prompt"),
                    "response": info.get("responses", {}).get(system),
                    "justification": None if reason.lower() in _NO_REASON else reason,
                    "source": f"{rel}:{number}",
                }
            )
    return pd.DataFrame(rows)


def _read_judge(root: Path, lang: str, metric: str, prompts: dict) -> pd.DataFrame:
    file = root / JUDGE_DIR / JUDGE_METRIC_DIRS[metric] / f"individual_{lang}.json"
    rel = file.relative_to(root).as_posix()
    rows = []
    for number, record in enumerate(_read_json(file), start=1):
        pid = record["prompt_id"]
        info = prompts.get(pid, {})
        for system, verdict in record.items():
            if not isinstance(verdict, dict):
                continue
            rows.append(
                {
                    "item_id": f"{pid}/{system}",
                    "language": lang,
                    "language_in_release": lang,
                    "metric": metric,
                    "rater": JUDGE_ID,
                    "rater_kind": "judge",
                    "score": verdict.get("score"),
                    "task": TASK,
                    "prompt_id": pid,
                    "system": system,
                    "domain": record.get("prompt_type"),
                    "prompt": record.get("prompt"),
                    "response": info.get("responses", {}).get(system),
                    "justification": verdict.get("justification"),
                    "source": f"{rel}:record {number}",
                }
            )
    return pd.DataFrame(rows)
