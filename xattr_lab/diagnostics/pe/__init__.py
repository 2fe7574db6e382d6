"""Small transformers with pluggable positional encoding, the synthetic trigger tasks and a trainer.

Stable API: :class:`PETransformer`, :data:`PE_SCHEMES`, :func:`trigger_distance`, :func:`trigger_count`,
:class:`PETrainer`, :data:`PE_PRESETS`.
"""

from xattr_lab.diagnostics.pe.models import PE_SCHEMES, PETransformer
from xattr_lab.diagnostics.pe.tasks import TASKS, TaskData, trigger_count, trigger_distance
from xattr_lab.diagnostics.pe.train import PE_PRESETS, PETrainer

__all__ = [
    "PE_PRESETS",
    "PE_SCHEMES",
    "PETrainer",
    "PETransformer",
    "TASKS",
    "TaskData",
    "trigger_count",
    "trigger_distance",
]
