"""``toy-clutter-guided``: the guided clutter model's weights directory and the command that made them.

Light on purpose (no torch): ``load_model`` resolves built-in names through this module. The trainer is
:mod:`xattr_lab.models.toy.guided`; the model card is ``clutter_guided_vlm/README.md``.
"""

from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).parent / "clutter_guided_vlm"
TRAIN_COMMAND = "python -m xattr_lab.models.toy.guided --world clutter --guided --steps 3500 --threads 1"
