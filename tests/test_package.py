"""The package's top level: ``import judgecal`` stays light, and the lazy-import helper."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import judgecal
from judgecal._lazy import lazy_exports, require
from judgecal.errors import MissingDependencyError

SDKS = ("openai", "anthropic", "litellm", "streamlit", "httpx", "aiohttp", "pyspark")


def _loaded_after(code: str) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in {SDKS!r} if m in sys.modules)))\n"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_judgecal_loads_no_sdk():
    assert _loaded_after("import judgecal") == []


def test_score_generations_from_the_top_level_loads_no_sdk_until_a_judge_is_used():
    assert _loaded_after("import judgecal\nf = judgecal.score_generations\nassert callable(f)") == []


def test_score_generations_is_exported():
    from judgecal.judges.api import score_generations

    assert judgecal.score_generations is score_generations
    assert "score_generations" in judgecal.__all__ and "score_generations" in dir(judgecal)


def test_require_names_the_extra_and_keeps_the_cause():
    with pytest.raises(MissingDependencyError, match=r"pip install 'judgecal\[nope\]'") as info:
        require("judgecal_no_such_module.sub", "nope", "testing")
    assert info.value.package == "judgecal_no_such_module"
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    assert require("json", "core") is json


def test_lazy_exports_load_on_first_use_and_refuse_unknown_names():
    getattr_, dir_ = lazy_exports("judgecal", {"dumps_alias": ("json", "dumps"), "loads": "json"})
    assert getattr_("dumps_alias") is json.dumps and getattr_("loads") is json.loads
    with pytest.raises(AttributeError, match="module 'judgecal' has no attribute 'nothing'"):
        getattr_("nothing")
    assert {"dumps_alias", "loads", "__version__"} <= set(dir_())
