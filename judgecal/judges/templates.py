"""Rubric templates: loading, rendering, hashing.

Templates are TOML files in ``judgecal.prompts`` (the checkout's ``prompts/``):
``base.toml`` (the skeleton), ``metrics/<id>.toml`` (one rubric per metric, a
``simple`` and a ``detailed`` variant) and ``tasks/<name>.toml`` (how the task
is framed). Users add a metric by adding a file to a folder they pass as
``prompts_dir`` (its ``metrics/`` and ``tasks/`` override and extend the
built-ins); a metric unknown to the metric registry must declare ``levels``.

Every rendered prompt carries a hash of the exact template text that produced
it (``judge_prompt_hash``). The texts being judged are fenced between boundary
lines whose token is derived from the texts themselves, so a text cannot close
its own fence or open a new section of the instructions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from judgecal.data.languages import language_name
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, MetricScale
from judgecal.errors import ConfigError
from judgecal.judges.options import MODES, VARIANTS


def builtin_prompts_dir():
    """The installed templates (a Traversable); the checkout's prompts/ as fallback."""
    try:
        root = resources.files("judgecal.prompts")
        if root.joinpath("base.toml").is_file():
            return root
    except ModuleNotFoundError:
        pass
    checkout = Path(__file__).resolve().parents[2] / "prompts"
    if (checkout / "base.toml").is_file():
        return checkout
    raise ConfigError("judge prompt templates (judgecal.prompts) are not installed")


def _read_toml(path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"prompt template {path} is not valid TOML: {exc}") from exc


@dataclass(frozen=True)
class Rubric:
    """One metric's rubric in one variant."""

    scale: MetricScale
    variant: str
    text: str
    level_text: dict[str, str]
    version: str
    source: str


@dataclass(frozen=True)
class RenderedPrompt:
    system: str
    user: str
    schema: dict
    metrics: tuple[str, ...]
    prompt_hash: str


