"""Small transformers with pluggable positional encoding, the synthetic trigger tasks and a trainer.

Stable API: :class:`PETransformer`, :data:`PE_SCHEMES`, :func:`trigger_distance`, :func:`trigger_count`,
:class:`PETrainer`, :data:`PE_PRESETS`, and :func:`hf_model` (random-init transformers models per scheme;
imports transformers only when called).
"""

from xattr_lab.diagnostics.pe.hf_configs import HF_SCHEMES, hf_model
from xattr_lab.diagnostics.pe.models import PE_SCHEMES, PETransformer
from xattr_lab.diagnostics.pe.tasks import TASKS, TaskData, trigger_count, trigger_distance
from xattr_lab.diagnostics.pe.train import PE_PRESETS, PETrainer

__all__ = [
    "HF_SCHEMES",
    "hf_model",
    "PE_PRESETS",
    "PE_SCHEMES",
    "PETrainer",
    "PETransformer",
    "TASKS",
    "TaskData",
    "trigger_count",
    "trigger_distance",
]
