"""Metric scales: declared, never guessed.

A metric has discrete levels (e.g. 0, 1, 2), a polarity (is a higher score better,
or does 1 mean "problem present"), labels for the levels, and a level of
measurement used by agreement statistics (``ordinal``, ``nominal``, ``interval``).
Built-in definitions cover the metrics of multilingual judge studies; users
declare their own with :class:`MetricScale` or a JSON/TOML file.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from judgecal.errors import ConfigError

MEASUREMENT_LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclass(frozen=True)
class MetricScale:
    """The declared scale of one metric.

    Parameters
    ----------
    id : str
        Metric id used in the ratings table (``la``, ``tq``, ...).
    name : str
        Display name.
    levels : tuple of float
        The allowed score values, distinct and increasing.
    labels : tuple of str, optional
        One label per level.
    higher_is_better : bool
        False for metrics where the top level means a problem is present
        (hallucination, problematic content).
    measurement : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement (Krippendorff's alpha uses the matching distance).
    description : str
    aliases : tuple of str
        Other names accepted for the id (case-insensitive).

    Examples
    --------
    >>> scale = MetricScale("fluency", "Fluency", levels=(1, 2, 3), labels=("poor", "ok", "native"))
    >>> scale.levels, scale.min, scale.max, scale.is_binary, scale.label(3)
    ((1.0, 2.0, 3.0), 1.0, 3.0, False, 'native')
    >>> scale.on_scale(np.array([1, 2.5, np.nan]))
    array([ True, False, False])
    """

    id: str
    name: str
    levels: tuple[float, ...]
    labels: tuple[str, ...] = ()
    higher_is_better: bool = True
    measurement: str = "ordinal"
    description: str = ""
    aliases: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        levels = tuple(float(v) for v in self.levels)
        if len(levels) < 2:
            raise ConfigError(f"metric {self.id!r}: a scale needs at least two levels")
        if list(levels) != sorted(set(levels)):
            raise ConfigError(f"metric {self.id!r}: levels must be distinct and increasing, got {levels}")
        if self.labels and len(self.labels) != len(levels):
            raise ConfigError(
                f"metric {self.id!r}: {len(self.labels)} labels for {len(levels)} levels"
            )
        if self.measurement not in MEASUREMENT_LEVELS:
            raise ConfigError(
                f"metric {self.id!r}: measurement must be one of {MEASUREMENT_LEVELS}, got {self.measurement!r}"
            )
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "aliases", tuple(self.aliases))

    @property
    def min(self) -> float:
        """The lowest level."""
        return self.levels[0]

    @property
    def max(self) -> float:
        """The highest level."""
        return self.levels[-1]

    @property
    def is_binary(self) -> bool:
        """True for two-level scales (0/1 metrics such as hallucination)."""
        return len(self.levels) == 2

    def on_scale(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask, shape (n,): which values are one of the levels (NaN is False)."""
        values = np.asarray(values, dtype=float)
        return np.isin(values, np.asarray(self.levels))

    def label(self, level: float) -> str:
        """The label of ``level``, or the level as text when the scale has no labels."""
        if self.labels:
            return self.labels[self.levels.index(float(level))]
        return f"{level:g}"

    def to_dict(self) -> dict:
        """The scale as a plain dict (what calibrator files store); :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> MetricScale:
        """A scale from a declaration dict (``id`` and ``levels`` required); ConfigError naming the missing key."""
        try:
            return cls(
                id=str(data["id"]),
                name=str(data.get("name", data["id"])),
                levels=tuple(data["levels"]),
                labels=tuple(data.get("labels", ())),
                higher_is_better=bool(data.get("higher_is_better", True)),
                measurement=str(data.get("measurement", "ordinal")),
                description=str(data.get("description", "")),
                aliases=tuple(data.get("aliases", ())),
            )
        except KeyError as exc:
            raise ConfigError(f"metric declaration {dict(data)!r} lacks {exc}") from exc
        except ConfigError:  # the scale's own check, already clear (ConfigError is a ValueError too)
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"metric declaration {dict(data)!r} is not valid: {exc}") from exc


BUILTIN_METRICS: dict[str, MetricScale] = {
    m.id: m
    for m in (
        MetricScale(
            "la", "linguistic acceptability", (0, 1, 2),
            ("not acceptable", "some errors", "fluent and natural"),
            description="Is the text well-formed, natural language as a native speaker would write it?",
            aliases=("linguistic_acceptability", "ling", "ling_rating"),
        ),
        MetricScale(
            "ocq", "output content quality", (0, 1, 2),
            ("poor", "adequate", "good"),
            description="Is the content of the output good: coherent, informative, complete?",
            aliases=("output_content_quality", "content_quality"),
        ),
        MetricScale(
            "tq", "task quality", (0, 1, 2),
            ("task not done", "partly done", "fully done"),
            description="Does the output do what the prompt asked?",
            aliases=("task_quality", "task", "task_rating"),
        ),
        MetricScale(
            "pc", "problematic content", (0, 1),
            ("absent", "present"), higher_is_better=False, measurement="nominal",
            description="Does the output contain harmful, offensive or otherwise problematic content?",
            aliases=("problematic_content",),
        ),
        MetricScale(
            "h", "hallucination", (0, 1),
            ("absent", "present"), higher_is_better=False, measurement="nominal",
            description="Does the output state things that are false or not supported by the input?",
            aliases=("hallucination", "hallucinations", "hallucination_rating"),
        ),
    )
}


class MetricRegistry:
    """Metric scales by id, built-ins plus the user's declarations.

    Parameters
    ----------
    extra : iterable of MetricScale
        Declared metrics; one with a built-in id replaces the built-in.
    builtins : bool
        Start from the built-in metrics (``la``, ``ocq``, ``tq``, ``pc``, ``h``).

    Examples
    --------
    >>> registry = MetricRegistry([MetricScale("fluency", "Fluency", levels=(1, 2, 3))])
    >>> registry.ids()
    ['la', 'ocq', 'tq', 'pc', 'h', 'fluency']
    >>> registry.get("FLUENCY").levels
    (1.0, 2.0, 3.0)
    >>> "style" in registry
    False
    """

    def __init__(self, extra: Iterable[MetricScale] = (), *, builtins: bool = True):
        self._scales: dict[str, MetricScale] = dict(BUILTIN_METRICS) if builtins else {}
        for scale in extra:
            self._scales[scale.id] = scale
        self._alias: dict[str, str] = {}
        for scale in self._scales.values():
            for name in (scale.id, *scale.aliases):
                self._alias[name.lower()] = scale.id

    def __contains__(self, metric: str) -> bool:
        return self.resolve(metric) is not None

    def __iter__(self):
        return iter(self._scales.values())

    def resolve(self, metric: str) -> str | None:
        """The metric id for an id or alias, case-insensitive; None if unknown."""
        return self._alias.get(str(metric).strip().lower())

    def get(self, metric: str) -> MetricScale:
        """The scale of a metric id or alias; ConfigError listing the known metrics if unknown."""
        resolved = self.resolve(metric)
        if resolved is None:
            known = ", ".join(sorted(self._scales))
            raise ConfigError(
                f"unknown metric {metric!r}; known metrics: {known}. "
                "Declare others with a metrics file (see docs/metrics.md)."
            )
        return self._scales[resolved]

    def ids(self) -> list[str]:
        """The metric ids, built-ins first, in declaration order."""
        return list(self._scales)


def read_config_file(path: str | Path, what: str):
    """Parse a small TOML (by extension) or JSON file; ConfigError naming ``what`` if it cannot be."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist") from exc
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {path} cannot be parsed: {exc}") from exc


