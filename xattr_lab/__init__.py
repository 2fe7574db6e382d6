"""xattr_lab: faithful, measured explanations of multimodal LLMs and transformer diagnostics.

This module is a facade: it only re-exports the public API. Names resolve lazily on first use so that
``import xattr_lab`` stays fast and loads neither torch, transformers, captum nor anywidget.

Stable API: ``load_model``, ``explain``, ``evaluate``, ``compare``, ``explore``, ``load``,
``list_methods``, ``datasets``, ``diagnostics`` and the result types.
"""

from __future__ import annotations

from xattr_lab._lazy import lazy_facade
from xattr_lab._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "load_model": "xattr_lab.models.loading",
    "ScoringModel": "xattr_lab.models.protocol",
    "Generation": "xattr_lab.models.protocol",
    "explain": "xattr_lab.attr.explain",
    "explain_frames": "xattr_lab.video.explain",
    "evaluate": "xattr_lab.metrics.evaluate",
    "compare": "xattr_lab.attr.compare",
    "list_methods": "xattr_lab.attr.registry",
    "register_method": "xattr_lab.attr.registry",
    "load": "xattr_lab.results.io",
    "Explanation": "xattr_lab.results.explanation",
    "Comparison": "xattr_lab.results.comparison",
    "SpectrumReport": "xattr_lab.results.spectrum",
    "TrainingRun": "xattr_lab.results.training",
    "TokenStrip": "xattr_lab.viz.widgets",
    "token_strip": "xattr_lab.viz.token_strip",
    "explore": "xattr_lab.viz.explore",
    "run": "xattr_lab.runs.api",
    "load_run": "xattr_lab.runs.result",
    "Run": "xattr_lab.runs.result",
}
_SUBMODULES = ("datasets", "diagnostics", "metrics", "inputs", "viz", "workshop", "video")

__all__ = ["__version__", *_EXPORTS, *_SUBMODULES]

__getattr__, __dir__ = lazy_facade(__name__, _EXPORTS, _SUBMODULES)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the prebuilt extension (used by ``jupyter labextension develop``)."""
    return [{"src": "labextension", "dest": "xattr-lab"}]
