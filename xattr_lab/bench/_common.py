"""Shared bits of the benchmark runners: model loading, thread settings, JSON output."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any


def load(name: str) -> Any:
    """``"synthetic"`` (the known-answer model) or anything ``xattr_lab.load_model`` takes."""
    if name == "synthetic":
        from xattr_lab.attr.synthetic import SyntheticModel

        return SyntheticModel(size=96, boxes=((8, 8, 40, 40), (56, 12, 88, 44), (20, 56, 52, 88)))
    from xattr_lab import load_model

    try:
        return load_model(name)
    except ValueError as err:
        raise ValueError(f"--model: {err}") from None


def set_threads(threads: int | None) -> int:
    import torch

    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def emit(result: dict[str, Any], out: str | None) -> None:
    from xattr_lab.cli_common import dumps

    text = dumps(result, indent=1)  # strict JSON: NaN (e.g. no ground truth) prints as null
    print(text)
    if out:
        # Atomic write: a crash never leaves a half-written result file behind.
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, target)
    sys.stdout.flush()


def check_out(out: str | None) -> None:
    """Refuse an unwritable ``--out`` before the benchmark runs, not after."""
    if out is not None:
        from xattr_lab.cli_common import check_writable

        check_writable(out, "--out", directory=False)


def grid_for(n: int) -> str:
    """A grid spec with exactly ``n`` cells, as square as possible."""
    rows = max(r for r in range(1, int(n**0.5) + 1) if n % r == 0)
    return f"grid:{rows}x{n // rows}"


def held_out_questions(n: int, seed: int, tasks: list[str]) -> list[Any]:
    """``n`` ShapesVLM questions split over ``tasks``, one held-out stream per task (its own scenes)."""
    from xattr_lab.datasets import shapes

    per = -(-n // len(tasks))
    out = [s for i, t in enumerate(tasks) for s in shapes(per, seed=seed * 100 + i, task=t)]
    return out[:n]


def method_names(spec: str) -> list[str]:
    """Comma-separated registry names, checked up front so a typo fails before any model work."""
    from xattr_lab.attr.registry import get_method

    names = [m for m in spec.split(",") if m]
    for name in names:
        get_method(name)
    return names
