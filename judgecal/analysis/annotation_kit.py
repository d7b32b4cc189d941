"""Annotation sheets out, native-speaker ratings back in.

A sheet has one row per (item, annotator) and, per metric, a score column
``<metric>`` and a reasoning column ``<metric>_reason`` (the layout of
``annotations/templates/``). The system that wrote a response is left out so
annotators judge blind. :func:`read_annotation_sheet` turns a filled sheet
back into ratings-table rows (``rater_kind = human``) and checks them
against the metric scales; empty score cells are counted, never invented.
"""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from judgecal._atomic import atomic_path
from judgecal.data.delimited import delimited_bytes, restore_formulas, write_delimited
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry
from judgecal.data.schema import normalize_ratings
from judgecal.errors import ConfigError, InputError, Problem

ITEM_COLUMNS = ("item_id", "language", "script", "task", "prompt", "response", "reference")
ANNOTATOR_COLUMN = "annotator_id"


def sheet_columns(metrics: Sequence[str]) -> list[str]:
    """Column order of an annotation sheet for these metrics."""
    cols = [*ITEM_COLUMNS, ANNOTATOR_COLUMN]
    for m in metrics:
        cols += [m, f"{m}_reason"]
    return [*cols, "comments"]


def annotation_sheet(batch: pd.DataFrame, ratings: pd.DataFrame, metrics: Sequence[str] | None = None,
                     annotators: Sequence[str] = ("",)) -> pd.DataFrame:
    """An empty sheet for the items of ``batch`` (texts taken from ``ratings``).

    metrics : metrics to rate (default: every metric in ``ratings``)
    annotators : one copy of each item per annotator id ("" = to be filled in)
    """
    metrics = list(metrics or sorted(ratings["metric"].astype(str).unique()))
    present = [c for c in ITEM_COLUMNS if c in ratings.columns]
    # first() skips missing values, so texts on judge rows fill gaps on human rows.
    texts = ratings[ratings["item_id"].isin(batch["item_id"])].groupby("item_id", sort=False)[present[1:]].first()
    base = batch[["item_id"]].drop_duplicates().join(texts, on="item_id")
    sheets = []
    for annotator in annotators:
        sheet = base.copy()
        sheet[ANNOTATOR_COLUMN] = annotator
        sheets.append(sheet)
    out = pd.concat(sheets, ignore_index=True)
    for col in sheet_columns(metrics):
        if col not in out.columns:
            out[col] = ""
    return out[sheet_columns(metrics)].fillna("")


def key_path(sheet_path: str | Path) -> Path:
    """Where the key of a blinded sheet is kept: ``<sheet>.key.csv`` beside it."""
    sheet_path = Path(sheet_path)
    return sheet_path.with_name(sheet_path.stem + ".key.csv")


BLIND_PREFIX = "item-"
_BLINDED = r"item-[0-9a-f]{12}"


def blind_ids(item_ids: Sequence[str]) -> dict[str, str]:
    """A fresh secret mapping from each distinct item id to an opaque sheet id.

    The sheet ids are random (:mod:`secrets`), not derived from the item ids:
    item ids often name the system (``prompt/model``), and a hash of them could
    be recomputed from a public release. Only the key file holds the mapping.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for item in pd.unique(pd.Series(item_ids, dtype=object).astype(str)):
        sheet_id = BLIND_PREFIX + secrets.token_hex(6)
        while sheet_id in taken:  # 48 random bits: a repeat is rare, never allowed
            sheet_id = BLIND_PREFIX + secrets.token_hex(6)
        taken.add(sheet_id)
        out[item] = sheet_id
    return out


def blinded_sheet(batch: pd.DataFrame, ratings: pd.DataFrame,
                  metrics: Sequence[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sheet, key): :func:`annotation_sheet` with opaque item ids, its items in a
    random order (the batch's order can follow the system), and the key with the
    columns ``sheet_item_id``, ``item_id`` (and ``system`` when the batch has it)."""
    sheet = annotation_sheet(batch, ratings, metrics)
    key = batch.drop_duplicates("item_id")[[c for c in ("item_id", "system") if c in batch.columns]].copy()
    key["item_id"] = key["item_id"].astype(str)
    mapping = blind_ids(key["item_id"])
    key.insert(0, "sheet_item_id", key["item_id"].map(mapping))
    order = list(mapping.values())
    secrets.SystemRandom().shuffle(order)
    sheet["item_id"] = sheet["item_id"].astype(str).map(mapping)
    # each annotator's copy stays one block, its items in the random order
    sheet["_block"] = sheet.groupby(ANNOTATOR_COLUMN, sort=False).ngroup()
    sheet["_rank"] = sheet["item_id"].map({sheet_id: i for i, sheet_id in enumerate(order)})
    sheet = sheet.sort_values(["_block", "_rank"]).drop(columns=["_block", "_rank"]).reset_index(drop=True)
    return sheet, key.reset_index(drop=True)


