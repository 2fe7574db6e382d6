"""``xattr-lab explain``: explain one answer of a model from the command line.

Example: ``xattr-lab explain --model toy-shapes --scene 7 --method eagle --search efficient --out e.xattr``
prints the Explanation's summary and metrics as JSON, and saves it (and an HTML report) when asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _image_and_prompt(args: argparse.Namespace) -> tuple[Any, str]:
    if args.image:
        import numpy as np
        from PIL import Image

        if not args.prompt:
            raise SystemExit("xattr-lab explain: --prompt is required with --image")
        return np.asarray(Image.open(args.image).convert("RGB")), args.prompt
    from xattr_lab.datasets.shapes import sample

    s = sample(args.scene, args.task)
    return s.image, args.prompt or s.prompt


def main(argv: list[str]) -> int:
    """Run ``xattr-lab explain``; returns the exit status."""
    p = argparse.ArgumentParser(prog="xattr-lab explain", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="toy-shapes", help="a load_model spec (default: the ShapesVLM)")
    p.add_argument("--image", default=None, help="image file (else a ShapesVLM scene)")
    p.add_argument("--scene", type=int, default=1_000_003, help="ShapesVLM scene seed when no --image")
    p.add_argument("--task", default="colour", help="ShapesVLM task of the scene")
    p.add_argument("--prompt", default=None)
    p.add_argument("--method", default="eagle")
    p.add_argument("--tokens", default="all", help="'all', 'word:<text>' or comma-separated positions")
    p.add_argument("--regions", default="slico:64")
    p.add_argument("--search", default=None, choices=["greedy", "bidirectional", "efficient"])
    p.add_argument("--early-stop", type=float, default=None)
    p.add_argument("--target", default=None, help="explain this answer instead of the generated one")
    p.add_argument("--out", default=None, help="save the Explanation to this directory")
    p.add_argument("--html", default=None, help="write an offline HTML report here")
    args = p.parse_args(argv)

    import xattr_lab

    tokens: Any = args.tokens
    if tokens not in ("all",) and not tokens.startswith("word:"):
        try:
            tokens = [int(t) for t in tokens.split(",")]
        except ValueError:
            p.error("--tokens: expected 'all', 'word:<text>' or comma-separated integers")
    image, prompt = _image_and_prompt(args)
    model = xattr_lab.load_model(args.model)
    params = {} if args.early_stop is None else {"early_stop": args.early_stop}
    try:
        e = xattr_lab.explain(
            model, image, prompt, args.method, tokens, args.regions, args.search, args.target, **params
        )
    except (ValueError, TypeError) as err:
        print(f"xattr-lab explain: {err}", file=sys.stderr)
        return 2
    print(repr(e), file=sys.stderr)
    print(json.dumps({"summary": repr(e), "answer": e.generation.text, "metrics": e.metrics, "cost": e.cost}))
    if args.out:
        e.save(args.out)
    if args.html:
        try:
            e.export_html(args.html)
        except RuntimeError as err:
            print(f"xattr-lab explain: no HTML report: {err}", file=sys.stderr)
    return 0
