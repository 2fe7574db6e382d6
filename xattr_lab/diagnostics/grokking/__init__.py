"""Grokking diagnostics: modular-arithmetic data, Nanda/Power models, a trainer with progress measures.

Public API (stable): :class:`GrokTrainer`, :func:`make_modular_data`, :data:`PRESETS`, :func:`preset`, and
the measures in :mod:`xattr_lab.diagnostics.grokking.measures`.
"""

from xattr_lab.diagnostics.grokking.data import ModularData, make_modular_data
from xattr_lab.diagnostics.grokking.grokfast import GradientEMA
from xattr_lab.diagnostics.grokking.presets import PRESETS, preset
from xattr_lab.diagnostics.grokking.trainer import GrokTrainer

__all__ = ["GradientEMA", "GrokTrainer", "ModularData", "PRESETS", "make_modular_data", "preset"]
