"""``toy-clutter-guided``: the guided clutter model's weights directory and the command that made them.

Light on purpose (no torch): ``load_model`` resolves built-in names through this module. The trainer is
:mod:`xattr_lab.models.toy.guided`; the model card is ``clutter_guided_vlm/README.md``.
"""

from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).parent / "clutter_guided_vlm"
TRAIN_COMMAND = (
    "python -m xattr_lab.models.toy.guided --world clutter --patch 16 --batch-size 32 --steps 4500 --eval-every 250"
    " --curriculum 0.05:2-2:colour+shape,0.15:2-3:colour+shape+count,0.3:2-4:colour+shape+count+presence+position,"
    "0.45:3-6,0.6:4-7 --threads 1"
)
