"""Spectral diagnostics: attention-logit spectra, head deposit and weight ESDs.

Stable API: :class:`PESpectrum`, :func:`analyze_logits`, :func:`capture_hf_logits`, :class:`HeadAblation`,
:func:`deposit_summary`, :class:`WeightSpectrum`, and the pure maths in :mod:`.kernels` and :mod:`.esd`.
Submodules load on first use (transformers is imported only inside the capture functions).
"""

from __future__ import annotations

from xattr_lab._lazy import lazy_facade

_PKG = "xattr_lab.diagnostics.spectral"
_EXPORTS = {
    "PESpectrum": f"{_PKG}.analyzer",
    "analyze_logits": f"{_PKG}.analyzer",
    "capture_hf_logits": f"{_PKG}.capture",
    "CapturedLogits": f"{_PKG}.capture",
    "HeadAblation": f"{_PKG}.deposit",
    "deposit_summary": f"{_PKG}.deposit",
    "WeightSpectrum": f"{_PKG}.weights",
}
__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_facade(__name__, _EXPORTS)
