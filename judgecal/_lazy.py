"""Lazy imports, in one place.

* :func:`require`: import an optional dependency (a provider SDK, pyspark, ...)
  when it is first needed, or raise :class:`~judgecal.errors.MissingDependencyError`
  with the ``pip install 'judgecal[extra]'`` hint.
* :func:`lazy_exports`: the module ``__getattr__`` / ``__dir__`` pair that makes
  a package's public names load on first use (PEP 562), so that importing the
  package stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType

from judgecal.errors import MissingDependencyError


def require(module: str, extra: str, purpose: str = "") -> ModuleType:
    """The imported ``module``, or MissingDependencyError naming the extra that provides it.

    module : importable name (``openai``, ``pyspark.sql``)
    extra : the judgecal extra that installs it (``pip install 'judgecal[extra]'``)
    purpose : what it is needed for, for the message (``OpenAI judges``)
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.partition(".")[0], extra, purpose) from exc


def lazy_exports(package: str, names: Mapping[str, str | tuple[str, str]]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose public names load on first use.

    package : the package's ``__name__``
    names : public name -> the module defining it, or (module, attribute name there)

    Use as ``__getattr__, __dir__ = lazy_exports(__name__, {...})``.
    """
    table = {name: (where, name) if isinstance(where, str) else tuple(where) for name, where in names.items()}

    def __getattr__(name: str):
        if name in table:
            module, attr = table[name]
            return getattr(importlib.import_module(module), attr)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        module = importlib.import_module(package)
        return sorted(set(vars(module)) | set(table))

    return __getattr__, __dir__
