"""Hallucination diagnosis: CSR@10% and AMCR on the absent-object questions a model gets wrong.

For every held-out presence question about an object that is not in the scene, the model generates an
answer; each wrong one ("yes") is explained with the correct answer ("no") as the target, and the correction
area (the smallest share of the image, removed lowest-ranked first, after which the model says "no") is
measured for each method's ranking (``xattr_lab.metrics.hallucination``). A faithful ranking corrects the
hallucination by removing little: low AMCR, high CSR@10%. A random ranking is the reference.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from xattr_lab.bench._common import check_out, emit, load, method_names, set_threads

SUITES = ("clutter", "shapes")


def absent_questions(world: str, n: int, seed: int) -> list[Any]:
    """The absent-object questions among ``n`` held-out presence questions of ``world``.

    Presence is task 2 in both worlds, so stream ``seed * 100 + 2`` is the presence stream the other benches
    (``held_out_questions``) draw for the same ``seed``.
    """
    from xattr_lab import datasets

    make = getattr(datasets, world)
    return [s for s in make(n, seed=seed * 100 + 2, task="presence") if s.absent]


def diagnose(
    model: Any, samples: list[Any], methods: list[str], regions: str, search: str | None = None
) -> dict[str, Any]:
    """Generate, keep the wrong answers, explain "no" with each method and score the correction areas."""
    import xattr_lab
    from xattr_lab.metrics.hallucination import correction_area, hallucination_scores

    wrong = []
    for s in samples:
        gen = model.generate(s.image, s.prompt, max_new_tokens=2)
        if gen.text.split()[:1] != ["no"]:
            wrong.append(s)
    out: dict[str, Any] = {"absent": len(samples), "absent_wrong": len(wrong), "methods": {}}
    for m in methods:
        areas = []
        for s in wrong:
            e = xattr_lab.explain(model, s.image, s.prompt, method=m, regions=regions, search=search,
                                  target="no", progress=False, seed=s.seed, max_new_tokens=2)  # fmt: skip
            areas.append(correction_area(model, e, "no", max_new_tokens=2))
        out["methods"][m] = {**hallucination_scores(areas), "areas": [round(a, 4) for a in areas]} if areas else None
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(prog="xattr-lab bench hallucination", description=__doc__.split("\n")[0])
    p.add_argument("--suite", default="clutter", help=f"world: {', '.join(SUITES)}")
    p.add_argument("--model", default=None, help="default: toy-clutter-guided (clutter), toy-shapes (shapes)")
    p.add_argument("--n", type=int, default=50, help="presence questions (about half ask about absent objects)")
    p.add_argument("--seed", type=int, default=1, help="held-out stream (>= 1)")
    p.add_argument("--regions", default="slico:64")
    p.add_argument("--search", default=None, help="search for eagle/lima (default: the method's own)")
    p.add_argument("--methods", default="eagle,random")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.suite not in SUITES:
        p.error(f"--suite: expected one of {', '.join(SUITES)}, got {args.suite!r}")
    if args.n < 1:
        p.error("--n: expected a positive number of questions")
    if args.seed < 1:
        p.error("--seed: stream 0 is the training stream; use >= 1")
    try:
        methods = method_names(args.methods)
    except ValueError as err:
        p.error(f"--methods: {err}")
    check_out(args.out)
    set_threads(args.threads)
    name = args.model or {"clutter": "toy-clutter-guided", "shapes": "toy-shapes"}[args.suite]
    model = load(name)
    start = time.time()
    result = diagnose(model, absent_questions(args.suite, args.n, args.seed), methods, args.regions, args.search)
    command = (f"xattr-lab bench hallucination --suite {args.suite} --model {name} --n {args.n} --seed {args.seed}"
               f" --regions {args.regions} --methods {','.join(methods)}"
               + (f" --search {args.search}" if args.search else ""))  # fmt: skip
    emit({"suite": args.suite, "model": name, "n": args.n, "seed": args.seed, "regions": args.regions,
          "search": args.search or "default", **result,
          "seconds": round(time.time() - start, 1), "command": command}, args.out)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