def load_metric_file(path: str | Path) -> list[MetricScale]:
    """Read metric declarations from a JSON or TOML file.

    JSON: a list of objects, or ``{"metrics": [...]}``. TOML: ``[[metrics]]`` tables.
    Each object has ``id``, ``levels`` and optionally ``name``, ``labels``,
    ``higher_is_better``, ``measurement``, ``description``, ``aliases``.
    """
    path = Path(path)
    data = read_config_file(path, "metrics file")
    items = data.get("metrics") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigError(f"metrics file {path}: expected a list of metric declarations")
    return [MetricScale.from_dict(item) for item in items]


def parse_levels(specs: Iterable[str]) -> list[MetricScale]:
    """Metric scales from ``NAME=LEVELS`` strings (the CLI's ``--levels``).

    LEVELS is an integer range ``1..5`` or a comma-separated list ``0,1,2``
    (``0,0.5,1``). Such a metric is ordinal with higher scores better; declare
    polarity, labels or a nominal scale in a metrics file.

    >>> [s.levels for s in parse_levels(["toxicity=1..5", "fluency=0,1,2"])]
    [(1.0, 2.0, 3.0, 4.0, 5.0), (0.0, 1.0, 2.0)]
    """
    out: dict[str, MetricScale] = {}
    for spec in specs:
        name, sep, levels = str(spec).partition("=")
        name, levels = name.strip(), levels.strip()
        if not sep or not name or not levels:
            raise ConfigError(f"--levels expects METRIC=LEVELS (toxicity=1..5 or toxicity=0,1,2), got {spec!r}")
        if DEFAULT_REGISTRY.resolve(name) is not None:
            known = DEFAULT_REGISTRY.get(name)
            raise ConfigError(f"--levels {spec}: {name!r} is the built-in metric {known.id!r} with levels "
                              f"{', '.join(f'{v:g}' for v in known.levels)}; declare a scale of your own under "
                              "another id")
        if name in out:
            raise ConfigError(f"--levels declares {name!r} twice")
        out[name] = MetricScale(name, name, _level_values(levels, spec))
    return list(out.values())


