"""``python -m xattr_lab.bench.families``: seconds per masked image on every supported family, per masking path.

For each family (tiny random models built from the repository's ``tests/models`` builders, or any model
directory given with ``--model``) one target is scored under ``--masks`` block masks; per path it reports
the best of ``--repeats`` wall times (round-robin, after a warm-up), as seconds per masked image, both for a
whole ``score`` call and for building the masked inputs alone (the part the masking path changes):

* ``pixel_space``: the model's processed-space path (``masking_path`` says which: the traced replay of
  :mod:`xattr_lab.models.processed_masks`, the resized-mask composite, or a fallback);
* ``mask_then_process``: the processor run on every masked image;
* ``pixel_space_plain_forward``: the pixel-space path with the model's plain forward, i.e. without the shared
  work of :mod:`xattr_lab.models.fast_forward` (``forward_path`` says which that model has);
* ``model_forward``: the model's own forward alone on ready-made masked inputs (plain forward, the same
  batch and truncated sequence as ``score``): what the architecture costs, whatever we do around it.

Wall times are best-of; ``cpu_s_per_image`` gives the same calls' best process CPU time, steadier than wall
time on a shared machine (one thread: CPU time is the work done; with several it sums their times).

The default 40×52 image is below ``hf_inputs.REPLAY_CPU_MAX_PIXELS``, so CPU runs time the replay; larger
``--size`` on a CPU makes ``pixel_space`` mask-then-process too (``masking_path`` says so).

``ratio_to_llava`` divides a family's seconds per image by LLaVA-1.5's on the same path. The families give
the same image different numbers of image tokens, so ``ratio_to_llava_same_tokens`` divides by LLaVA-1.5
at the family's token count instead: tiny LLaVAs with 4, 16, 36 and 64 image tokens (tile 16..64 px, patch
8) are timed the same way and interpolated linearly in the token count (``--no-reference`` skips them).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xattr_lab.bench._common import check_out, emit, set_threads

PROMPT = "what is in the image ?"
TARGET = "red circle"
_SUFFIX = {"s_per_image": "", "cpu_s_per_image": "_cpu"}  # ratio key suffix per clock
FAMILY_ORDER = ("llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "idefics3", "idefics3_split")


def _builders() -> dict[str, Any]:
    """The tiny-family builders of the repository's tests (``tests/models/tiny.py`` and the BYOM test)."""
    here = Path(__file__).resolve().parents[2] / "tests" / "models"
    if not (here / "tiny.py").exists():
        raise ValueError(f"--family: the tiny builders live in the repository's tests ({here}); use --model DIR")
    sys.path.insert(0, str(here))
    from test_byom_roundtrip import tiny_idefics3_split, tiny_qwen2_5_vl
    from tiny import FAMILIES

    return {**FAMILIES, "qwen2_5_vl": tiny_qwen2_5_vl, "idefics3_split": tiny_idefics3_split}


