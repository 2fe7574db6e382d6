"""``xattr-lab demo`` (``make demo``): explain a ShapesVLM answer, print a faithfulness table, write a report.

The ShapesVLM answers a question about a held-out scene; EAGLE explains the answer, every other available
method (baselines registered by name, and random orders as the floor) explains the same answer on the same
regions, and all are scored on the same perturbation path. The EAGLE explanation is written as an offline
HTML report when the views are installed.

The table's ``forwards`` is ``Explanation.cost["n_forward"]``, the figure the CLI, the views and
``xattr_lab.compare`` show. AHS is shown only when it tells the methods apart (see ``_shows_ahs``).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

_FLOOR = "random"


def _shows_ahs(rows: list[dict[str, Any]]) -> bool:
    """Whether AHS tells the methods apart at the printed precision.

    AHS (the highest point of the mean insertion curve) is at least ``p(full image)``, the curve's last
    point, whatever the order. When the model is sure of its answer on the full image (the ShapesVLM is:
    every method, random included, reads 1.000), it is the same for every method and says nothing about
    the maps; the column is then left out and a note says why.
    """
    shown = {round(float(r["ahs"]), 3) for r in rows if np.isfinite(r["ahs"])}
    return len(shown) > 1


def _table(rows: list[dict[str, Any]]) -> str:
    width = max([len("method"), *(len(r["method"]) for r in rows)]) + 2  # integrated_gradients fits
    ahs = _shows_ahs(rows)
    head = f"{'method':<{width}}{'ins AUC ↑':>10}{'del AUC ↓':>10}"
    head += f"{'AHS ↑':>8}" if ahs else ""
    head += f"{'pointing':>10}{'forwards':>10}{'seconds':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = f"{r['method']:<{width}}{r['insertion_auc']:>10.3f}{r['deletion_auc']:>10.3f}"
        line += f"{r['ahs']:>8.3f}" if ahs else ""
        lines.append(line + f"{r['pointing']:>10}{r['forwards']:>10d}{r['seconds']:>9.2f}")
    if rows and not ahs:
        value = next((f"{r['ahs']:.3f}" for r in rows if np.isfinite(r["ahs"])), "n/a")
        lines.append(
            f"AHS not shown: {value} for every method. It is the highest point of the insertion curve, at least "
            "p(full image) whatever the order, so here it cannot tell the maps apart."
        )
    lines.append(
        "forwards: images the model was given per method (search or baseline, curves, own gradient passes); "
        "the generation is shared and not counted"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit status."""
    p = argparse.ArgumentParser(prog="xattr-lab demo", description=__doc__.split("\n")[0])
    p.add_argument("--scene", type=int, default=3, help="index of the held-out scene")
    p.add_argument("--task", default="colour", help="ShapesVLM task")
    p.add_argument("--search", default="greedy", choices=["greedy", "bidirectional", "efficient"])
    p.add_argument("--regions", default="slico:64")
    p.add_argument("--methods", default=None, help="comma-separated methods (default: all available)")
    p.add_argument("--out", default="demo-report.html", help="HTML report path ('' to skip)")
    args = p.parse_args([] if argv is None else argv)

    import xattr_lab
    from xattr_lab.attr.registry import get_method
    from xattr_lab.datasets import shapes
    from xattr_lab.metrics.localisation import pointing_game

    sample = list(shapes(args.scene + 1, seed=1, task=args.task))[-1]
    model = xattr_lab.load_model("toy-shapes")
    gen = model.generate(sample.image, sample.prompt, max_new_tokens=4)
    print(f"question: {sample.prompt}\nanswer:   {gen.text}   (expected: {sample.answer})\n")
    if args.methods:
        methods = args.methods.split(",")
    else:
        others = [m for m in xattr_lab.list_methods() if m not in ("eagle", "lima", _FLOOR)]
        methods = ["eagle", "lima", *others, _FLOOR]
    rows, eagle = [], None
    for name in methods:
        spec = get_method(name)
        if set(spec.needs) - set(getattr(model, "capabilities", ())):
            print(f"skipping {name}: the model lacks {sorted(set(spec.needs) - set(model.capabilities))}")
            continue
        start = time.perf_counter()
        try:
            e = xattr_lab.explain(
                model,
                sample.image,
                sample.prompt,
                method=name,
                regions=args.regions,
                search=(args.search if name == "eagle" else None) if spec.family == "search" else None,
                generation=gen,
                progress=None,
            )
        except (ValueError, TypeError, RuntimeError) as err:
            print(f"skipping {name}: {err}", file=sys.stderr)
            continue
        hit = (
            "-"
            if sample.target is None
            else ("hit" if pointing_game(e.pixel_map, sample.masks[sample.target]) else "miss")
        )
        rows.append(
            {
                "method": name,
                "insertion_auc": e.insertion_auc,
                "deletion_auc": e.deletion_auc,
                "ahs": e.metrics["ahs"],
                "pointing": hit,
                "forwards": int(e.cost["n_forward"]),
                "seconds": time.perf_counter() - start,
            }
        )
        if name == "eagle":
            eagle = e
    print(_table(rows))
    if eagle is not None and args.out:
        try:
            path = eagle.export_html(args.out)
            print(f"\nwrote the offline report of the EAGLE explanation: {path}")
        except RuntimeError as err:
            print(f"\nno HTML report: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
