"""xattr_lab.diagnostics: looking inside transformers.

* :mod:`~xattr_lab.diagnostics.spectral` — positional coupling in attention logits (Toeplitz
  profile, spectra, contraction ratio, RoPE energy), single-head deposit by ablation, weight spectra
  (ESD, power-law α).
* :mod:`~xattr_lab.diagnostics.pe` — small transformers with pluggable positional encoding and the synthetic
  trigger tasks; :mod:`~xattr_lab.diagnostics.pe_zoo` trains one per scheme and prints a table.
* :mod:`~xattr_lab.diagnostics.grokking` — modular arithmetic, Nanda/Power models, progress measures.

Names resolve lazily, so importing this package loads neither torch nor transformers. Stable API: the names
in ``__all__``.
"""

from __future__ import annotations

from xattr_lab._lazy import lazy_facade

_EXPORTS: dict[str, str] = {
    "PESpectrum": "xattr_lab.diagnostics.spectral.analyzer",
    "analyze_logits": "xattr_lab.diagnostics.spectral.analyzer",
    "capture_hf_logits": "xattr_lab.diagnostics.spectral.capture",
    "HeadAblation": "xattr_lab.diagnostics.spectral.deposit",
    "deposit_summary": "xattr_lab.diagnostics.spectral.deposit",
    "WeightSpectrum": "xattr_lab.diagnostics.spectral.weights",
    "PETransformer": "xattr_lab.diagnostics.pe.models",
    "PETrainer": "xattr_lab.diagnostics.pe.train",
    "GrokTrainer": "xattr_lab.diagnostics.grokking.trainer",
    "make_modular_data": "xattr_lab.diagnostics.grokking.data",
}
_SUBMODULES = ("spectral", "pe", "grokking", "pe_zoo")

__all__ = [*_EXPORTS, *_SUBMODULES]

__getattr__, __dir__ = lazy_facade(__name__, _EXPORTS, _SUBMODULES)
