"""``xattr-lab bench compare``: every method on held-out ShapesVLM scenes, faithfulness and localisation.

Faithfulness: for each colour / shape question the model answers once and every method explains that answer
on the same regions (``xattr_lab.compare``); means of insertion AUC, deletion AUC, the pointing game on the
named object's mask, forwards and seconds per method, plus which of EAGLE's claims against each Captum
baseline hold.

Localisation (TAM's metrics): for caption scenes the ground-truth caption is teacher-forced and each white-box
map method draws one map per word; colour and shape words are scored against their object's mask (Obj-IoU,
Otsu threshold), ``a`` / ``and`` as function words (Func-IoU), F1-IoU their harmonic mean.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from xattr_lab.bench._common import check_out, emit, held_out_questions, load, method_names, set_threads

CAPTUM = ("integrated_gradients", "saliency", "layer_gradcam", "occlusion", "feature_ablation", "kernel_shap", "lime")
ALL = ("eagle", *CAPTUM, "tam", "arc", "msea", "tam_msea_arc", "random")
MAP_METHODS = ("tam", "arc", "msea", "tam_msea_arc")
# light settings for the sampling baselines so the benchmark fits a CPU
PARAMS = {
    "kernel_shap": {"n_samples": 64},
    "lime": {"n_samples": 64},
    "integrated_gradients": {"n_steps": 16},
    "occlusion": {"window": 24, "stride": 12},
}
FUNCTION_WORDS = ("a", "and")


def _faithfulness(model: Any, samples: list[Any], methods: list[str], regions: str, search: str | None) -> dict:
    import xattr_lab

    runs: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    correct = 0
    for s in samples:
        gen = model.generate(s.image, s.prompt, max_new_tokens=4)
        correct += gen.text.strip().lower() == s.answer.lower()
        cmp = xattr_lab.compare(
            model, s.image, s.prompt, methods=methods, regions=regions, generation=gen, mask=s.masks[s.target],
            params={m: PARAMS[m] for m in methods if m in PARAMS}, seed=s.seed, rescore=False, progress=False,
            **({"search": search} if search else {}),
        )  # fmt: skip
        if cmp.partial:  # Ctrl-C: stop the benchmark (exit 130) rather than average truncated rows
            raise KeyboardInterrupt
        for row in cmp.rows:
            if row.get("error"):  # a method that raised has no scores to average (compare() warned)
                continue
            runs[row["method"]].append({k: float(v) for k, v in row.items() if k not in ("method", "partial", "error")})
    summary = {m: {k: float(np.nanmean([r[k] for r in rs])) for k in rs[0]} for m, rs in runs.items() if rs}
    return {"answer_accuracy": correct / max(len(samples), 1), "methods": summary}


def _claims(summary: dict[str, dict[str, float]]) -> dict[str, dict[str, bool]]:
    eagle = summary.get("eagle")
    if eagle is None:
        return {}
    return {
        m: {
            "insertion_geq": eagle["insertion_auc"] >= summary[m]["insertion_auc"],
            "deletion_leq": eagle["deletion_auc"] <= summary[m]["deletion_auc"],
        }
        for m in CAPTUM
        if m in summary
    }


def _word_maps(model: Any, gen: Any, method: str, positions: list[int]) -> list[np.ndarray]:
    """One map per word, straight from the method (no curves: localisation needs only the map)."""
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
        out.append(resolve_ranking(ctx, fn(ctx))[2])
    return out


def _localisation(model: Any, samples: list[Any], methods: list[str]) -> dict:
    from xattr_lab.metrics.localisation import localisation_scores

    per: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    for s in samples:
        gen = model.with_target(model.generate(s.image, s.prompt, max_new_tokens=1), s.answer)
        words = [t.strip().lower() for t in gen.generated_tokens]
        obj_pos, obj_masks, func_pos, k = [], [], [], -1
        for p, w in enumerate(words):
            if w == "a":
                k += 1  # each object's phrase starts with "a"
            if w in FUNCTION_WORDS:
                func_pos.append(p)
            elif 0 <= k < len(s.objects) and w in s.objects[k].split():
                obj_pos.append(p)
                obj_masks.append(s.masks[k])
        for m in methods:
            maps = _word_maps(model, gen, m, obj_pos + func_pos)
            per[m].append(localisation_scores(list(zip(maps[: len(obj_pos)], obj_masks)), maps[len(obj_pos) :]))
    return {m: {k: float(np.nanmean([r[k] for r in rs])) for k in rs[0]} for m, rs in per.items() if rs}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="xattr-lab bench compare", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="toy-shapes")
    p.add_argument("--n", type=int, default=50, help="held-out colour/shape scenes (faithfulness)")
    p.add_argument("--n-captions", type=int, default=50, help="held-out caption scenes (localisation); 0 skips")
    p.add_argument("--methods", default=",".join(ALL), help="comma-separated registry names")
    p.add_argument("--regions", default="slico:16")
    p.add_argument("--search", default=None, help="search engine for EAGLE (default greedy)")
    p.add_argument("--seed", type=int, default=1, help="scene stream (>= 1 is held out from training)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    check_out(args.out)
    from xattr_lab.datasets import shapes

    methods = method_names(args.methods)
    threads = set_threads(args.threads)
    model = load(args.model)
    start = time.perf_counter()
    samples = held_out_questions(args.n, args.seed, ["colour", "shape"])
    faith = _faithfulness(model, samples, methods, args.regions, args.search) if args.n else {"methods": {}}
    loc_methods = [m for m in methods if m in MAP_METHODS]
    captions = list(shapes(args.n_captions, seed=args.seed * 100 + 2, task="caption"))  # a third stream
    loc = _localisation(model, captions, loc_methods) if captions and loc_methods else {}
    result = {
        "bench": "compare",
        "model": args.model,
        "n": len(samples),
        "n_captions": len(captions),
        "regions": args.regions,
        "search": args.search or "greedy",
        "seed": args.seed,
        "threads": threads,
        "params": {m: PARAMS[m] for m in methods if m in PARAMS},
        **faith,
        "eagle_vs_captum": _claims(faith["methods"]),
        "localisation": loc,
        "seconds": time.perf_counter() - start,
    }
    if "tam" in loc and "tam_msea_arc" in loc:
        result["f1_iou_tam_msea_arc_above_tam"] = loc["tam_msea_arc"]["f1_iou"] > loc["tam"]["f1_iou"]
    emit(result, args.out)
    return 0


__all__ = ["main"]
