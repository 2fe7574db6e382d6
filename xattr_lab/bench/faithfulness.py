"""``xattr-lab bench faithfulness``: methods side by side on held-out ShapesVLM scenes.

For each scene (single-word answers by default: colour and shape questions), the model answers once and
every method explains that answer on the same regions. Per method it reports mean insertion AUC, deletion
AUC, the pointing game on the named object's ground-truth mask and box, forwards and seconds, plus the
same numbers for random region orders (the sanity floor). ``forwards`` is ``Explanation.cost["n_forward"]``
(the scorer's images and the method's own forwards), the figure every other report shows; search methods
draw their default map (``map_style="contribution"``, see :mod:`xattr_lab.attr.mapping`).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from xattr_lab.bench._common import check_out, emit, held_out_questions, load, method_names, set_threads


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="xattr-lab bench faithfulness", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="toy-shapes")
    p.add_argument("--n", type=int, default=50, help="scenes")
    p.add_argument("--methods", default="eagle,random", help="comma-separated registry names")
    p.add_argument("--search", default=None, help="search engine for search methods")
    p.add_argument("--early-stop", type=float, default=None)
    p.add_argument("--regions", default="slico:64")
    p.add_argument(
        "--map-style", default=None, choices=["contribution", "reference"], help="map of eagle/lima (default: theirs)"
    )
    p.add_argument(
        "--baseline", default="black", help="what removed pixels become: black (EAGLE's), mean, white, gray, blur"
    )
    p.add_argument("--tasks", default="colour,shape", help="ShapesVLM tasks (single-word answers)")
    p.add_argument("--seed", type=int, default=1, help="scene stream (>= 1 is held out from training)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    check_out(args.out)
    import xattr_lab
    from xattr_lab.attr.registry import get_method
    from xattr_lab.metrics.localisation import pointing_game

    methods = method_names(args.methods)
    threads = set_threads(args.threads)
    model = load(args.model)
    samples = held_out_questions(args.n, args.seed, args.tasks.split(","))
    rows: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    is_search = {m: get_method(m).family == "search" for m in methods}
    correct = 0
    for s in samples:
        gen = model.generate(s.image, s.prompt, max_new_tokens=4)
        correct += gen.text.strip().lower() == s.answer.lower()
        for m in methods:
            params: dict[str, Any] = {}
            if args.early_stop is not None and is_search[m]:
                params["early_stop"] = args.early_stop
            if args.map_style is not None and m in ("eagle", "lima"):
                params["map_style"] = args.map_style
            start = time.perf_counter()
            e = xattr_lab.explain(
                model,
                s.image,
                s.prompt,
                method=m,
                regions=args.regions,
                search=args.search if is_search[m] else None,
                generation=gen,
                baseline=args.baseline,
                progress=False,
                seed=s.seed,
                **params,
            )
            if e.partial:  # Ctrl-C: stop the benchmark (exit 130) rather than average a truncated result
                raise KeyboardInterrupt
            row = {
                "insertion_auc": e.metrics["insertion_auc"],
                "deletion_auc": e.metrics["deletion_auc"],
                "ahs": e.metrics["ahs"],
                "forwards": float(e.cost["n_forward"]),
                "seconds": time.perf_counter() - start,
            }
            if s.target is not None:
                row["pointing_mask"] = float(pointing_game(e.pixel_map, mask=s.masks[s.target]))
                row["pointing_box"] = float(pointing_game(e.pixel_map, box=s.boxes[s.target]))
            rows[m].append(row)
    summary = {}
    for m, runs in rows.items():
        keys = sorted({k for r in runs for k in r})
        summary[m] = {k: float(np.nanmean([r.get(k, np.nan) for r in runs])) for k in keys}
        summary[m]["n"] = len(runs)
    emit(
        {
            "bench": "faithfulness",
            "model": args.model,
            "n": len(samples),
            "answer_accuracy": correct / max(len(samples), 1),
            "regions": args.regions,
            "search": args.search,
            "early_stop": args.early_stop,
            "map_style": args.map_style or "contribution",
            "baseline": args.baseline,
            "tasks": args.tasks,
            "seed": args.seed,
            "threads": threads,
            "methods": summary,
        },
        args.out,
    )
    return 0
