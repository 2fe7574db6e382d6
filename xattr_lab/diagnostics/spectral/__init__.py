"""Spectral diagnostics: attention-logit spectra, head deposit and weight ESDs.

Stable API: :class:`PESpectrum`, :func:`analyze_logits`, :func:`capture_hf_logits`, :class:`HeadAblation`,
:func:`deposit_summary`, :class:`WeightSpectrum`, and the pure maths in :mod:`.kernels` and :mod:`.esd`.
Submodules load on first use (transformers is imported only inside the capture functions).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PESpectrum": "analyzer",
    "analyze_logits": "analyzer",
    "capture_hf_logits": "capture",
    "CapturedLogits": "capture",
    "HeadAblation": "deposit",
    "deposit_summary": "deposit",
    "WeightSpectrum": "weights",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"xattr_lab.diagnostics.spectral.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'xattr_lab.diagnostics.spectral' has no attribute {name!r}")
