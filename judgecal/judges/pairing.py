"""The pairs a judge compares: read from a pairs file, or built from generations.

A **pairs table** holds one row per pair in the battles-table layout
(docs/pairwise.md): ``pair_id``, ``language``, ``prompt``, ``response_1``,
``response_2`` and optionally ``system_1``, ``system_2``, ``prompt_id``,
``script``, ``task``. A full battles table (several raters' votes per pair)
is accepted too: its pairs are judged once each.

From a **generations** table (one response per (prompt, system); prompts are
told apart by ``prompt_id``, else by their text) a :class:`PairingPlan` builds
the pairs: ``all`` pairs of systems per prompt, ``random`` (each system meets
``opponents`` others drawn at random per prompt, seeded) or ``anchors`` (each
other system against each anchor system). Which response of a pair is
``response_1`` is a seeded coin flip, so a run that judges one order only
(``swap=False``) shows each system first about half the time.

Every problem is found before anything is sent and reported at once with its
file, row and column: a system playing itself, a missing or blank response or
prompt, a response in another script than the row's (``check_texts``), the
same (prompt, system) twice, an unknown task.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from judgecal.data.battles import normalize_battles, response_scripts
from judgecal.data.tables import read_table
from judgecal.errors import ConfigError, InputError, Problem
from judgecal.judges.options import PairingPlan

PAIR_COLUMNS = ("pair_id", "language", "script", "prompt_id", "task", "system_1", "system_2", "prompt",
                "response_1", "response_2")
_PLACEHOLDERS = {"rater": "to-be-judged", "rater_kind": "judge", "shown": "12", "verdict": "tie"}


@dataclass
class PairingReport:
    """What the pairing did: counts, and prompts where no pair could be formed."""

    plan: str
    prompts: int
    systems: int
    pairs: int
    single_system_prompts: list[str] = field(default_factory=list)  # prompts with one system: no pair
    missing_anchor: dict[str, int] = field(default_factory=dict)  # anchor -> prompts without its response

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _text_problems(df: pd.DataFrame, cols, name: str, rows) -> list[Problem]:
    return [Problem("missing or empty text", file=name, row=int(rows[i]), column=c, value=v)
            for c in cols for i, v in enumerate(df[c].tolist()) if _blank(v)]


def _fill_task(df: pd.DataFrame, task: str | None, tasks: set[str], name: str, rows) -> list[Problem]:
    if "task" not in df.columns:
        df["task"] = task
    df["task"] = [task if _blank(v) else v for v in df["task"]]
    problems = []
    for i, v in enumerate(df["task"]):
        if v is None:
            problems.append(Problem("no task given (add a task column or pass a task)", file=name, row=int(rows[i]),
                                    column="task"))
        elif v not in tasks:
            problems.append(Problem(f"unknown task (tasks framed: {', '.join(sorted(tasks))})", file=name,
                                    row=int(rows[i]), column="task", value=v))
    return problems


def _contract_problems(df: pd.DataFrame, name: str, rows, check_texts: bool) -> tuple[pd.DataFrame, list[Problem]]:
    """The battles-table checks (language, script, a system playing itself, both
    responses, pair consistency) on pairs; placeholder verdict columns where absent."""
    frame = df.assign(**{c: v for c, v in _PLACEHOLDERS.items() if c not in df.columns})
    checked = normalize_battles(frame, source=name, row_numbers=rows, on_bad_rows="drop", check_texts=check_texts)
    return checked.table, checked.problems


def read_pairs(source: str | Path | pd.DataFrame, *, task: str | None = None, tasks: set[str],
               check_texts: bool = True, fmt: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """One row per pair (PAIR_COLUMNS that are present), checked; InputError listing every problem.

    task : task for rows without one; tasks : the tasks the prompt frames
    check_texts : refuse blank responses and responses in another script than the row's
    """
    if isinstance(source, pd.DataFrame):
        df, rows, name = source.reset_index(drop=True).copy(), np.arange(1, len(source) + 1), "pairs"
    else:
        df, rows = read_table(source, fmt, encoding=encoding)
        df, name = df.reset_index(drop=True), str(source)
    missing = [c for c in ("pair_id", "language", "prompt", "response_1", "response_2") if c not in df.columns]
    if missing:
        raise InputError([Problem(f"required column {c!r} is missing (columns found: {', '.join(map(str, df.columns))})",
                                  file=name, column=c) for c in missing], summary=f"{name} is not a pairs table")
    if df.empty:
        raise InputError(Problem("the table has no rows", file=name), summary="nothing to judge")
    # With check_texts the contract check reports blank responses (once); without, they are still refused here.
    problems = _text_problems(df, ("prompt",) if check_texts else ("prompt", "response_1", "response_2"), name, rows)
    problems += _fill_task(df, task, tasks, name, rows)
    keep = np.ones(len(df), dtype=bool)
    if "rater" not in df.columns:  # a pairs file: one row per pair
        dup = df["pair_id"].astype(str).duplicated().to_numpy() & df["pair_id"].notna().to_numpy()
        problems += [Problem("duplicate pair_id (appears on an earlier row)", file=name, row=int(rows[i]),
                             column="pair_id", value=df.at[i, "pair_id"]) for i in np.flatnonzero(dup)]
        keep = ~dup  # reported once, not again as a pair described differently
    table, found = _contract_problems(df[keep].reset_index(drop=True), name, np.asarray(rows)[keep], check_texts)
    problems += found
    if problems:
        raise InputError(problems, summary=f"{len(problems)} problem(s) in {name}")
    pairs = table.drop_duplicates("pair_id").reset_index(drop=True)
    return pairs[[c for c in PAIR_COLUMNS if c in pairs.columns]]


def pair_generations(gens: pd.DataFrame, plan: PairingPlan, *, name: str = "generations",
                     check_texts: bool = True) -> tuple[pd.DataFrame, PairingReport]:
    """Pairs (PAIR_COLUMNS plus item_id_1, item_id_2) from checked generations
    (:func:`~judgecal.judges.generations.read_generations`), and what the pairing did.

    gens : one row per (prompt, system) with item_id, language, script, task,
        prompt, response, system and optionally prompt_id; ``_row``, where
        present, is each row's number in the file (for problems), else 1..n
    """
    if "system" not in gens.columns:
        raise InputError(Problem("pairing generations needs a system column", file=name, column="system"),
                         summary="cannot pair")
    gens = gens.reset_index(drop=True).copy()
    rows = np.arange(1, len(gens) + 1) if "_row" not in gens.columns else gens["_row"].to_numpy()
    problems = _text_problems(gens, ("system", "response"), name, rows)
    if check_texts:
        found = response_scripts(gens.assign(response_1=gens["response"]))["response_1"]
        problems += [Problem(f"response is written in {found.at[i, 'detected']} script, not in the row's script",
                             file=name, row=int(rows[i]), column="response", value=gens.at[i, "response"])
                     for i in np.flatnonzero(found["mismatch"].to_numpy())]
    has_id = "prompt_id" in gens.columns
    gens["_prompt"] = [str(p) if has_id and not _blank(p) else str(t)
                       for p, t in zip(gens["prompt_id"] if has_id else gens["prompt"], gens["prompt"], strict=True)]
    dup = gens.duplicated(["_prompt", "system"], keep="first").to_numpy()
    problems += [Problem("this prompt already has a response from this system on an earlier row", file=name,
                         row=int(rows[i]), column="system", value=gens.at[i, "system"]) for i in np.flatnonzero(dup)]
    for col in ("prompt", "language"):
        differs = gens[col].astype(str) != gens.groupby("_prompt")[col].transform("first").astype(str)
        problems += [Problem(f"rows of prompt {gens.at[i, '_prompt']!r} give different {col}s", file=name,
                             row=int(rows[i]), column=col, value=gens.at[i, col]) for i in np.flatnonzero(differs.to_numpy())]
    systems = sorted(set(gens["system"].dropna().astype(str)))
    missing_anchors = [a for a in plan.anchors if a not in systems]
    if missing_anchors:
        raise ConfigError(f"anchor system(s) {missing_anchors} have no responses; systems found: {systems}")
    if problems:
        raise InputError(problems, summary=f"{len(problems)} problem(s) in {name}")
    if len(systems) < 2:
        raise InputError(Problem(f"pairing needs at least two systems; found {systems}", file=name, column="system"),
                         summary="cannot pair")
    return _build_pairs(gens, plan, len(systems))


def _build_pairs(gens: pd.DataFrame, plan: PairingPlan, n_systems: int) -> tuple[pd.DataFrame, PairingReport]:
    rng = np.random.default_rng(plan.seed)
    report = PairingReport(plan.kind, 0, n_systems, 0)
    out = []
    records = gens.to_dict("records")  # one conversion: per-group conversions cost most of the time
    by_prompt: dict[str, dict[str, dict]] = {}
    for r in records:
        by_prompt.setdefault(r["_prompt"], {})[str(r["system"])] = r
    for prompt_key in sorted(by_prompt):
        report.prompts += 1
        by_system = by_prompt[prompt_key]
        names = sorted(by_system)
        if len(names) < 2:
            report.single_system_prompts.append(prompt_key)
        for a in plan.anchors:
            if a not in by_system:
                report.missing_anchor[a] = report.missing_anchor.get(a, 0) + 1
        for a, b in _pairs_of(names, plan, rng):
            first, second = (a, b) if rng.random() < 0.5 else (b, a)
            g1, g2 = by_system[first], by_system[second]
            row = {"pair_id": f"{prompt_key}|{a}|{b}", "language": g1["language"], "script": g1["script"],
                   "prompt_id": prompt_key, "task": g1["task"], "system_1": first, "system_2": second,
                   "prompt": g1["prompt"], "response_1": g1["response"], "response_2": g2["response"],
                   "item_id_1": g1["item_id"], "item_id_2": g2["item_id"]}
            out.append(row)
    pairs = pd.DataFrame(out, columns=[*PAIR_COLUMNS, "item_id_1", "item_id_2"])
    if pairs["pair_id"].duplicated().any():  # system names holding "|" could collide
        raise ConfigError("pair ids collide (a prompt id or system name contains '|'); rename the systems")
    report.pairs = len(pairs)
    return pairs, report


def _pairs_of(names: list[str], plan: PairingPlan, rng: np.random.Generator) -> list[tuple[str, str]]:
    """Unordered pairs (a < b) among one prompt's systems, in a stable order."""
    if plan.kind == "all":
        return list(itertools.combinations(names, 2))
    if plan.kind == "anchors":
        anchors = [a for a in plan.anchors if a in names]
        return sorted({tuple(sorted((a, s))) for a in anchors for s in names if s not in plan.anchors})
    chosen = set()
    for s in names:
        others = [o for o in names if o != s]
        k = min(plan.opponents, len(others))
        for o in rng.choice(len(others), size=k, replace=False):
            chosen.add(tuple(sorted((s, others[int(o)]))))
    return sorted(chosen)
