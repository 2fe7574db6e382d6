"""``python -m xattr_lab.bench.memory``: peak host memory (RSS) of the subset scorer versus image size.

For each image side (default 224, 1024, 2048) a fresh subprocess loads the built-in ShapesVLM on the CPU,
upscales one shapes scene to ``side x side`` (the processor resizes it to its own 96 px, so the masks
live at the large resolution and the model cost stays constant), splits it into an ``N``-cell grid
(default 256) and scores one greedy step: the ``N`` single-region subsets, through ``SubsetScorer``
with the given ``batch_size`` (``auto`` = None); ``--mask-then-process`` forbids pixel-space masking.
The child reports its peak RSS (``ru_maxrss``) before and after scoring; a fresh process per setting
keeps one setting's high-water mark out of the next.

``--tree DIR`` runs the children against another checkout of the package (e.g. a ``git worktree`` of an
older commit), for before/after figures; the scorer is imported from ``xattr_lab.scoring.subsets`` or,
in older trees, ``xattr_lab.attr.scorer``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROMPT = "what colour is the circle ?"


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(side: int, n: int, batch_size: int | None, pixel_space: bool = True) -> dict[str, Any]:
    """Score one greedy step at ``side`` x ``side`` with ``n`` regions; return peak RSS figures (MB)."""
    import numpy as np
    import torch
    from PIL import Image

    torch.set_num_threads(1)
    try:
        from xattr_lab.scoring.subsets import SubsetScorer
    except ImportError:  # trees from before the scorer moved
        from xattr_lab.attr.scorer import SubsetScorer  # type: ignore[no-redef]
    from xattr_lab.datasets import shapes
    from xattr_lab.inputs.regions import Regions
    from xattr_lab.models.loading import load_model

    model = load_model("toy-shapes", device="cpu", pixel_space=pixel_space)
    s = next(shapes(1, seed=12345, task="colour"))
    image = np.asarray(Image.fromarray(s.image).resize((side, side), Image.NEAREST))
    gen = model.with_target(model.generate(image, PROMPT, max_new_tokens=1), s.answer)
    rows = int(round(n**0.5))
    cols = n // rows
    yy = np.minimum(np.arange(side) * rows // side, rows - 1)
    xx = np.minimum(np.arange(side) * cols // side, cols - 1)
    labels = (yy[:, None] * cols + xx[None, :]).astype(np.int32)
    regions = Regions(labels=labels, spec=f"grid:{rows}x{cols}")
    scorer = SubsetScorer(model, gen, regions, list(range(gen.n_generated)), batch_size=batch_size)
    before = _peak_mb()
    start = time.perf_counter()
    probs = scorer.probs([1 << i for i in range(regions.n)])
    wall = time.perf_counter() - start
    import xattr_lab

    return {
        "package": str(Path(xattr_lab.__file__).parent),
        "side": side,
        "n_regions": regions.n,
        "batch_size": batch_size,
        "pixel_space_masking": bool(gen.geometry.get("pixel_space_masking")),
        "peak_rss_before_scoring_mb": round(before, 1),
        "peak_rss_mb": round(_peak_mb(), 1),
        "scoring_added_mb": round(_peak_mb() - before, 1),
        "wall_s": round(wall, 2),
        "n_forward": scorer.n_forward,
        "n_calls": scorer.n_calls,
        "mean_prob": float(np.mean(probs)),
    }


def measure(
    side: int, n: int, batch_size: int | None, tree: Path | None = None, pixel_space: bool = True, timeout: float = 1800
) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and return its figures (``error`` set when it failed)."""
    root = tree or Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    args = json.dumps({"side": side, "n": n, "batch_size": batch_size, "pixel_space": pixel_space})
    # Run this file by path with the tree first on sys.path, so the child imports that tree's package.
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", args]
    proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or [""]
        return {"side": side, "n_regions": n, "batch_size": batch_size, "error": f"rc {proc.returncode}: {tail[0]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m xattr_lab.bench.memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="224,1024,2048", help="comma-separated image sides (pixels)")
    p.add_argument("--n", type=int, default=256, help="number of regions (a grid; default 256)")
    p.add_argument("--batch-size", default="auto", help="SubsetScorer batch_size: 'auto' (None) or an int")
    p.add_argument(
        "--mask-then-process",
        action="store_true",
        help="forbid pixel-space masking (composite every masked copy at full resolution and run the processor on it)",
    )
    p.add_argument("--tree", default=None, help="run against the xattr_lab package in this checkout")
    p.add_argument("--out", default=None, help="also write the JSON here")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child(**json.loads(a.child))))
        return 0
    from xattr_lab.bench._common import emit

    bs = None if a.batch_size == "auto" else int(a.batch_size)
    tree = Path(a.tree).resolve() if a.tree else None
    rows = [measure(int(s), a.n, bs, tree, not a.mask_then_process) for s in a.sizes.split(",") if s]
    emit({"bench": "memory", "tree": str(tree or Path(__file__).resolve().parents[2]), "rows": rows}, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