def write_annotation_sheet(batch: pd.DataFrame, ratings: pd.DataFrame, path: str | Path,
                           metrics: Sequence[str] | None = None, *, blind: bool = True) -> Path:
    """Write :func:`annotation_sheet` as CSV or JSONL, by extension.

    CSV is UTF-8 with a byte-order mark so spreadsheet apps show Indic scripts
    correctly. In the CSV sheet and key, text a spreadsheet would run as a formula
    gets a leading quote (:mod:`judgecal.data.delimited`);
    :func:`read_annotation_sheet` removes it.

    With ``blind`` (default) the sheet carries random opaque item ids
    (:func:`blinded_sheet`) and the key back to the real ids (and systems) goes to
    :func:`key_path`, readable by its owner only: it is kept by whoever runs the
    study, not sent to annotators, and nothing else can map the ids back.

    Parameters
    ----------
    batch : DataFrame
        Items to annotate, e.g. from :func:`judgecal.analysis.next_batch`.
    ratings : DataFrame
        The ratings table the texts (prompt, response, reference) come from.
    path : str or Path
        ``.csv`` or ``.jsonl``.
    metrics : sequence of str, optional
        Score columns of the sheet (default: the batch's metrics).
    blind : bool

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from judgecal.analysis import next_batch
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> odd = ratings["prompt_id"].str[-1].isin(list("13579"))
    >>> partly = ratings[~(odd & (ratings["rater_kind"] == "human"))]
    >>> batch = next_batch(partly, 4)
    >>> path = write_annotation_sheet(batch, partly, pathlib.Path(tempfile.mkdtemp()) / "batch.csv")
    >>> sorted(p.name for p in path.parent.iterdir())
    ['batch.csv', 'batch.key.csv']
    >>> sheet = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    >>> sheet.columns.tolist()
    ['item_id', 'language', 'script', 'task', 'prompt', 'response', 'reference', 'annotator_id', 'tq', 'tq_reason', 'comments']
    >>> bool(sheet["item_id"].str.fullmatch("item-[0-9a-f]{12}").all())
    True

    The annotators fill the sheet; :func:`read_annotation_sheet` reads it back:

    >>> sheet["annotator_id"] = "a1"
    >>> sheet["tq"], sheet["tq_reason"] = ["2", "1", "", "0"], "clear"
    >>> sheet.to_csv(path, index=False)
    >>> filled = read_annotation_sheet(path)             # finds batch.key.csv beside it
    >>> len(filled.table), set(filled.table["item_id"]) <= set(batch["item_id"])
    (3, True)
    >>> filled.empty_cells
       row metric
    0    4     tq
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ConfigError(f"annotation sheets are .csv or .jsonl, not {path.name}")
    if blind:
        sheet, key = blinded_sheet(batch, ratings, metrics)
        write_delimited(key, key_path(path), private=True)
    else:
        sheet = annotation_sheet(batch, ratings, metrics)
    if suffix == ".csv":
        write_delimited(sheet, path, encoding="utf-8-sig")
    else:
        with atomic_path(path) as tmp:
            sheet.to_json(tmp, orient="records", lines=True, force_ascii=False)
    return path


def sheet_bytes(batch: pd.DataFrame, ratings: pd.DataFrame, metrics: Sequence[str] | None = None, *,
                blind: bool = True, name: str = "annotation_sheet") -> bytes:
    """The annotation sheet for a download button.

    Not blind: the sheet as CSV bytes (UTF-8 with BOM). Blind: a ZIP archive of
    ``<name>.csv`` and its key ``<name>.key.csv``, made together so that they
    always match (two downloads would come from two Streamlit runs, each with
    its own random ids). Extracted side by side, :func:`read_annotation_sheet`
    finds the key on its own.
    """
    if not blind:
        return delimited_bytes(annotation_sheet(batch, ratings, metrics))
    sheet, key = blinded_sheet(batch, ratings, metrics)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"{name}.csv", delimited_bytes(sheet))
        bundle.writestr(key_path(f"{name}.csv").name, delimited_bytes(key, encoding="utf-8"))
    return buffer.getvalue()


@dataclass
class AnnotationResult:
    """Ratings read from a sheet, and the (row, metric) cells left empty."""

    table: pd.DataFrame
    empty_cells: pd.DataFrame


def read_annotation_sheet(path: str | Path, *, key: str | Path | None = None,
                          registry: MetricRegistry = DEFAULT_REGISTRY) -> AnnotationResult:
    """Filled sheet -> ratings-table rows (one per item, annotator and rated metric).

    Blinded ids are mapped back through ``key`` (default: :func:`key_path`
    beside the sheet, when it exists); a sheet whose ids are all blinded and
    that has no key is refused, since its ids mean nothing without it. Every
    non-empty score must be a level of its metric; problems are raised together
    as one :class:`~judgecal.errors.InputError` with file rows. Empty score cells
    are counted, never guessed.

    Parameters
    ----------
    path : str or Path
        The filled ``.csv`` or ``.jsonl`` sheet.
    key : str or Path, optional
        The key written with a blinded sheet.
    registry : MetricRegistry

    Returns
    -------
    AnnotationResult
        ``table`` (human rows of the ratings table) and ``empty_cells`` (``row``,
        ``metric`` of every score left empty).

    Examples
    --------
    See :func:`write_annotation_sheet`.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        df = restore_formulas(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
        rows = np.arange(2, len(df) + 2)  # line 1 is the header
    elif path.suffix.lower() == ".jsonl":
        df = pd.read_json(path, lines=True, dtype=False).astype(object)
        rows = np.arange(1, len(df) + 1)
    else:
        raise ConfigError(f"annotation sheets are .csv or .jsonl, not {path.name}")
    missing = [c for c in ("item_id", "language", ANNOTATOR_COLUMN) if c not in df.columns]
    if missing:
        raise InputError([Problem(f"column {c!r} is missing", file=str(path), column=c) for c in missing],
                         summary=f"{path} is not an annotation sheet")
    key = Path(key) if key else key_path(path)
    if key.exists():
        table = restore_formulas(pd.read_csv(key, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
        mapping = dict(zip(table["sheet_item_id"], table["item_id"], strict=True))
        ids = df["item_id"].astype(str)
        unknown = ~ids.isin(list(mapping))
        if unknown.any():
            raise InputError([Problem(f"item id is not in the key file {key.name}", file=str(path), row=int(r),
                                      column="item_id", value=v) for r, v in zip(rows[unknown.to_numpy()], ids[unknown], strict=True)],
                             summary=f"{int(unknown.sum())} sheet row(s) cannot be matched to items")
        df["item_id"] = ids.map(mapping)
    elif len(df) and df["item_id"].astype(str).str.fullmatch(_BLINDED).all():
        raise InputError(Problem(f"the item ids are blinded and the key file {key} does not exist; "
                                 "pass the key written with the sheet (key=...)", file=str(path), column="item_id"),
                         summary=f"{path} cannot be matched to items")
    metrics = [c for c in df.columns if registry.resolve(c) is not None and f"{c}_reason" in df.columns]
    if not metrics:
        raise InputError(Problem("no metric score columns (each needs <metric> and <metric>_reason)", file=str(path)),
                         summary=f"{path} has no metric columns")
    no_annotator = df[ANNOTATOR_COLUMN].astype(str).str.strip() == ""
    if no_annotator.any():
        raise InputError([Problem("annotator_id is empty", file=str(path), row=int(r), column=ANNOTATOR_COLUMN)
                          for r in rows[no_annotator.to_numpy()]], summary="every sheet row needs an annotator id")
    long, long_rows, empty = [], [], []
    keep = [c for c in ("item_id", "language", "script", "task") if c in df.columns]
    for m in metrics:
        text = df[m].astype(str).str.strip()
        blank = (text == "") | (text.str.lower().isin(["nan", "none"]))
        empty += [{"row": int(r), "metric": m} for r in rows[blank.to_numpy()]]
        part = df.loc[~blank, keep].copy()
        part["metric"] = m
        part["rater"] = df.loc[~blank, ANNOTATOR_COLUMN].astype(str).str.strip()
        part["rater_kind"] = "human"
        part["score"] = _parse_scores(text[~blank])
        part["justification"] = df.loc[~blank, f"{m}_reason"].astype(str)
        long.append(part)
        long_rows.append(rows[~blank.to_numpy()])
    table = pd.concat(long, ignore_index=True)
    if "script" in table.columns and (table["script"].astype(str).str.strip() == "").all():
        table = table.drop(columns="script")
    result = normalize_ratings(table, metrics=registry, source=str(path), row_numbers=np.concatenate(long_rows))
    return AnnotationResult(table=result.table, empty_cells=pd.DataFrame(empty, columns=["row", "metric"]))


def _parse_scores(text: pd.Series) -> pd.Series:
    """Numbers as numbers; yes/no/true/false for binary metrics; anything else stays text
    so the schema check reports it with its row."""
    lowered = text.str.lower()
    mapped = lowered.map({"yes": "1", "true": "1", "no": "0", "false": "0"}).fillna(text)
    numeric = pd.to_numeric(mapped, errors="coerce")
    return numeric.astype(object).where(numeric.notna(), text)
