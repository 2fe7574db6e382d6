"""``xattr-lab bench tam``: TAM against TAM+MSEA+ARC at several input sizes, with TAM's localisation metrics.

The seed claim (Liang et al. 2025) is that MSEA's multi-scale average plus ARC's context suppression beats
plain TAM on F1-IoU. MSEA's argument needs a model whose image-token grid follows the input size (Qwen2-VL),
so that a rescaled input is seen through finer or coarser cells; ``toy-shapes-native`` is such a model (16-px
tokens: 96 px -> 6 x 6, 128 -> 8 x 8, 160 -> 10 x 10), ``toy-shapes`` (the ShapesVLM, every input resized to
96 px) is the fixed-grid contrast, where MSEA falls back to its ``canvas`` mode.

For each size, held-out caption scenes (``shapes(n, seed=stream, task="caption", size=size)``; stream 102 is
``bench compare``'s localisation stream) get the ground-truth caption teacher-forced; each method draws one
map per word; colour and shape words are scored against their object's mask (Obj-IoU, Otsu threshold),
``a`` / ``and`` as function words (Func-IoU), F1-IoU their harmonic mean (:mod:`xattr_lab.metrics.
localisation`); ``--object-words nouns`` scores the shape words only, as TAM's evaluation scores nouns.
Per size and pooled over sizes: mean with a 95% percentile-bootstrap interval over scenes, each method's
paired difference against ``tam`` (mean, interval, win rate), and a verdict on the claim: ``holds`` when the
F1-IoU difference's interval lies above zero, ``fails`` when below, ``undecided`` otherwise. The model's
greedy caption exact match at each size is printed beside it, because maps of a model that cannot read the
image at that size say little, and so is each method's share of flat word maps (``flat_maps``: TAM's ``ReLU``
of the logit lens leaves nothing when every image token's logit for the word is negative; such a map scores
Obj-IoU 0 for every method).

Example: ``xattr-lab bench tam --model toy-shapes-native --sizes 96,128,160 --n 30``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from xattr_lab.bench._common import check_out, emit, leaderboard, load, method_names, set_threads

METHODS = ("tam", "arc", "msea", "tam_msea_arc")
FUNCTION_WORDS = ("a", "and")
METRICS = ("obj_iou", "func_iou", "f1_iou")
OBJECT_WORDS = ("both", "nouns")
DEFAULT_STREAM = 102  # bench compare's localisation stream (seed 1 * 100 + 2)


def parse_sizes(spec: str) -> list[int]:
    """``"96,128,160"`` -> ``[96, 128, 160]``; a ValueError naming ``--sizes`` for anything else."""
    try:
        sizes = [int(s) for s in str(spec).split(",") if s.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(s < 16 for s in sizes):
        raise ValueError(f"--sizes: expected comma-separated image sides >= 16 px, got {spec!r}")
    return sizes


def word_roles(
    words: list[str], objects: tuple[str, ...], object_words: str = "both"
) -> tuple[list[int], list[int], list[int]]:
    """Split a caption's words into object words (with their object's index) and function words.

    Args:
        words: the caption's words.
        objects: ``"<colour> <shape>"`` per object, in caption order.
        object_words: ``"both"`` (colour and shape words, as ``bench compare`` scores them) or ``"nouns"``
            (the shape word only: TAM's evaluation scores the object nouns of a caption, not adjectives).

    Returns:
        (object word positions, the object index of each, function word positions). Each object's phrase
        starts with ``a``; ``a`` and ``and`` are function words; position words (``top left``) are neither.
    """
    if object_words not in OBJECT_WORDS:
        raise ValueError(f"object_words: expected one of {OBJECT_WORDS}, got {object_words!r}")
    obj_pos, obj_idx, func_pos, k = [], [], [], -1
    for p, w in enumerate(words):
        if w == "a":
            k += 1
        names = objects[k].split() if 0 <= k < len(objects) else []
        if w in FUNCTION_WORDS:
            func_pos.append(p)
        elif w in (names[-1:] if object_words == "nouns" else names):
            obj_pos.append(p)
            obj_idx.append(k)
    return obj_pos, obj_idx, func_pos


def word_maps(model: Any, gen: Any, method: str, positions: list[int], params: dict[str, Any]) -> list[np.ndarray]:
    """One pixel map per generated position, straight from the method (localisation needs no curves)."""
    from xattr_lab.attr.context import MethodContext
    from xattr_lab.attr.finalize import resolve_ranking
    from xattr_lab.attr.registry import get_method
    from xattr_lab.inputs.regions import make_regions
    from xattr_lab.scoring.subsets import SubsetScorer

    fn = get_method(method).fn
    regions = make_regions("grid:1", gen.image)
    out = []
    for p in positions:
        ctx = MethodContext(model, gen, regions, (p,), SubsetScorer(model, gen, regions, (p,)))
        out.append(np.asarray(resolve_ranking(ctx, fn(ctx, **params))[2], dtype=np.float64))
    return out


def localise(
    model: Any, samples: list[Any], methods: list[str], params: dict[str, dict[str, Any]], object_words: str = "both"
) -> dict:
    """Per method, TAM's localisation scores per caption scene (teacher-forced ground-truth caption)."""
    from xattr_lab.metrics.localisation import localisation_scores

    per: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    for s in samples:
        gen = model.with_target(model.generate(s.image, s.prompt, max_new_tokens=1), s.answer)
        words = [t.strip().lower() for t in gen.generated_tokens]
        obj_pos, obj_idx, func_pos = word_roles(words, s.objects, object_words)
        for m in methods:
            maps = word_maps(model, gen, m, obj_pos + func_pos, params.get(m, {}))
            pairs = [(mp, s.masks[k]) for mp, k in zip(maps[: len(obj_pos)], obj_idx)]
            row = localisation_scores(pairs, maps[len(obj_pos) :])
            # a flat map (TAM: every image-token logit of the word <= 0, so ReLU leaves nothing) scores
            # Obj-IoU 0 whatever the method; its share says when the figures measure that and not localisation
            row["flat_maps"] = float(np.mean([float(np.ptp(mp)) <= 1e-9 for mp in maps]))
            per[m].append(row)
    return per


def caption_exact(model: Any, samples: list[Any]) -> float:
    """Share of scenes whose greedy caption equals the ground truth (whitespace-normalised)."""
    ok = []
    for s in samples:
        gen = model.generate(s.image, s.prompt, max_new_tokens=40)
        ok.append(" ".join(gen.text.split()) == " ".join(s.answer.split()))
    return float(np.mean(ok)) if ok else float("nan")


def token_grid(model: Any, sample: Any) -> list[int] | None:
    """The (rows, cols) image-token grid the model uses for this sample's image, when the adapter records it."""
    gen = model.generate(sample.image, sample.prompt, max_new_tokens=1)
    grid = (getattr(gen, "geometry", None) or {}).get("grid")
    return [int(grid[0]), int(grid[1])] if grid else None


def verdict(diff: dict[str, float] | None) -> str:
    """``holds`` / ``fails`` / ``undecided`` for a paired F1-IoU difference (method minus TAM)."""
    if not diff or not diff.get("n"):
        return "undecided"
    if diff["low"] > 0:
        return "holds"
    if diff["high"] < 0:
        return "fails"
    return "undecided"


def render(label: str, board: dict[str, Any], extra: str = "") -> str:
    """The printed block of one size (or the pooled figures)."""
    lines = [f"{label}{extra}: mean [95% bootstrap CI over scenes]"]
    for m, per in board["ci"].items():
        cells = [f"{k} {per[k]['mean']:.3f} [{per[k]['low']:.3f}, {per[k]['high']:.3f}]" for k in METRICS if k in per]
        flat = per.get("flat_maps")
        lines.append(f"  {m:<13}" + "; ".join(cells) + (f"; flat maps {flat['mean']:.2f}" if flat else ""))
    for m, per in board.get("vs_tam", {}).items():
        cells = [
            f"{k} {per[k]['diff']:+.3f} [{per[k]['low']:+.3f}, {per[k]['high']:+.3f}] win {per[k]['win_rate']:.2f}"
            for k in METRICS
            if k in per and per[k]["n"]
        ]
        lines.append(f"  {m} - tam: " + "; ".join(cells))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="xattr-lab bench tam", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="toy-shapes-native", help="load_model spec (default: toy-shapes-native)")
    p.add_argument("--sizes", default="96,128,160", help="comma-separated input sides in pixels")
    p.add_argument("--n", type=int, default=30, help="held-out caption scenes per size")
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated map methods (tam is the reference)")
    p.add_argument("--scales", default="0.5,1.0,1.5", help="MSEA's input scales (msea and tam_msea_arc)")
    p.add_argument("--mode", default="auto", choices=("auto", "resize", "canvas"), help="MSEA's scale mode")
    p.add_argument("--object-words", default="both", choices=OBJECT_WORDS, help="scored words (nouns: TAM's eval)")
    p.add_argument("--stream", type=int, default=DEFAULT_STREAM, help="scene stream (>= 1 is held out)")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    p.add_argument("--boot-seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes)
        scales = [float(s) for s in args.scales.split(",") if s.strip()]
    except ValueError as err:
        p.error(str(err))
    if args.n < 1:
        p.error("--n: expected a positive number of scenes per size")
    if args.stream < 1:
        p.error("--stream: stream 0 is the training stream; use >= 1")
    if not scales or any(not s > 0 for s in scales):
        p.error(f"--scales: expected positive numbers, got {args.scales!r}")
    check_out(args.out)
    methods = method_names(args.methods)
    if "tam" not in methods:
        methods = ["tam", *methods]
    threads = set_threads(args.threads)
    model = load(args.model)
    from xattr_lab.datasets.shapes import shapes

    msea_params = {"scales": scales, "mode": args.mode}
    params = {m: dict(msea_params) for m in methods if m in ("msea", "tam_msea_arc")}
    start = time.perf_counter()
    per_size: dict[str, Any] = {}
    pooled: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    for size in sizes:
        t0 = time.perf_counter()
        samples = list(shapes(args.n, seed=args.stream, task="caption", size=size))
        runs = localise(model, samples, methods, params, args.object_words)
        for m in methods:
            pooled[m] += runs[m]
        board = leaderboard(runs, reference="tam", n_boot=args.n_boot, seed=args.boot_seed)
        exact = caption_exact(model, samples)
        grid = token_grid(model, samples[0])
        claim = verdict(board["vs_tam"].get("tam_msea_arc", {}).get("f1_iou"))
        per_size[str(size)] = {
            "grid": grid, "caption_exact": exact, "ci": board["ci"], "vs_tam": board["vs_tam"],
            "claim_tam_msea_arc_beats_tam": claim, "seconds": round(time.perf_counter() - t0, 1),
        }  # fmt: skip
        extra = f", token grid {grid}, caption exact match {exact:.3f}, claim {claim}"
        print(render(f"{args.model} at {size} px, {len(samples)} caption scenes", board, extra), file=sys.stderr)
        sys.stderr.flush()
    board = leaderboard(pooled, reference="tam", n_boot=args.n_boot, seed=args.boot_seed)
    claim = verdict(board["vs_tam"].get("tam_msea_arc", {}).get("f1_iou"))
    print(render(f"{args.model}, all sizes pooled", board, f", claim {claim}"), file=sys.stderr)
    result = {
        "bench": "tam",
        "model": args.model,
        "sizes": sizes,
        "n_per_size": args.n,
        "stream": args.stream,
        "methods": methods,
        "msea": msea_params,
        "object_words": args.object_words,
        "threads": threads,
        "per_size": per_size,
        "pooled": {"ci": board["ci"], "vs_tam": board["vs_tam"], "claim_tam_msea_arc_beats_tam": claim},
        "seconds": round(time.perf_counter() - start, 1),
        "command": " ".join(["xattr-lab bench tam", *argv]),
    }
    emit(result, args.out)
    return 0


__all__ = ["main", "parse_sizes", "verdict", "word_roles"]


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
