"""``xattr_lab.load(path)``: read any saved result, dispatching on the kind stored with it.

Loading never executes code: the store is JSON + safetensors. File sizes are compared with the declared
ones before anything is read, the checksum is verified, then each result type checks its contents (see
:mod:`xattr_lab.results._store`); any defect is a ``ResultFileError``. ``result.json`` is parsed once: the
kind is checked (and its class imported) as soon as it is read, before the arrays are.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from xattr_lab.results._store import ResultFileError, load_result

# stored kind -> module defining the class (each class offers ``load(path)`` and ``_from_loaded``)
_KINDS: dict[str, str] = {
    "Explanation": "xattr_lab.results.explanation",
    "SpectrumReport": "xattr_lab.results.spectrum",
    "TrainingRun": "xattr_lab.results.training",
    "Comparison": "xattr_lab.results.comparison",
}


def load(path: str | os.PathLike) -> Any:
    """Load a result saved with ``.save(path)``.

    Args:
        path: the saved result's directory.

    Returns:
        The result object (Explanation, Comparison, SpectrumReport or TrainingRun).

    Raises:
        xattr_lab.results._store.ResultFileError: a missing, truncated, tampered or unknown result.
    """
    classes: dict[str, Any] = {}

    def accept(kind: str) -> None:  # called by load_result right after it parsed result.json
        if kind not in _KINDS:
            raise ResultFileError(f"path: {path} holds an unknown result kind {kind!r}; known: {sorted(_KINDS)}")
        try:
            classes[kind] = getattr(importlib.import_module(_KINDS[kind]), kind)
        except (ImportError, AttributeError):
            raise ResultFileError(f"path: {path} holds a {kind}, which this installation cannot read") from None

    kind, meta, arrays = load_result(path, accept=accept)
    return classes[kind]._from_loaded(path, meta, arrays)