class PromptLibrary:
    """All templates, built-in plus a user folder."""

    def __init__(self, prompts_dir: str | Path | None = None, registry: MetricRegistry = DEFAULT_REGISTRY):
        roots = [builtin_prompts_dir()]
        if prompts_dir is not None:
            user = Path(prompts_dir)
            if not user.is_dir():
                raise ConfigError(f"prompts folder {user} does not exist")
            roots.append(user)
        self.base = _read_toml(roots[0].joinpath("base.toml"))
        self._metric_files: dict[str, tuple[dict, str]] = {}
        self.tasks: dict[str, dict] = {}
        for root in roots:
            for kind, store in (("metrics", None), ("tasks", self.tasks)):
                folder = root.joinpath(kind)
                if not folder.is_dir():
                    continue
                for f in sorted(folder.iterdir(), key=lambda p: p.name):
                    if not f.name.endswith(".toml"):
                        continue
                    data = _read_toml(f)
                    stem = f.name[: -len(".toml")]
                    if store is None:
                        self._metric_files[data.get("id", stem)] = (data, str(f))
                    else:
                        store[stem] = data
        self.registry = registry
        self._hashes: dict[tuple, str] = {}
        self._skeletons: dict[tuple, tuple] = {}
        self._rubrics: dict[tuple, Rubric] = {}
        extra = [self._declared_scale(mid) for mid in self._metric_files if registry.resolve(mid) is None]
        if extra:
            self.registry = MetricRegistry([*[registry.get(i) for i in registry.ids()], *extra])

    def _declared_scale(self, metric_id: str) -> MetricScale:
        data, source = self._metric_files[metric_id]
        if "levels" not in data:
            raise ConfigError(f"{source}: metric {metric_id!r} is not a known metric, so it must declare levels")
        return MetricScale.from_dict({**data, "id": metric_id})

    def metric_ids(self) -> list[str]:
        return sorted(self._metric_files)

    def rubric(self, metric: str, variant: str) -> Rubric:
        key = (metric, variant)
        if key not in self._rubrics:
            self._rubrics[key] = self._load_rubric(metric, variant)
        return self._rubrics[key]

    def _load_rubric(self, metric: str, variant: str) -> Rubric:
        if variant not in VARIANTS:
            raise ConfigError(f"prompt variant must be one of {VARIANTS}, not {variant!r}")
        mid = self.registry.resolve(metric) or metric
        if mid not in self._metric_files:
            raise ConfigError(
                f"no rubric template for metric {metric!r}; templates exist for {', '.join(self.metric_ids())}. "
                "Add one as metrics/<id>.toml in a prompts folder."
            )
        data, source = self._metric_files[mid]
        scale = self.registry.get(mid)
        part = data.get(variant)
        if not isinstance(part, dict) or "rubric" not in part or "levels" not in part:
            raise ConfigError(f"{source}: the [{variant}] table needs 'rubric' and 'levels'")
        level_text = {str(k): str(v) for k, v in part["levels"].items()}
        wanted = {f"{lv:g}" for lv in scale.levels}
        if set(level_text) != wanted:
            raise ConfigError(
                f"{source}: [{variant}] describes levels {sorted(level_text)} but metric {mid!r} has levels {sorted(wanted)}"
            )
        return Rubric(scale, variant, part["rubric"], level_text, str(data.get("version", "0")), source)

    def task_framing(self, task: str) -> dict:
        if task not in self.tasks:
            raise ConfigError(f"unknown task {task!r}; task framings exist for {', '.join(sorted(self.tasks))}")
        return self.tasks[task]

    def template_hash(self, metrics: tuple[str, ...], variant: str, task: str, mode: str) -> str:
        """Hash of every template text that goes into this kind of prompt."""
        key = (metrics, variant, task, mode)
        if key not in self._hashes:
            self._hashes[key] = _template_hash(self, metrics, variant, task, mode)
        return self._hashes[key]

    def render(self, *, metrics: tuple[str, ...], variant: str, task: str, mode: str, language: str,
               prompt: str, response: str, reference: str | None = None) -> RenderedPrompt:
        """The prompt for one item. Everything but the item's texts is rendered
        once per (metrics, variant, task, mode, language) and reused."""
        metrics = tuple(metrics)
        key = (metrics, variant, task, mode, language, bool(reference))
        if key not in self._skeletons:
            sk = self._render_full(metrics=metrics, variant=variant, task=task, mode=mode, language=language,
                                   prompt=_SENTINEL["P"], response=_SENTINEL["R"],
                                   reference=_SENTINEL["F"] if reference else None, boundary=_SENTINEL["B"])
            self._skeletons[key] = (_split(sk.system), _split(sk.user), sk)
        system_parts, user_parts, sk = self._skeletons[key]
        values = {"P": prompt, "R": response, "F": reference or "", "B": fence_token(prompt, response, reference or "")}
        return RenderedPrompt(_fill(system_parts, values), _fill(user_parts, values), sk.schema, sk.metrics,
                              sk.prompt_hash)

    def _render_full(self, *, metrics: tuple[str, ...], variant: str, task: str, mode: str, language: str,
                     prompt: str, response: str, reference: str | None, boundary: str) -> RenderedPrompt:
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, not {mode!r}")
        if mode == "single" and len(metrics) != 1:
            raise ConfigError("a single-metric prompt takes exactly one metric")
        rubrics = [self.rubric(m, variant) for m in metrics]
        lang_name = _language_name(language)
        subst = {"language_name": lang_name, "boundary": boundary}
        material = [Template(self.base["material_prompt"]).substitute(subst, prompt=prompt)]
        if reference:
            material.append(Template(self.base["material_reference"]).substitute(subst, reference=reference))
        material.append(Template(self.base["material_response"]).substitute(subst, response=response))
        framing = Template(self.task_framing(task)["framing"]).substitute(subst)
        common = {**subst, "task_framing": framing, "material": "\n\n".join(material)}
        if mode == "single":
            r = rubrics[0]
            user = Template(self.base["single"]).substitute(
                common, metric_name=r.scale.name, rubric=Template(r.text).substitute(subst),
                levels=_levels_block(r, subst), level_list=", ".join(f"{v:g}" for v in r.scale.levels),
            )
        else:
            criteria = "\n\n".join(
                Template(self.base["criterion"]).substitute(
                    subst, metric_id=r.scale.id, metric_name=r.scale.name,
                    rubric=Template(r.text).substitute(subst), levels=_levels_block(r, subst))
                for r in rubrics
            )
            example = ", ".join(
                f'"{r.scale.id}": {{"justification": "<why>", "score": <one of {", ".join(f"{v:g}" for v in r.scale.levels)}>}}'
                for r in rubrics
            )
            user = Template(self.base["compound"]).substitute(common, criteria=criteria, compound_example=example)
        system = Template(self.base["system"]).substitute(subst)
        return RenderedPrompt(system, user, judgment_schema(rubrics, mode), tuple(r.scale.id for r in rubrics),
                              self.template_hash(tuple(metrics), variant, task, mode))


