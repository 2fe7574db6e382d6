"""``xattr-lab bench compare``: every method on held-out scenes, faithfulness and localisation, with intervals.

``--suite`` picks the world and its model: ``shapes`` (ShapesVLM, the default), ``clutter``
(``toy-clutter``), ``clutter_balanced`` (clutter's colour and shape questions where the answer is not the
scene's only commonest colour or shape, so frequency alone does not answer them) or ``shortcut``
(``toy-shortcut``, where a marker's colour decides the answer); each with default regions fine enough for
its pointing games (``Suite.regions``: slico:16, slico:64, slico:64, slico:32).

Faithfulness: for each held-out question (``--n`` per task, 100 by default) the model answers once and every
method explains that answer on the same regions (``xattr_lab.compare``); per method and scene insertion AUC,
deletion AUC, the pointing game on the named object's mask and box (plausibility), in the shortcut world the
pointing game on the cue's mask (``pointing_cue``: what the model really uses, the faithfulness ground
truth), forwards and seconds, and the pointing games' ceiling for region-level maps (``pointing_ceiling``:
the share of scenes where some region is mostly inside the ground truth). It prints each metric's mean with
a 95% percentile-bootstrap interval over scenes, each method's paired difference against EAGLE (mean,
interval, win rate), the saturation guard, and which of EAGLE's claims against each Captum baseline hold:
``eagle_vs_captum`` compares the means (as before suites), ``eagle_vs_captum_ci`` says ``holds`` when the
paired interval excludes zero in EAGLE's favour, ``fails`` when it excludes zero against EAGLE and
``undecided`` otherwise.

Localisation (TAM's metrics): for caption scenes (``--n-captions``; worlds with captions) the ground-truth
caption is teacher-forced and each white-box map method draws one map per word; colour and shape words are
scored against their object's mask (Obj-IoU, Otsu threshold), ``a`` / ``and`` as function words (Func-IoU),
F1-IoU their harmonic mean; with intervals and each map method paired against ``tam``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from xattr_lab.bench._common import (
    SUITES,
    _world,
    ceiling_summary,
    check_out,
    check_tasks,
    emit,
    ground_truth_pointing,
    held_out_questions,
    leaderboard,
    load,
    method_names,
    progress,
    render_ceiling,
    render_leaderboard,
    set_threads,
)

CAPTUM = ("integrated_gradients", "saliency", "layer_gradcam", "occlusion", "feature_ablation", "kernel_shap", "lime")
ALL = ("eagle", "lima", *CAPTUM, "tam", "arc", "msea", "tam_msea_arc", "random")
MAP_METHODS = ("tam", "arc", "msea", "tam_msea_arc")
# light settings for the sampling baselines so the benchmark fits a CPU
PARAMS = {
    "kernel_shap": {"n_samples": 64},
    "lime": {"n_samples": 64},
    "integrated_gradients": {"n_steps": 16},
    "occlusion": {"window": 24, "stride": 12},
}
TIE = 1e-3  # a paired interval inside +-TIE AUC is a tie, not a win decided by float noise


def _faithfulness(
    model: Any, samples: list[Any], methods: list[str], regions: str, search: str | None, cue: bool
) -> tuple[dict[str, list[dict[str, float]]], list[bool]]:
    """Per method, one row of metrics per scene (NaN where the method failed), and per scene correctness."""
    import xattr_lab

    nan = float("nan")
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    correct = []
    started = time.perf_counter()
    for i, s in enumerate(samples):
        progress(i, len(samples), started)
        gen = model.generate(s.image, s.prompt, max_new_tokens=4)
        correct.append(gen.text.strip().lower() == s.answer.lower())
        mask = s.masks[s.target] if s.target is not None else None
        cmp = xattr_lab.compare(
            model, s.image, s.prompt, methods=methods, regions=regions, generation=gen, mask=mask,
            params={m: PARAMS[m] for m in methods if m in PARAMS}, seed=s.seed, rescore=False, progress=False,
            **({"search": search} if search else {}),
        )  # fmt: skip
        if cmp.partial:  # Ctrl-C: stop the benchmark (exit 130) rather than average truncated rows
            raise KeyboardInterrupt
        for row in cmp.rows:
            m = row["method"]
            if row.get("error") and not str(row["error"]).startswith("rescoring"):
                # a method that raised has no scores (compare() warned): NaN keeps the scenes aligned
                runs[m].append({"insertion_auc": nan, "deletion_auc": nan, "forwards": float(row["forwards"])})
                continue
            runs[m].append(
                {
                    "insertion_auc": float(row["insertion_auc"]),
                    "deletion_auc": float(row["deletion_auc"]),
                    "forwards": float(row["forwards"]),
                    "seconds": float(row["seconds"]),
                    "peak_memory_mb": float(row["peak_memory_mb"]),
                    **ground_truth_pointing(cmp[m].pixel_map, s, cue, mask_hit=row["pointing_game"]),
                }
            )
    return runs, correct


def _claims(summary: dict[str, dict[str, float]], pairs: dict[str, dict[str, dict[str, float]]]) -> dict:
    """EAGLE's claims against each Captum baseline: by the means, and by the paired interval."""
    eagle = summary.get("eagle")
    if eagle is None:
        return {"eagle_vs_captum": {}, "eagle_vs_captum_ci": {}}

    def verdict(p: dict[str, float] | None, eagle_better_if_negative: bool) -> str:
        if not p or not p["n"]:
            return "undecided"
        if max(abs(p["low"]), abs(p["high"])) < TIE:  # e.g. a model that ignores the image: float noise
            return "tie"
        # the pair is (method - eagle): EAGLE is better on insertion when it is < 0, on deletion when > 0
        low, high = (p["low"], p["high"]) if eagle_better_if_negative else (-p["high"], -p["low"])
        return "holds" if high < 0 else "fails" if low > 0 else "undecided"

    means, ci = {}, {}
    for m in CAPTUM:
        if m not in summary:
            continue
        pm = pairs.get(m, {})
        means[m] = {
            "insertion_geq": eagle["insertion_auc"] >= summary[m]["insertion_auc"],
            "deletion_leq": eagle["deletion_auc"] <= summary[m]["deletion_auc"],
        }
        ci[m] = {
            "insertion": verdict(pm.get("insertion_auc"), True),
            "deletion": verdict(pm.get("deletion_auc"), False),
        }
    return {"eagle_vs_captum": means, "eagle_vs_captum_ci": ci}


