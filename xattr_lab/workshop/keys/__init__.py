"""Answer keys, one module per notebook (``nb01`` ... ``nb08``), each defining ``EXERCISES``.

Modules are found by name, so a new notebook's key needs no edit here.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from xattr_lab.workshop.exercise import Exercise


@lru_cache(maxsize=1)
def all_exercises() -> dict[str, Exercise]:
    """Every exercise of every key module, by id (ids checked unique and matching their module)."""
    found: dict[str, Exercise] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not (info.name.startswith("nb") and info.name[2:].isdigit()):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for ex in module.EXERCISES:
            if ex.notebook != info.name[2:]:
                raise ValueError(f"{info.name}: exercise {ex.id} belongs to notebook {ex.notebook}")
            if ex.id in found:
                raise ValueError(f"{info.name}: duplicate exercise id {ex.id}")
            found[ex.id] = ex
    return found
