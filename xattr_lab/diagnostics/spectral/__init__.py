"""Spectral diagnostics: attention-logit spectra, head deposit and weight ESDs.

Stable API: :class:`PESpectrum`, :func:`analyze_logits`, :func:`capture_hf_logits`, :class:`HeadAblation`,
:func:`deposit_summary`, :class:`WeightSpectrum`, and the pure maths in :mod:`.kernels` and :mod:`.esd`.
Submodules load on first use (transformers is imported only inside the capture functions).
"""

from __future__ import annotations

from xattr_lab._lazy import lazy_facade

_EXPORTS = {name: f"xattr_lab.diagnostics.spectral.{mod}" for name, mod in {
    "PESpectrum": "analyzer",
    "analyze_logits": "analyzer",
    "capture_hf_logits": "capture",
    "CapturedLogits": "capture",
    "HeadAblation": "deposit",
    "deposit_summary": "deposit",
    "WeightSpectrum": "weights",
}.items()}
__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_facade(__name__, _EXPORTS)