def _localisation(model: Any, samples: list[Any], methods: list[str]) -> dict[str, list[dict[str, float]]]:
    """Per map method, TAM's localisation scores per caption scene, scored as ``bench tam`` scores them.

    Colour and shape words are the object words; the share of flat maps is reported by ``bench tam`` only.
    """
    from xattr_lab.bench.tam_native import localise

    per = localise(model, samples, methods, {}, "both")
    return {m: [{k: v for k, v in row.items() if k != "flat_maps"} for row in rows] for m, rows in per.items()}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="xattr-lab bench compare", description=__doc__.split("\n")[0])
    p.add_argument("--suite", default="shapes", choices=list(SUITES), help="world and default model")
    p.add_argument("--model", default=None, help="load_model spec (default: the suite's model)")
    p.add_argument("--n", type=int, default=100, help="held-out scenes per task (faithfulness); 0 skips")
    p.add_argument("--n-captions", type=int, default=100, help="held-out caption scenes (localisation); 0 skips")
    p.add_argument("--tasks", default=None, help="comma-separated tasks (default: the suite's short-answer tasks)")
    p.add_argument("--methods", default=",".join(ALL), help="comma-separated registry names")
    p.add_argument("--regions", default=None, help="regions spec (default: the suite's, see Suite.regions)")
    p.add_argument("--search", default=None, help="search engine for EAGLE and LiMA (default: theirs)")
    p.add_argument("--seed", type=int, default=1, help="scene stream (>= 1 is held out from training)")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    p.add_argument("--boot-seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    world = SUITES[args.suite]
    if args.n < 0 or args.n_captions < 0:
        p.error("--n, --n-captions: expected non-negative numbers of scenes")
    if args.seed < 1:
        p.error("--seed: stream 0 is the training stream; use >= 1")
    try:
        tasks = check_tasks(args.tasks, world) if args.tasks else list(world.tasks)
    except ValueError as err:
        p.error(str(err))
    check_out(args.out)
    model_name = args.model or world.model
    regions = args.regions or world.regions
    methods = method_names(args.methods)
    threads = set_threads(args.threads)
    model = load(model_name)
    start = time.perf_counter()
    samples = held_out_questions(args.n, args.seed, tasks, world.name) if args.n else []
    runs, correct = _faithfulness(model, samples, methods, regions, args.search, world.cue)
    board = leaderboard({m: r for m, r in runs.items() if r}, n_boot=args.n_boot, seed=args.boot_seed)
    summary = {m: {k: c["mean"] for k, c in per.items()} for m, per in board["ci"].items()}
    loc_methods = [m for m in methods if m in MAP_METHODS]
    captions: list[Any] = []
    if world.caption and args.n_captions and loc_methods:
        # the stream after the task streams (shapes: seed * 100 + 2, as before suites)
        captions = list(_world(world.name)(args.n_captions, seed=args.seed * 100 + len(world.tasks), task="caption"))
    loc_runs = _localisation(model, captions, loc_methods) if captions else {}
    loc_board = leaderboard(loc_runs, reference="tam", n_boot=args.n_boot, seed=args.boot_seed) if loc_runs else {}
    loc = {m: {k: c["mean"] for k, c in per.items()} for m, per in loc_board.get("ci", {}).items()}
    command = " ".join(["xattr-lab bench compare", *argv])
    result = {
        "bench": "compare",
        "suite": world.name,
        "model": model_name,
        "n": len(samples),
        "n_per_task": args.n,
        "tasks": ",".join(tasks),
        "n_captions": len(captions),
        "regions": regions,
        "search": args.search or "default",
        "seed": args.seed,
        "threads": threads,
        "params": {m: PARAMS[m] for m in methods if m in PARAMS},
        "answer_accuracy": float(np.mean(correct)) if correct else float("nan"),
        "methods": summary,
        **board,
        "pointing_ceiling": ceiling_summary(samples, regions, world.cue) if samples else {},
        **_claims(summary, board.get("vs_eagle", {})),
        "localisation": loc,
        "localisation_ci": loc_board.get("ci", {}),
        "localisation_vs_tam": loc_board.get("vs_tam", {}),
        "seconds": time.perf_counter() - start,
        "command": command,
    }
    if "tam" in loc and "tam_msea_arc" in loc:
        result["f1_iou_tam_msea_arc_above_tam"] = loc["tam_msea_arc"]["f1_iou"] > loc["tam"]["f1_iou"]
    emit(result, args.out)
    title = (
        f"bench compare, suite {world.name}, model {model_name}: {len(samples)} held-out scenes "
        f"({args.n} per task: {', '.join(tasks)}), answer accuracy {result['answer_accuracy']:.3f}, "
        f"regions {regions}; mean [95% bootstrap CI over scenes]"
    )
    if board["ci"]:
        print(render_leaderboard(board, title), file=sys.stderr)
        print(render_ceiling(result["pointing_ceiling"], regions), file=sys.stderr)
    if loc_board:
        lines = [f"localisation on {len(captions)} caption scenes (TAM's metrics), mean [95% CI]:"]
        for m, per in loc_board["ci"].items():
            cells = [f"{k} {c['mean']:.3f} [{c['low']:.3f}, {c['high']:.3f}]" for k, c in per.items() if c["n"]]
            lines.append(f"  {m:<14}" + "; ".join(cells))
        for m, per in loc_board.get("vs_tam", {}).items():
            f1 = per.get("f1_iou")
            if f1 and f1["n"]:
                lines.append(f"  {m} - tam, F1-IoU: {f1['diff']:+.3f} [{f1['low']:+.3f}, {f1['high']:+.3f}]")
        print("\n".join(lines), file=sys.stderr)
    for m, c in result["eagle_vs_captum_ci"].items():
        print(f"EAGLE's claim against {m}: insertion {c['insertion']}, deletion {c['deletion']}", file=sys.stderr)
    return 0


__all__ = ["main"]


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