def _level_values(text: str, spec: str) -> tuple[float, ...]:
    try:
        if ".." in text:
            lo, hi = (float(x) for x in text.split(".."))
            if lo != int(lo) or hi != int(hi) or hi <= lo:
                raise ValueError
            if hi - lo > 1000:
                raise ConfigError(f"--levels {spec}: {int(hi - lo) + 1} levels; a rating scale has a few")
            return tuple(float(v) for v in range(int(lo), int(hi) + 1))
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise ConfigError(f"--levels {spec}: give an integer range LOW..HIGH (1..5) or a list of numbers "
                          "(0,1,2)") from None
    if not all(np.isfinite(values)):
        raise ConfigError(f"--levels {spec}: levels must be finite numbers")
    if len(set(values)) != len(values):
        raise ConfigError(f"--levels {spec}: a level is listed twice")
    return tuple(sorted(values))


def build_registry(metrics_file: str | Path | None = None, levels: Iterable[str] = ()) -> MetricRegistry:
    """Built-in metrics plus those of a metrics file and of ``--levels`` specs."""
    extra = load_metric_file(metrics_file) if metrics_file else []
    from_levels = parse_levels(levels)
    both = sorted({m.id for m in extra} & {m.id for m in from_levels})
    if both:
        raise ConfigError(f"metric(s) {both} are declared both in {metrics_file} and with --levels; keep one")
    if not extra and not from_levels:
        return DEFAULT_REGISTRY
    return MetricRegistry([*extra, *from_levels])


def declaration_for(levels_seen: Mapping[str, Iterable[float]]) -> str:
    """A ready-to-edit metrics file (TOML) declaring each metric from the levels
    seen in the data, and the ``--levels`` flags that would do the same."""
    blocks, flags = [], []
    for name, seen in levels_seen.items():
        values = sorted({float(v) for v in seen if np.isfinite(v)})[:50]
        shown = ", ".join(f"{v:g}" for v in values)
        blocks.append(f"[[metrics]]\nid = {json.dumps(name, ensure_ascii=False)}\nlevels = [{shown}]  # the scores "
                      "seen in the file: edit to the scale's levels\nhigher_is_better = true  # false if the top level means a problem is present\n"
                      'measurement = "ordinal"  # or "nominal" for unordered labels')
        if values:
            whole = all(v == int(v) for v in values)
            span = whole and values == [float(v) for v in range(int(values[0]), int(values[-1]) + 1)]
            flags.append(f"--levels {name}={int(values[0])}..{int(values[-1])}" if span and len(values) > 2
                         else f"--levels {name}={','.join(f'{v:g}' for v in values)}")
    text = ("declare the metric(s) in a metrics file, e.g. metrics.toml, and pass --metrics metrics.toml:\n\n"
            + "\n\n".join(blocks))
    if flags:
        text += "\n\nor on the command line (ordinal, higher is better): " + " ".join(flags)
    return text


DEFAULT_REGISTRY = MetricRegistry()