# Stand-ins for the item's texts while a prompt skeleton is rendered. TOML
# strings cannot hold NUL, so templates never contain them.
_SENTINEL = {k: f"\x00{k}\x00" for k in "PRFB"}
_SENTINEL_RE = re.compile("\x00([PRFB])\x00")


def _split(text: str) -> list[str]:
    """Alternating literal text and sentinel names: [text, name, text, ...]."""
    return _SENTINEL_RE.split(text)


def _fill(parts: list[str], values: dict[str, str]) -> str:
    return "".join(values[p] if i % 2 else p for i, p in enumerate(parts))


@functools.lru_cache(maxsize=512)
def _language_name(tag: str) -> str:
    return language_name(tag)


def _levels_block(rubric: Rubric, subst: dict) -> str:
    return "\n".join(f"{lv:g}: {Template(rubric.level_text[f'{lv:g}']).substitute(subst)}" for lv in rubric.scale.levels)


def _template_hash(lib: PromptLibrary, metrics, variant, task, mode) -> str:
    parts = {
        "base": {k: lib.base[k] for k in sorted(lib.base)},
        "task": lib.task_framing(task),
        "mode": mode,
        "metrics": [],
    }
    for m in metrics:
        r = lib.rubric(m, variant)
        parts["metrics"].append([r.scale.id, r.version, r.text, r.level_text, list(r.scale.levels)])
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def fence_token(*texts: str) -> str:
    """A boundary token none of the texts contains. It is derived from the texts,
    so the same texts always get the same prompt (and cache key), yet a text cannot
    know its own token in advance to close the fence early."""
    joined = "\x1e".join(texts)
    salt = 0
    while True:
        token = hashlib.sha256(f"{salt}\x1f{joined}".encode()).hexdigest()[:12]
        if token not in joined:
            return token
        salt += 1


def judgment_schema(rubrics: list[Rubric], mode: str) -> dict:
    """JSON schema of the judge's answer (strict: every property required)."""

    def score_schema(scale: MetricScale) -> dict:
        ints = all(float(v).is_integer() for v in scale.levels)
        return {"type": "integer" if ints else "number",
                "enum": [int(v) if ints else v for v in scale.levels]}

    def one(scale: MetricScale) -> dict:
        return {"justification": {"type": "string"}, "score": score_schema(scale)}

    flag = {"addresses_evaluator": {"type": "boolean"}}
    if mode == "single":
        props = {**one(rubrics[0].scale), **flag}
    else:
        props = {
            r.scale.id: {"type": "object", "properties": one(r.scale),
                         "required": ["justification", "score"], "additionalProperties": False}
            for r in rubrics
        }
        props.update(flag)
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
