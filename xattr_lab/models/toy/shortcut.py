"""``toy-shortcut``: the planted-mechanism model's weights directory and the command that made them.

The model is a toy LLaVA trained on answers alone on :mod:`xattr_lab.datasets.shortcut`, where a small
marker, not the named object, decides the answer (see ``shortcut_vlm/README.md``). Check the mechanism with
``python -m xattr_lab.bench.intervention --model toy-shortcut``.
"""

from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).parent / "shortcut_vlm"
TRAIN_COMMAND = (
    "python -m xattr_lab.models.toy.answers --world shortcut --patch 16 --layout question-first --steps 3000 "
    "--batch-size 32 --lr 2e-3 --seed 0 --threads 1 --eval-every 200"
)