def block_masks(n: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """``n`` masks [n, H, W], each hiding one random axis-aligned block (hard edges)."""
    rng = np.random.default_rng(seed)
    masks = torch.ones(n, height, width)
    for i in range(n):
        h, w = rng.integers(height // 6, height // 2 + 1), rng.integers(width // 6, width // 2 + 1)
        y, x = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
        masks[i, y : y + h, x : x + w] = 0
    return masks


def bench_model(model: Any, image: np.ndarray, n_masks: int, repeats: int) -> dict[str, Any]:
    """Timings of one model: seconds per masked image per path, whole score call and inputs alone."""
    gen = model.with_target(model.generate(image, PROMPT, max_new_tokens=1), TARGET)
    masks = block_masks(n_masks, *image.shape[:2])
    prep = model._prepare(gen.image, gen.prompt)
    geometry = gen.geometry
    fns = {}
    for path, flag in (("pixel_space", True), ("mask_then_process", False)):
        fns[f"score_{path}"] = lambda flag=flag: model.score(gen, masks, pixel_space=flag)
        fns[f"inputs_{path}"] = lambda flag=flag: model._image_inputs(prep, masks, "black", flag)
    fns["score_pixel_space_plain_forward"] = lambda: _plain(model, lambda: model.score(gen, masks, pixel_space=True))
    # the forward score makes (every generated token read, the sequence cut before the last), inputs ready-made
    pos = list(range(gen.n_generated))
    seq = model._sequence(prep, gen, pos[-1])
    keep = torch.tensor([gen.input_ids.shape[0] + p - 1 for p in pos]).expand(n_masks, -1)
    targets = gen.generated_ids[pos].expand(n_masks, -1)
    ready = {k: v.expand(n_masks, -1) for k, v in seq.items()} | model._image_inputs(prep, masks, "black", True)

    def forward() -> None:
        with torch.no_grad():
            model._forward_probs(ready, keep, targets)

    fns["model_forward"] = forward
    wall, cpu = _timed(fns, repeats)
    p_px = model.score(gen, masks, pixel_space=True)
    p_mp = model.score(gen, masks, pixel_space=False)
    p_plain = _plain(model, lambda: model.score(gen, masks, pixel_space=True))
    return {
        "masking_path": geometry.get("masking_path", "pixel_space" if geometry.get("pixel_space_masking") else
                                     "mask_then_process"),  # fmt: skip
        "forward_path": geometry.get("forward_path", "plain"),
        "n_image_tokens": int(geometry.get("n_image_tokens", 0)),
        "pixel_values_shape": geometry.get("pixel_values_shape"),
        "images_scored": n_masks,
        "s_per_image": {k: v / n_masks for k, v in wall.items()},
        "cpu_s_per_image": {k: v / n_masks for k, v in cpu.items()},
        "max_abs_prob_diff_pixel_space_vs_mask_then_process": float((p_px - p_mp).abs().max()),
        "max_abs_prob_diff_fast_vs_plain_forward": float((p_px - p_plain).abs().max()),
        "max_rel_prob_diff_fast_vs_plain_forward": float(((p_px - p_plain).abs() / p_plain.clamp_min(1e-30)).max()),
    }


def _plain(model: Any, fn: Any) -> Any:
    """``fn()`` with the model's plain forward (no shared work passed in)."""
    model.fast_forward = False
    try:
        return fn()
    finally:
        model.fast_forward = True


def _timed(fns: dict[str, Any], repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """Best wall and best process CPU time of each function, round-robin over ``repeats`` rounds after a warm-up."""
    for fn in fns.values():
        fn()
    wall = dict.fromkeys(fns, float("inf"))
    cpu = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            wall[name] = min(wall[name], time.perf_counter() - w)
            cpu[name] = min(cpu[name], time.process_time() - c)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xattr_lab.bench.families", description=__doc__.split("\n")[0])
    parser.add_argument("--family", nargs="*", default=list(FAMILY_ORDER), help="tiny families to build")
    parser.add_argument("--model", nargs="*", default=[], help="model directories (anything load_model takes)")
    parser.add_argument("--masks", type=int, default=64, help="masked images per score call")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many rounds")
    parser.add_argument("--size", type=int, nargs=2, default=(40, 52), metavar=("H", "W"), help="image size")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-reference", action="store_true", help="skip LLaVA at matched token counts")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    check_out(args.out)
    if args.masks < 1 or args.repeats < 1:
        parser.error("--masks and --repeats must be positive")
    threads = set_threads(args.threads)
    from xattr_lab.models.loading import load_model

    image = np.random.default_rng(0).integers(0, 256, (*args.size, 3), dtype=np.uint8)
    models: dict[str, Any] = {}
    builders = _builders() if args.family else {}
    for name in args.family:
        if name not in builders:
            parser.error(f"--family: unknown {name!r}; expected some of {', '.join(FAMILY_ORDER)}")
        models[name] = lambda name=name: load_model(builders[name](), device="cpu")
    for path in args.model:
        models[path] = lambda path=path: load_model(path)
    rows = {name: bench_model(make(), image, args.masks, args.repeats) for name, make in models.items()}
    if "llava" in rows:
        for clock in ("s_per_image", "cpu_s_per_image"):
            ref = rows["llava"][clock]
            for row in rows.values():
                row[f"ratio_to_llava{_SUFFIX[clock]}"] = {k: v / ref[k] for k, v in row[clock].items()}
    reference: dict[int, dict[str, Any]] = {}
    if not args.no_reference and args.family:
        for size in (16, 32, 48, 64):
            r = bench_model(load_model(builders["llava"](size=size, patch=8), device="cpu"), image, args.masks,
                            args.repeats)  # fmt: skip
            reference[r["n_image_tokens"]] = {clock: r[clock] for clock in _SUFFIX}
        tokens = sorted(reference)
        for row in rows.values():
            for clock, suffix in _SUFFIX.items():
                row[f"ratio_to_llava_same_tokens{suffix}"] = {
                    k: v / float(np.interp(row["n_image_tokens"], tokens, [reference[t][clock][k] for t in tokens]))
                    for k, v in row[clock].items()
                }
    result = {
        "bench": "families",
        "masks": args.masks,
        "repeats": args.repeats,
        "image_size": list(args.size),
        "threads": threads,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "families": rows,
        "llava_by_image_tokens": reference,
    }
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
