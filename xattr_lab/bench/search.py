"""``xattr-lab bench search``: forward counts, wall time and faithfulness of the search engines.

For N regions (an exact grid, so counts compare with the formulas) it runs naive greedy without
memoisation (the papers' reference: N(N+1) forwards), the same with memoisation, LiMA's bidirectional
search, EAGLE's efficient variant (10/8/5 and 8/4/10) and early-stopped settings, all with EAGLE's
objective, and reports per setting: forwards of the search, forwards including its curves, score calls,
seconds, insertion and deletion AUC, and the ratios to naive greedy. With ``--model synthetic`` (default)
it is fast and exact; ``--model toy-shapes --scenes K`` measures the real ShapesVLM on held-out scenes, and
``--suite shapes|clutter|clutter_balanced|shortcut --scenes K`` the suite's model on K held-out scenes of
its world (the first task of the suite: colour questions). With more than one scene, the ratios also come
per scene with a 95% percentile-bootstrap interval, and ``claims`` says whether the seed papers' claims
hold on the mean ratios: bidirectional search keeps >= 97% of naive greedy's insertion AUC with <= 65% of
its forwards, and some efficient setting keeps >= 97% with >= 5x fewer forwards.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from xattr_lab.bench._common import SUITES, check_out, emit, grid_for, held_out_questions, load, set_threads
from xattr_lab.metrics.uncertainty import bootstrap_ci

SETTINGS: dict[str, tuple[str, dict[str, Any], bool]] = {
    # name: (engine, engine params, memoise)
    "naive": ("greedy", {}, False),
    "greedy_memo": ("greedy", {}, True),
    "bidirectional": ("bidirectional", {"pending": 8}, True),
    "bidirectional_reference": ("bidirectional", {"pending": 8}, False),
    "efficient_10_8_5": ("efficient", {"search_scope": 10, "pending": 8, "update_step": 5}, True),
    "efficient_8_4_10": ("efficient", {"search_scope": 8, "pending": 4, "update_step": 10}, True),
    "efficient_10_8_10": ("efficient", {"search_scope": 10, "pending": 8, "update_step": 10}, True),
    "efficient_10_8_5_early_0.02": (
        "efficient",
        {"search_scope": 10, "pending": 8, "update_step": 5, "early_stop": 0.02},
        True,
    ),
    "efficient_6_4_16": ("efficient", {"search_scope": 6, "pending": 4, "update_step": 16}, True),
    "efficient_7_4_12": ("efficient", {"search_scope": 7, "pending": 4, "update_step": 12}, True),
    "efficient_6_4_12": ("efficient", {"search_scope": 6, "pending": 4, "update_step": 12}, True),
    "efficient_8_3_16": ("efficient", {"search_scope": 8, "pending": 3, "update_step": 16}, True),
    "efficient_8_4_10_early_0.05": (
        "efficient",
        {"search_scope": 8, "pending": 4, "update_step": 10, "early_stop": 0.05},
        True,
    ),
    "greedy_early_0.01": ("greedy", {"early_stop": 0.01}, True),
    "greedy_early_0.05": ("greedy", {"early_stop": 0.05}, True),
    "bidirectional_early_0.02": ("bidirectional", {"pending": 8, "early_stop": 0.02}, True),
    "efficient_8_4_10_early_0.02": (
        "efficient",
        {"search_scope": 8, "pending": 4, "update_step": 10, "early_stop": 0.02},
        True,
    ),
}


def run_setting(model: Any, gen: Any, regions: Any, positions: Any, setting: str) -> dict[str, float]:
    from xattr_lab.attr.objectives import EagleObjective
    from xattr_lab.attr.search import run_search
    from xattr_lab.metrics.curves import perturbation_curves
    from xattr_lab.metrics.faithfulness import curve_metrics
    from xattr_lab.scoring.subsets import SubsetScorer

    engine, params, memoise = SETTINGS[setting]
    scorer = SubsetScorer(model, gen, regions, positions, memoise=memoise)
    start = time.perf_counter()
    result = run_search(engine, EagleObjective(scorer), regions.n, **params)
    if result.partial:  # Ctrl-C: stop the benchmark (exit 130) rather than record a truncated search
        raise KeyboardInterrupt
    seconds = time.perf_counter() - start
    search_forwards = scorer.n_forward
    ins, dele, area = perturbation_curves(scorer, result.order)
    m = curve_metrics(ins, dele, area)
    return {
        "forwards": search_forwards,
        "forwards_with_curves": scorer.n_forward,
        "calls": scorer.n_calls,
        "seconds": seconds,
        "seconds_with_curves": time.perf_counter() - start,
        "insertion_auc": m["insertion_auc"],
        "deletion_auc": m["deletion_auc"],
    }


def _scenes(model_name: str, model: Any, k: int, seed: int, world: str) -> list[tuple[Any, tuple[int, ...]]]:
    if model_name == "synthetic":
        return [(model.generate(), tuple(range(len(model.words))))]
    if world == "shapes":  # before suites: stream ``seed`` of the colour task, kept so old figures reprint
        from xattr_lab.datasets import shapes

        samples = list(shapes(k, seed=seed, task="colour"))
    else:
        samples = held_out_questions(k, seed, [SUITES[world].tasks[0]], world)
    out = []
    for s in samples:
        gen = model.generate(s.image, s.prompt, max_new_tokens=4)
        out.append((gen, tuple(range(gen.n_generated))))
    return out


def _claims(settings: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The seed papers' search claims, checked on the mean ratios to naive greedy."""
    out: dict[str, Any] = {}
    bi = settings.get("bidirectional")
    if bi and "insertion_keep_vs_naive" in bi:
        out["bidirectional_97pct_at_65pct_forwards"] = bool(
            bi["insertion_keep_vs_naive"] >= 0.97 and bi["forward_fraction_of_naive"] <= 0.65
        )
    eff = {k: v for k, v in settings.items() if k.startswith("efficient") and "insertion_keep_vs_naive" in v}
    if eff:
        ok = [k for k, v in eff.items() if v["insertion_keep_vs_naive"] >= 0.97 and v["speedup_vs_naive"] >= 5]
        out["efficient_5x_at_97pct"] = bool(ok)
        out["efficient_settings_that_hold"] = ok
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="xattr-lab bench search", description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None, help="'synthetic' (default without --suite) or a load_model spec")
    p.add_argument("--suite", default=None, choices=list(SUITES), help="world of the scenes; its model by default")
    p.add_argument("--sizes", default="16,32,48,64", help="region counts N")
    p.add_argument("--scenes", type=int, default=1, help="held-out scenes (real models)")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (ratios' intervals)")
    p.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated subset of settings")
    p.add_argument("--seed", type=int, default=1, help="scene stream (>= 1 is held out from training)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=None, help="also write the JSON here")
    args = p.parse_args(argv)
    check_out(args.out)
    settings = [s for s in args.settings.split(",") if s]
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        p.error(f"--settings: unknown {sorted(unknown)}; choose from {list(SETTINGS)}")
    from xattr_lab.inputs import make_regions

    if args.scenes < 1:
        p.error("--scenes: expected a positive number of scenes")
    model_name = args.model or (SUITES[args.suite].model if args.suite else "synthetic")
    threads = set_threads(args.threads)
    model = load(model_name)
    scenes = _scenes(model_name, model, args.scenes, args.seed, args.suite or "shapes")
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        per: dict[str, list[dict[str, float]]] = {s: [] for s in settings}
        for gen, positions in scenes:
            regions = make_regions(grid_for(n), gen.image)
            for s in settings:
                per[s].append(run_setting(model, gen, regions, positions, s))
        row: dict[str, Any] = {"n_regions": n, "naive_formula": n * (n + 1), "settings": {}}
        for s, runs in per.items():
            row["settings"][s] = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        base_name = "naive" if "naive" in per else "greedy_memo" if "greedy_memo" in per else None
        if base_name:
            base = row["settings"][base_name]
            for s, v in row["settings"].items():
                v["forward_fraction_of_naive"] = v["forwards"] / base["forwards"]
                v["speedup_vs_naive"] = base["forwards"] / max(v["forwards"], 1)
                v["insertion_keep_vs_naive"] = v["insertion_auc"] / base["insertion_auc"]
                if len(scenes) > 1:  # per-scene ratios: how much the mean ratio moves with the scenes
                    keep = [r["insertion_auc"] / b["insertion_auc"] for r, b in zip(per[s], per[base_name])]
                    frac = [r["forwards"] / b["forwards"] for r, b in zip(per[s], per[base_name])]
                    for key, vals in (("insertion_keep_ci", keep), ("forward_fraction_ci", frac)):
                        est = bootstrap_ci(vals, n_boot=args.n_boot)
                        v[key] = [est.mean, est.low, est.high]
            row["claims"] = _claims(row["settings"])
        rows.append(row)
    emit(
        {
            "bench": "search",
            "model": model_name,
            "suite": args.suite,
            "scenes": len(scenes),
            "threads": threads,
            "objective": "eagle (1, 1)",
            "regions": "exact grids",
            "rows": rows,
        },
        args.out,
    )
    for row in rows:
        print(f"N = {row['n_regions']} regions, {len(scenes)} scene(s), model {model_name}:", file=sys.stderr)
        for name, v in row["settings"].items():
            ratios = (
                f"  keep {v['insertion_keep_vs_naive']:.3f}  {v['speedup_vs_naive']:.2f}x fewer forwards"
                if "speedup_vs_naive" in v
                else ""
            )
            line = f"  {name:<30} forwards {v['forwards']:>8.0f}  insertion {v['insertion_auc']:.3f}{ratios}"
            print(line, file=sys.stderr)
        if row.get("claims"):
            print(f"  claims: {row['claims']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
