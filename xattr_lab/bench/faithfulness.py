"""``xattr-lab bench faithfulness``: methods side by side on held-out scenes, with bootstrap intervals.

``--suite`` picks the world and its model: ``shapes`` (ShapesVLM, the default), ``clutter`` (160-px scenes
that need binding, ``toy-clutter``), ``clutter_balanced`` (its colour and shape questions with the
commonest-colour shortcut closed) or ``shortcut`` (a marker's colour decides the answer,
``toy-shortcut``). For each scene (``--n`` per task, 100 by default, on held-out streams) the model answers
once and every method explains that answer on the same regions. Per method and scene it records insertion
AUC, deletion AUC, AHS, the pointing game on the named object's ground-truth mask and box, in the shortcut
world also on the cue's mask (``pointing_cue``: the evidence the model really uses, so cue pointing is the
faithfulness ground truth and object pointing plausibility), forwards and seconds. ``pointing_ceiling`` is
the share of scenes where some region is mostly inside the ground truth: a region-level map cannot win the
pointing game elsewhere (its flat maximum must lie mostly inside), so compare region methods' pointing with
it. It prints every metric's mean with a 95% percentile-bootstrap interval over scenes, each method's paired
difference against EAGLE (mean, its interval, win rate), and a saturation guard (random's insertion AUC
above 0.6, or the non-random methods less than 0.1 apart), as strict JSON on stdout and as a table on
stderr. ``forwards`` is ``Explanation.cost["n_forward"]`` (the scorer's images and the method's own
forwards), the figure every other report shows; search methods draw their default map
(``map_style="contribution"``, see :mod:`xattr_lab.attr.mapping`). The regions are made once per scene and
handed to every method and to the ceiling, so ``seconds`` is a method's ``explain`` call on them (the
partition's own time is not in it).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from xattr_lab.bench._common import (
    SUITES,
    ceiling_summary,
    check_out,
    check_tasks,
    emit,
    ground_truth_pointing,
    held_out_questions,
    leaderboard,
    load,
    method_names,
    pointing_ceiling,
    progress,
    render_ceiling,
    render_leaderboard,
    set_threads,
)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="xattr-lab bench faithfulness", description=__doc__.split("\n")[0])
    p.add_argument("--suite", default="shapes", choices=list(SUITES), help="world and default model")
    p.add_argument("--model", default=None, help="load_model spec (default: the suite's model)")
    p.add_argument("--n", type=int, default=100, help="held-out scenes per task")
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
    p.add_argument("--tasks", default=None, help="comma-separated tasks (default: the suite's short-answer tasks)")
    p.add_argument("--seed", type=int, default=1, help="scene stream (>= 1 is held out from training)")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    p.add_argument("--boot-seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    world = SUITES[args.suite]
    if args.n < 1:
        p.error("--n: expected a positive number of scenes per task")
    if args.seed < 1:
        p.error("--seed: stream 0 is the training stream; use >= 1")
    try:
        tasks = check_tasks(args.tasks, world) if args.tasks else list(world.tasks)
    except ValueError as err:
        p.error(str(err))
    check_out(args.out)
    import xattr_lab
    from xattr_lab.attr.registry import get_method
    from xattr_lab.inputs.regions import make_regions

    model_name = args.model or world.model
    methods = method_names(args.methods)
    threads = set_threads(args.threads)
    model = load(model_name)
    samples = held_out_questions(args.n, args.seed, tasks, world.name)
    rows: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    is_search = {m: get_method(m).family == "search" for m in methods}
    correct: list[bool] = []
    ceilings: list[dict[str, float]] = []
    started = time.perf_counter()
    for i, s in enumerate(samples):
        progress(i, len(samples), started)
        gen = model.generate(s.image, s.prompt, max_new_tokens=4)
        correct.append(gen.text.strip().lower() == s.answer.lower())
        # One partition per scene, as explain() would make it (on the generation's image, with the scene's
        # seed), shared by every method and by the pointing ceiling when it is drawn on the same image.
        regs = make_regions(args.regions, gen.image, seed=s.seed)
        same = np.array_equal(np.asarray(s.image), gen.image)
        ceilings.append(pointing_ceiling(regs if same else args.regions, s, world.cue))
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
                regions=regs,
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
                **ground_truth_pointing(e.pixel_map, s, world.cue),  # NaN without ground truth: left out of means
            }
            rows[m].append(row)
    board = leaderboard(rows, n_boot=args.n_boot, seed=args.boot_seed)
    ceiling = ceiling_summary(samples, args.regions, world.cue, per=ceilings)
    summary = {m: {k: c["mean"] for k, c in per.items()} | {"n": len(rows[m])} for m, per in board["ci"].items()}
    by_task = {
        t: {
            "n": sum(s.task == t for s in samples),
            "answer_accuracy": float(np.mean([c for c, s in zip(correct, samples) if s.task == t] or [np.nan])),
        }
        for t in tasks
    }
    command = " ".join(["xattr-lab bench faithfulness", *argv]) if argv else "xattr-lab bench faithfulness"
    result = {
        "bench": "faithfulness",
        "suite": world.name,
        "model": model_name,
        "n": len(samples),
        "n_per_task": args.n,
        "answer_accuracy": float(np.mean(correct)) if correct else float("nan"),
        "by_task": by_task,
        "regions": args.regions,
        "search": args.search,
        "early_stop": args.early_stop,
        "map_style": args.map_style or "contribution",
        "baseline": args.baseline,
        "tasks": ",".join(tasks),
        "seed": args.seed,
        "threads": threads,
        "methods": summary,
        **board,
        "pointing_ceiling": ceiling,
        "seconds": time.perf_counter() - started,
        "command": command,
    }
    emit(result, args.out)
    counts = ", ".join(f"{t} {v['n']}" for t, v in by_task.items())
    title = (
        f"bench faithfulness, suite {world.name}, model {model_name}: {len(samples)} held-out scenes "
        f"({counts}), answer accuracy {result['answer_accuracy']:.3f}, "
        f"regions {args.regions}, search {args.search or 'default'}; mean [95% bootstrap CI over scenes]"
    )
    print(render_leaderboard(board, title), file=sys.stderr)
    print(render_ceiling(ceiling, args.regions), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
